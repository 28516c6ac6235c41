import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SHIPPED = fileURLToPath(new URL('../../../deploy/haproxy/haproxy.cfg', import.meta.url));

export interface Backend {
  port: number;
  probePort: number;
}

/**
 * The shipped deploy/haproxy/haproxy.cfg with only what a test on loopback must change: the
 * frontend's bind address, the runtime socket's path and the server lines (address, port, check
 * port). Throws if the shipped file no longer has the lines it replaces, so the test cannot
 * silently run another configuration.
 */
export function templateConfig(shipped: string, o: { port: number; socket: string; servers: Backend[] }): string {
  const replace = (text: string, pattern: RegExp, by: string): string => {
    if (!pattern.test(text)) throw new Error(`shipped haproxy.cfg has no line matching ${pattern}`);
    return text.replace(pattern, by);
  };
  let cfg = replace(shipped, /^(\s*)bind :80$/m, `$1bind 127.0.0.1:${o.port}`);
  cfg = replace(cfg, /^(\s*stats socket )\/run\/haproxy\/admin\.sock /m, `$1${o.socket} `);
  const lines = o.servers.map((s, i) => `    server avatar${i + 1} 127.0.0.1:${s.port} port ${s.probePort}`).join('\n');
  cfg = replace(cfg, /^(\s*server avatar\d+ \S+\n?)+/m, `${lines}\n`);
  return cfg;
}

/** Debian's haproxy running the shipped configuration in the foreground, with its runtime API. */
export class Haproxy {
  private output = '';

  private constructor(readonly port: number, private readonly socket: string, private readonly dir: string, private readonly proc: ChildProcess) {
    proc.stdout!.on('data', (d: Buffer) => (this.output += d.toString()));
    proc.stderr!.on('data', (d: Buffer) => (this.output += d.toString()));
  }

  static async start(servers: Backend[]): Promise<Haproxy> {
    const version = spawnSync('haproxy', ['-v'], { encoding: 'utf8' });
    if (version.error || version.status !== 0) throw new Error('haproxy is not installed (apt-get install haproxy; .ci/run installs it)');
    const dir = mkdtempSync(join(tmpdir(), 'fleet-haproxy-'));
    const socket = join(dir, 'admin.sock');
    const port = await freePort();
    const file = join(dir, 'haproxy.cfg');
    writeFileSync(file, templateConfig(readFileSync(SHIPPED, 'utf8'), { port, socket, servers }));
    const check = spawnSync('haproxy', ['-c', '-f', file], { encoding: 'utf8' });
    if (check.status !== 0) throw new Error(`haproxy -c refused the configuration:\n${check.stdout}${check.stderr}`);
    const proc = spawn('haproxy', ['-db', '-f', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    const h = new Haproxy(port, socket, dir, proc);
    await h.until(async () => (await h.serverStatus()).size === servers.length, 'its runtime API', 20_000);
    return h;
  }

  /** What haproxy printed (its log goes to stdout). */
  get log(): string {
    return this.output;
  }

  get url(): string {
    return `ws://127.0.0.1:${this.port}`;
  }

  /** One runtime-API command's answer. */
  command(cmd: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const s = connect(this.socket, () => s.end(`${cmd}\n`));
      let text = '';
      s.on('data', (d) => (text += d.toString()));
      s.on('end', () => resolve(text));
      s.on('error', reject);
    });
  }

  /** One `show stat` column for each server of `backend avatar` (status: UP, DOWN, …; scur: open connections). */
  async serverStat(column = 'status'): Promise<Map<string, string>> {
    const csv = await this.command('show stat').catch(() => '');
    const [header, ...rows] = csv.split('\n');
    if (!header?.startsWith('# ')) return new Map();
    const cols = header.slice(2).split(',');
    const [px, sv, col] = ['pxname', 'svname', column].map((c) => cols.indexOf(c)) as [number, number, number];
    return new Map(rows.map((r) => r.split(',')).filter((r) => r[px] === 'avatar' && /^avatar\d+$/.test(r[sv] ?? '')).map((r) => [r[sv]!, r[col]!]));
  }

  serverStatus(): Promise<Map<string, string>> {
    return this.serverStat('status');
  }

  /** Wait until HAProxy counts these open connections to these servers. */
  async waitConnections(expected: Record<string, number>, timeoutMs = 20_000): Promise<void> {
    await this.until(async () => {
      const now = await this.serverStat('scur');
      return Object.entries(expected).every(([name, n]) => now.get(name) === String(n));
    }, `open connections ${JSON.stringify(expected)}`, timeoutMs);
  }

  /** Wait until HAProxy reports these servers in these states (as its checks see them). */
  async waitStatus(expected: Record<string, 'UP' | 'DOWN'>, timeoutMs = 30_000): Promise<void> {
    await this.until(async () => {
      const now = await this.serverStatus();
      return Object.entries(expected).every(([name, st]) => now.get(name) === st);
    }, `server states ${JSON.stringify(expected)}`, timeoutMs);
  }

  /** Poll the runtime API (HAProxy reports no events) until `probe` holds. */
  private async until(probe: () => Promise<boolean>, what: string, timeoutMs: number): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (!(await probe())) {
      if (this.proc.exitCode !== null) throw new Error(`haproxy exited (${this.proc.exitCode}):\n${this.output}`);
      if (performance.now() > deadline) throw new Error(`haproxy: timed out waiting for ${what}; now ${JSON.stringify([...(await this.serverStatus())])}\n${this.output.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async stop(): Promise<void> {
    if (this.proc.exitCode === null) {
      const exited = new Promise((r) => this.proc.once('exit', r));
      this.proc.kill('SIGTERM');
      await exited;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}
