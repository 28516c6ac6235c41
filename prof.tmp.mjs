// Profile the server's main thread under 64 speaking sessions (temporary; not committed).
import { LoadGenerator } from './dist/bench/load-driver.js';
import { startServer } from './dist/test/helpers/server-process.js';
const gen = await LoadGenerator.start();
const server = await startServer({ AGENT_TYPE: 'remote', AGENT_URL: gen.agentUrl, RATE_LIMIT_CONNECTIONS_BURST: '1000000', RATE_LIMIT_CONNECTIONS_PER_S: '1000000', RATE_LIMIT_ADDRESS_CONNECTIONS_BURST: '1000000', RATE_LIMIT_ADDRESS_CONNECTIONS_PER_S: '1000000', MAX_SESSIONS: '100000', NODE_OPTIONS: '--cpu-prof --cpu-prof-dir=/tmp/prof', LOG_LEVEL: 'info' });
const r = await gen.runStep({ serverUrl: server.url('/ws'), sessions: Number(process.argv[2] ?? 64), turns: 3, turnAudioS: 4, agentSpeed: 0, interruptAfterMs: 0, staggerMs: 1000, leadFrames: 2, timeoutMs: 120000 }, () => {});
console.log('turns', r.turnsComplete, '/', r.turnsMeasured, 'frames', r.framesReceived);
await server.stop('SIGINT');
await gen.stop();
