import t from 'tap';
import { spawn, execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, symlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';

// No Docker engine on our machines: check what can be checked without one. The production stage's
// files, ENV, CMD and HEALTHCHECK, assembled as the stage would, must start a healthy server.
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8').replace(/\\\n\s*/g, '');
const stage = dockerfile.split(/^FROM /m).find((s) => /^\S+ AS production/.test(s))!;

t.ok(stage, 'a production stage');
t.match(dockerfile, /^FROM node:20-bookworm-slim AS build/m, 'multi-stage on node:20-bookworm-slim');
t.match(stage, /^FROM|node:20-bookworm-slim/);
t.match(stage, /^USER node$/m, 'runs as a non-root user');

const copies = [...stage.matchAll(/^COPY (?:--\S+ )*(\S+) (\S+)$/gm)].map((m) => {
  const from = m[1]!.replace(/^\/app\//, '');
  const to = m[2]!.replace(/^\.\//, '');
  return { from, to: to === '' || to.endsWith('/') ? to + from.split('/').pop() : to };
});
const env = Object.fromEntries([...stage.matchAll(/^ENV (.+)$/gm)].flatMap((m) => m[1]!.split(/\s+/).map((kv) => kv.split('=') as [string, string])));
const cmd = JSON.parse(/^CMD (\[.+\])$/m.exec(stage)![1]!) as string[];
const health = /HEALTHCHECK .*?CMD (.+)$/m.exec(stage)![1]!;

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

t.test('the production stage, assembled outside Docker, starts and passes its HEALTHCHECK', async (t) => {
  const app = mkdtempSync(join(tmpdir(), 'stage-'));
  for (const { from, to } of copies) {
    // node_modules is the build stage's; linking ours keeps the test fast.
    if (from === 'node_modules') symlinkSync(join(ROOT, 'node_modules'), join(app, to));
    else cpSync(join(ROOT, from), join(app, to), { recursive: true });
  }
  t.same(copies.map((c) => c.to).sort(), ['dist', 'node_modules', 'package.json', 'pretrained_models', 'public'].sort(), 'the files the image holds');
  const port = String(await freePort());
  const proc = spawn(cmd[0] === 'node' ? process.execPath : cmd[0]!, cmd.slice(1), { cwd: app, env: { PATH: process.env.PATH ?? '', ...env, SERVER_PORT: port, INFERENCE_WORKERS: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => proc.kill('SIGKILL'));
  await new Promise<void>((resolve, reject) => {
    let out = '';
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('"msg":"listening"')) resolve();
    });
    proc.once('exit', (code) => reject(new Error(`exited ${code}: ${out}`)));
  });
  const [bin, ...args] = health.match(/"[^"]*"|\S+/g)!.map((a) => a.replace(/^"|"$/g, ''));
  t.equal(bin, 'node');
  execFileSync(process.execPath, args, { env: { ...env, SERVER_PORT: port }, timeout: 5000 });
  t.pass('HEALTHCHECK command exits 0');
  proc.kill('SIGTERM');
  const code = await new Promise((r) => proc.once('exit', r));
  t.equal(code, 0, 'SIGTERM → exit 0');
});
