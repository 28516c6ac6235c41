import t from 'tap';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../src/config/config.js';
import { readOpenAISettings } from '../src/agents/openai/settings.js';
import { readGeminiSettings } from '../src/agents/gemini/settings.js';
import { readLocalSettings } from '../src/agents/local/settings.js';
import { readOpenClawSettings } from '../src/agents/openclaw/settings.js';
import { readZeroClawSettings } from '../src/agents/zeroclaw/settings.js';
import { readVoiceSettings } from '../src/agents/voice/settings.js';
import { REFERENCE_DEFAULTS } from './helpers/reference-env.js';

// .env.example documents every variable at its default. Checked here: it names every variable of
// the README's configuration table and of the reference's, and its values ARE the defaults (all
// lines uncommented configure exactly what an empty environment does).
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const example = readFileSync(`${ROOT}.env.example`, 'utf8');
const documented = new Map([...example.matchAll(/^# ([A-Z][A-Z0-9_]+)=(.*)$/gm)].map((m) => [m[1]!, m[2]!]));
const KEYS = { OPENAI_API_KEY: 'sk-test', GEMINI_API_KEY: 'test-key', OPENCLAW_API_TOKEN: 'test-token' };

t.test('names every variable of the README table and of the reference configuration', async (t) => {
  const readme = readFileSync(`${ROOT}README.md`, 'utf8');
  const table = readme.slice(readme.indexOf('## Configuration'), readme.indexOf('\n## ', readme.indexOf('## Configuration') + 5));
  // The first cell of each row: one or more `NAME`s (a `_SUFFIX` shorthand is not a name).
  const firstCells = [...table.matchAll(/^\| ([^|]+) \|/gm)].map((m) => m[1]!);
  const names = new Set(firstCells.flatMap((cell) => [...cell.matchAll(/`([A-Z][A-Z0-9_]+)`/g)].map((m) => m[1]!)));
  t.ok(names.size > 30, `${names.size} variables in the README table`);
  for (const name of [...names, ...Object.keys(REFERENCE_DEFAULTS)]) t.ok(documented.has(name), `${name} in .env.example`);
});

t.test('its values are the defaults', async (t) => {
  const all = Object.fromEntries(documented);
  const { env: _e1, warnings: _w1, ...fromExample } = loadConfig(all);
  const { env: _e2, warnings: _w2, ...fromNothing } = loadConfig({});
  t.same(fromExample, fromNothing, 'server settings');
  const { warnings: _w3, ...openai } = readOpenAISettings({ ...all, ...KEYS });
  const { warnings: _w4, ...openaiDefaults } = readOpenAISettings(KEYS);
  t.same(openai, openaiDefaults, 'OpenAI settings');
  t.same(readGeminiSettings({ ...all, ...KEYS }), readGeminiSettings(KEYS), 'Gemini settings');
  t.same(readLocalSettings(all), readLocalSettings({}), 'local agent settings');
  t.same(readOpenClawSettings({ ...all, ...KEYS }), readOpenClawSettings(KEYS), 'OpenClaw settings');
  t.same(readZeroClawSettings(all), readZeroClawSettings({}), 'ZeroClaw settings');
  for (const prefix of ['OPENCLAW', 'ZEROCLAW'] as const) {
    t.same(readVoiceSettings(all, prefix), readVoiceSettings({}, prefix), `voice settings (${prefix})`);
    const prefixed = Object.fromEntries([...documented].filter(([k]) => /^(STT|TTS)_/.test(k)).map(([k, v]) => [`${prefix}_${k}`, v]));
    t.same(readVoiceSettings(prefixed, prefix), readVoiceSettings({}, prefix), `voice settings, ${prefix}_ names`);
  }
});
