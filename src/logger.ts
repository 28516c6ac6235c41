import pino, { type Logger } from 'pino';

/**
 * JSON logs (pino). Secrets never reach a log line: the config object is never logged whole,
 * and the paths below are censored wherever they appear.
 */
export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { pid: process.pid },
    redact: {
      paths: ['apiKey', '*.apiKey', 'token', '*.token', 'secret', '*.secret', 'authorization', '*.authorization', 'headers.authorization', 'env'],
      censor: '[redacted]',
    },
  });
}
