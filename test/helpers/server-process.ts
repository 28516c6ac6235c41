import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const ENTRY = fileURLToPath(new URL('../../src/index.js', import.meta.url));
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export interface ServerProcess {
  port: number;
  /** The probe listener's port (PROBE_PORT set), else null. */
  probePort: number | null;
  proc: ChildProcess;
  /** Resolves the exit code once the process has exited. */
  exited: Promise<number | null>;
  /** Parsed JSON log lines seen so far. */
  logs: Array<Record<string, unknown>>;
  /** Raw stdout+stderr text seen so far. */
  output(): string;
  /** SIGTERM and wait for exit; resolves the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  url(path?: string): string;
}

/**
 * Start the real server (compiled entry point) on a random loopback port. `cwd` (default the
 * repository root) is where it reads `.env` and resolves relative paths.
 */
export async function startServer(env: Record<string, string> = {}, timeoutMs = 60_000, cwd = ROOT, launcher: string[] = []): Promise<ServerProcess> {
  // `launcher`: a command that execs the server (e.g. setpriv dropping a capability); same pid.
  const [cmd, ...args] = [...launcher, process.execPath, ENTRY];
  const proc = spawn(cmd!, args, {
    cwd,
    env: {
      PATH: process.env.PATH ?? '',
      SERVER_HOST: '127.0.0.1',
      SERVER_PORT: '0',
      INFERENCE_WORKERS: '1',
      LOG_LEVEL: 'info',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Array<Record<string, unknown>> = [];
  let text = '';
  let exitCode: number | null | undefined;
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => {
    exitCode = code;
    resolve(code);
  }));
  proc.stderr!.on('data', (d: Buffer) => {
    text += d.toString();
  });
  let probePort: number | null = null;
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL'); // a server that never listened must not outlive the test
      reject(new Error(`server did not start in ${timeoutMs} ms:\n${text}`));
    }, timeoutMs);
    createInterface({ input: proc.stdout! }).on('line', (line) => {
      text += line + '\n';
      try {
        const entry = JSON.parse(line) as Record<string, unknown>;
        logs.push(entry);
        if (entry.msg === 'listening') {
          clearTimeout(timer);
          probePort = typeof entry.probePort === 'number' ? entry.probePort : null;
          resolve(entry.port as number);
        }
      } catch {
        // not a log line
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} before listening:\n${text}`));
    });
  });
  return {
    port,
    probePort,
    proc,
    exited,
    logs,
    output: () => text,
    url: (path = '/ws') => `ws://127.0.0.1:${port}${path}`,
    async stop(signal = 'SIGTERM') {
      if (exitCode !== undefined) return exitCode;
      proc.kill(signal);
      const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}
