import t from 'tap';
import { testReferenceEnvStart } from './helpers/reference-env.js';

// The reference `.env` at its defaults (see reference-env.test.ts) with the agents that connect
// per session: none is contacted at start; remote points at a closed loopback port.
testReferenceEnvStart(t, 'sample_openai');
testReferenceEnvStart(t, 'sample_gemini');
testReferenceEnvStart(t, 'remote', { AGENT_URL: 'ws://127.0.0.1:9/ws' });
