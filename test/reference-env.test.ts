import t from 'tap';
import { testReferenceEnvStart } from './helpers/reference-env.js';

// A user of the Python reference server keeps their `.env` and changes only the command. Here
// that `.env` holds every variable of the reference's configuration table at its documented
// default (README "Optional Settings" + the two API keys + the compose default for the knowledge
// base), once per AGENT_TYPE. The server must start, warn about what it does not apply, and serve
// /health. This file: the agents that run on this machine; reference-env-cloud.test.ts: the cloud
// and remote agents.
testReferenceEnvStart(t, 'offline');
testReferenceEnvStart(t, 'local');
