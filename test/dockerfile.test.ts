import t from 'tap';
import { spawn, execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, symlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, relative } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { AUTO_REALTIME_PRIORITY } from '../src/server/realtime-priority.js';

// No Docker engine on our machines: check what can be checked without one. The production stage's
// files, ENV, CMD and HEALTHCHECK, assembled as the stage would, must start a healthy server.
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8').replace(/\\\n\s*/g, '');
const stage = dockerfile.split(/^FROM /m).find((s) => /^\S+ AS production/.test(s))!;

t.ok(stage, 'a production stage');
t.match(dockerfile, /^FROM node:20-bookworm-slim AS build/m, 'multi-stage on node:20-bookworm-slim');
t.match(stage, /^FROM|node:20-bookworm-slim/);
t.match(stage, /^USER node$/m, 'runs as a non-root user');

const copies = [...stage.matchAll(/^COPY ((?:--\S+ )*)(\S+) (\S+)$/gm)].map((m) => {
  const from = m[2]!.replace(/^\/app\//, '');
  const to = m[3]!.replace(/^\.\//, '');
  return { from, to: to === '' || to.endsWith('/') ? to + from.split('/').pop() : to, fromBuildStage: m[1]!.includes('--from=') };
});
const env = Object.fromEntries([...stage.matchAll(/^ENV (.+)$/gm)].flatMap((m) => m[1]!.split(/\s+/).map((kv) => kv.split('=') as [string, string])));
const cmd = JSON.parse(/^CMD (\[.+\])$/m.exec(stage)![1]!) as string[];
const health = /HEALTHCHECK .*?CMD (.+)$/m.exec(stage)![1]!;

/**
 * `.dockerignore` as the builder reads it (the subset of its syntax we use: `*`, `**`, `!`, the
 * last matching line wins; a pattern matching a folder excludes what is under it).
 */
const ignoreRules = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#')).map((line) => {
  const negate = line.startsWith('!');
  const glob = (negate ? line.slice(1) : line).replace(/^\/|\/$/g, '');
  const re = glob.split('/').map((part) => (part === '**' ? '(?:.+/)?' : part.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]') + '/')).join('');
  return { negate, re: new RegExp(`^${re.replace(/\/$/, '')}(?:/|$)`) };
});
function dockerIgnored(path: string): boolean {
  let ignored = false;
  for (const rule of ignoreRules) if (rule.re.test(path)) ignored = !rule.negate;
  return ignored;
}

t.test('.dockerignore keeps the build context to what the Dockerfile copies', async (t) => {
  const fromContext = [...dockerfile.matchAll(/^COPY (?!--from)(?:--\S+ )*(.+) \S+$/gm)].flatMap((m) => m[1]!.split(/\s+/));
  t.ok(fromContext.length >= 5, `context copies: ${fromContext.join(' ')}`);
  for (const path of fromContext) t.notOk(dockerIgnored(path.replace(/^\.\//, '')), `${path} reaches the build`);
  t.notOk(dockerIgnored('pretrained_models/lipsync-small.onnx'), 'the shipped model reaches the image');
  for (const path of ['node_modules', 'node_modules/onnxruntime-node/package.json', 'training/node_modules/x', 'dist/src/index.js', '.git/HEAD', '.env', '.env.local', 'training/data/clip.wav', 'test-artifacts/a.png', '.tap/x', 'captures/a.wav', 'bench/results/r.json', 'pretrained_models/wav2arkit_cpu.onnx', 'pretrained_models/wav2arkit_cpu.onnx.data']) {
    t.ok(dockerIgnored(path), `${path} stays out of the build context`);
  }
  t.notOk(dockerIgnored('.env.example'), '.env.example is kept');
});

/** The services of docker-compose.yml, each as its own block of text (no YAML library needed for these checks). */
const compose = readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8');
const services = Object.fromEntries(
  compose.split(/^services:\n/m)[1]!.split(/^(?=  \S)/m).filter((b) => b.trim()).map((block) => [/^  ([\w-]+):/.exec(block)![1]!, block]),
);

t.test('docker compose up -d starts the production service; --profile dev adds development', async (t) => {
  const withoutProfile = Object.entries(services).filter(([, b]) => !/^    profiles:/m.test(b)).map(([name]) => name);
  t.same(withoutProfile, ['avatar'], 'exactly one service starts with no profile');
  t.match(services.avatar, /target: production/, 'built from the production stage');
  t.match(dockerfile, /^FROM \S+ AS production$/m);
  t.match(services.avatar, /restart: unless-stopped/);
  // REALTIME_PRIORITY=auto asks for priority 10: the hint names the limit that lets the non-root server set it.
  t.match(services.avatar, new RegExp(`^    # ulimits: \\{ rtprio: ${AUTO_REALTIME_PRIORITY} \\}$`, 'm'), 'RLIMIT_RTPRIO hint for the real-time threads');
  t.match(services.avatar, /env_file: \{ path: \.env, required: false \}/, 'reads .env when there is one');
  t.match(services['avatar-dev'], /^    profiles: \[dev\]$/m, 'development under --profile dev, as in the reference');
  const hostPort = (b: string) => /ports: \["\$\{(\w+):-(\d+)\}:8080"\]/.exec(b)?.slice(1);
  const prod = hostPort(services.avatar!);
  const dev = hostPort(services['avatar-dev']!);
  t.same(prod, ['SERVER_PORT', '8080'], 'host port from SERVER_PORT, 8080 by default');
  t.ok(dev && dev[1] !== prod?.[1], 'the dev service does not take the production port when both run');
});

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
  for (const { from, to, fromBuildStage } of copies) {
    // node_modules is the build stage's; linking ours keeps the test fast.
    if (from === 'node_modules') symlinkSync(join(ROOT, 'node_modules'), join(app, to));
    // What the build stage made (dist) is ours as built; what comes from the context passes .dockerignore.
    else cpSync(join(ROOT, from), join(app, to), { recursive: true, filter: (src) => fromBuildStage || !dockerIgnored(relative(ROOT, src)) });
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
  // Generous: this checks that the command exits 0, not how fast it starts on a loaded machine.
  execFileSync(process.execPath, args, { env: { ...env, SERVER_PORT: port }, timeout: 60_000 });
  t.pass('HEALTHCHECK command exits 0');
  proc.kill('SIGTERM');
  const code = await new Promise((r) => proc.once('exit', r));
  t.equal(code, 0, 'SIGTERM → exit 0');
});
