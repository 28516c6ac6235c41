import { mkdirSync, readFileSync } from 'node:fs';
import { ConfigError, loadConfig } from './config/config.js';
import { createLogger } from './logger.js';
import { InferencePool } from './inference/pool.js';
import { AvatarServer } from './server/server.js';
import { uwsIsNative } from './server/uws.js';
import { createAgentFactory } from './agents/registry.js';
import { readFleetSettings } from './server/readiness.js';
import { startProbeListener } from './server/probe.js';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`configuration error: ${err.message}\n`);
      process.exit(78);
    }
    throw err;
  }
  // Checked before anything starts: a bad PROBE_PORT / READY_MAX_UTILISATION stops the server at once.
  const fleet = readFleetSettings(config);
  const logger = createLogger(config.logLevel);
  for (const w of config.warnings) logger.warn({ variable: w.variable }, w.message);
  // The effective settings, for DEBUG: never the raw environment or the auth key.
  const { env: _env, auth, ...settings } = config;
  logger.debug({ settings: { ...settings, auth: { ...auth, secretKey: auth.secretKey ? '[set]' : null } } }, 'configuration');
  if (config.debugAudioCaptureDir) {
    mkdirSync(config.debugAudioCaptureDir, { recursive: true });
    logger.warn({ dir: config.debugAudioCaptureDir }, 'DEBUG_AUDIO_CAPTURE is on: every session\'s audio is written to disk');
  }
  if (uwsIsNative) logger.info('uWebSockets.js: native binary loaded');
  else logger.warn('uWebSockets.js: native binary NOT loaded, running the slow pure-JS fallback (use Node 20)');

  const pool = new InferencePool({ modelPath: config.onnxModelPath, workers: config.inferenceWorkers, faultInjection: config.inferenceFaultInjection, taskTimeoutMs: config.inferenceTaskTimeoutMs, queue: config.inferenceScheduler, taskWindows: config.inferenceTaskWindows, logger });
  await pool.start();
  const agents = await createAgentFactory(config, logger);
  const server = new AvatarServer({ config, logger, pool, createAgent: agents.create, version: pkg.version });
  const port = await server.listen();
  const probe = fleet.probePort === null ? null : await startProbeListener(server.readiness, fleet.probeHost, fleet.probePort);
  logger.info({ host: config.host, port, probePort: probe?.port, agentType: config.agentType, model: config.onnxModelPath, workers: config.inferenceWorkers }, 'listening');

  let stopping = false;
  const shutdown = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    // Draining: /ready answers 503 at once (the probe port stays up until exit), no new session
    // is accepted, playing turns get SHUTDOWN_GRACE_MS to finish, then every session closes 1001.
    logger.info({ signal, graceMs: config.shutdownGraceMs }, 'shutting down');
    await server.close(config.shutdownGraceMs);
    await agents.close();
    await pool.close();
    await probe?.close();
    logger.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError) {
    process.stderr.write(`configuration error: ${err.message}\n`);
    process.exit(78);
  }
  process.stderr.write(`fatal: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
