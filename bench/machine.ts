import { execFileSync } from 'node:child_process';
import { cpus, loadavg, totalmem, availableParallelism } from 'node:os';
import { existsSync, readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { REPO_ROOT, serverConfig } from './options.js';

/** What the numbers were measured on, so runs can be compared honestly. */
export interface MachineInfo {
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  node: string;
  platform: string;
  gitCommit: string | null;
  gitDirty: boolean | null;
  /** 1/5/15-minute load averages when the bench started: other work on the host skews numbers. */
  loadAverageAtStart: number[];
  startedAt: string;
}

export function machineInfo(): MachineInfo {
  let gitCommit: string | null = null;
  let gitDirty: boolean | null = null;
  try {
    gitCommit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO_ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    gitDirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: REPO_ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() !== '';
  } catch {
    // not a git checkout (e.g. a Docker image): fine
  }
  return {
    cpuModel: cpus()[0]?.model ?? 'unknown',
    cores: availableParallelism(),
    memoryGiB: +(totalmem() / 2 ** 30).toFixed(1),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    gitCommit,
    gitDirty,
    loadAverageAtStart: loadavg().map((v) => +v.toFixed(2)),
    startedAt: new Date().toISOString(),
  };
}

export interface ModelUnderTest {
  /** Short label for tables: the file name. */
  name: string;
  path: string;
  /** Why it is benched: the configured one, and every other model shipped in pretrained_models/. */
  role: 'configured' | 'shipped';
}

/**
 * The configured model (ONNX_MODEL_PATH or the server's own default, so the report names the model
 * the server under test really loads), plus every other shipped model.
 */
export function modelsToBench(env: NodeJS.ProcessEnv = process.env): ModelUnderTest[] {
  const configured = serverConfig(env).onnxModelPath;
  const models: ModelUnderTest[] = [{ name: configured.split('/').pop()!, path: configured, role: 'configured' }];
  const dir = resolve(REPO_ROOT, 'pretrained_models');
  if (existsSync(dir)) {
    for (const f of readdirSync(dir).sort()) {
      const path = resolve(dir, f);
      if (f.endsWith('.onnx') && path !== configured) models.push({ name: f, path, role: 'shipped' });
    }
  }
  return models.filter((m) => existsSync(m.path));
}
