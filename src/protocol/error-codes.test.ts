import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ERROR_CODES, agentErrorCode } from './error-codes.js';

/** Tests run from dist/src/protocol; the sources are in the repository's src/ and workers/. */
const root = fileURLToPath(new URL('../../../', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sources(path);
    return e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') ? [path] : [];
  });
}

const CODE = `'([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*)'`;
/** Where a code is sent or named as one. */
const SENT = [
  new RegExp(`\\bcode\\s*[:=]\\s*${CODE}`, 'g'), // { code: 'X' }, readonly code = 'X'
  new RegExp(`\\b\\w+Code\\s*(?::|\\?\\?)\\s*${CODE}`, 'g'), // errorCode: 'X', failedCode ?? 'X'
  new RegExp(`\\b(?:sendError|UpstreamError|museTalkError|this\\.error)\\((?:[^']*?,\\s*)?${CODE}`, 'g'),
  new RegExp(`\\bcode\\b[^;\\n]*?[?:]\\s*${CODE}`, 'g'), // code === 'A' ? 'A' : 'B', ok ? code : 'X'
  /\b\w*ErrorCode\.([A-Z][A-Z0-9_]*)/g, // ErrorCode.X, FrameStreamErrorCode.X
];

function sentCodes(): Map<string, string> {
  const found = new Map<string, string>();
  for (const file of [...sources(join(root, 'src')), ...sources(join(root, 'workers'))]) {
    const text = readFileSync(file, 'utf8');
    for (const re of SENT) {
      for (const m of text.matchAll(re)) {
        const at = `${relative(root, file)}:${text.slice(0, m.index).split('\n').length}`;
        if (!found.has(m[1]!)) found.set(m[1]!, at);
      }
    }
  }
  return found;
}

t.test('every code the sources send is in error-codes.ts, and every code there is sent', async (t) => {
  const sent = sentCodes();
  t.ok(sent.size >= 30, `the scan finds the sent codes (${sent.size})`);
  const known = new Set<string>(ERROR_CODES);
  for (const [code, at] of sent) t.ok(known.has(code), `${code} (${at}) is in src/protocol/error-codes.ts`);
  for (const code of ERROR_CODES) t.ok(sent.has(code), `${code} is sent somewhere (else remove it)`);
});

t.test("the README's error-code table lists exactly the module's codes", async (t) => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const start = readme.indexOf('Errors on the WebSocket are');
  t.ok(start >= 0, 'the README has the error-code section');
  const lines = readme.slice(start).split('\n');
  const header = lines.findIndex((l) => l.startsWith('| code |'));
  t.ok(header > 0, 'with a table');
  const end = lines.findIndex((l, i) => i > header && !l.startsWith('|'));
  const rows = lines.slice(header + 2, end);
  const listed = rows.flatMap((r) => [...r.split('|')[1]!.matchAll(/`([A-Z0-9_]+)`/g)].map((m) => m[1]!));
  t.same([...listed].sort(), [...ERROR_CODES].sort());
});

t.test("an agent's code: ours as it is, another in our shape relayed, anything else AGENT_ERROR", async (t) => {
  t.equal(agentErrorCode('TTS_FAILED'), 'TTS_FAILED');
  t.equal(agentErrorCode('QUOTA_EXCEEDED'), 'QUOTA_EXCEEDED');
  t.equal(agentErrorCode(''), 'AGENT_ERROR');
  t.equal(agentErrorCode('bad code'), 'AGENT_ERROR');
  t.equal(agentErrorCode(`A${'B'.repeat(64)}`), 'AGENT_ERROR');
});
