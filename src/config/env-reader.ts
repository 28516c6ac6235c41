import { ConfigError } from './config-error.js';

type Env = Readonly<Record<string, string | undefined>>;

/** Small validated readers over `config.env`; each error names its variable. */
export class EnvReader {
  constructor(private readonly env: Env) {}

  /** Trimmed value, or undefined when unset or blank. The first name set wins (aliases). */
  raw(...names: string[]): { name: string; value: string } | undefined {
    for (const name of names) {
      const v = this.env[name]?.trim();
      if (v) return { name, value: v };
    }
    return undefined;
  }

  /** Present but empty (`NAME=` in a `.env`): some reference settings mean "off" by that. */
  isSetEmpty(name: string): boolean {
    const v = this.env[name];
    return v !== undefined && v.trim() === '';
  }

  str(name: string, fallback: string, ...aliases: string[]): string {
    return this.raw(name, ...aliases)?.value ?? fallback;
  }

  optStr(name: string, ...aliases: string[]): string | undefined {
    return this.raw(name, ...aliases)?.value;
  }

  required(name: string, why: string): string {
    const v = this.raw(name);
    if (!v) throw new ConfigError(name, why);
    return v.value;
  }

  num(name: string, opts: { min: number; max: number; integer?: boolean }, ...aliases: string[]): number | undefined {
    const r = this.raw(name, ...aliases);
    if (!r) return undefined;
    const v = Number(r.value);
    // Never echo the value back: a misplaced secret must not reach the logs through an error.
    if (!Number.isFinite(v)) throw new ConfigError(r.name, 'expected a number');
    if (opts.integer && !Number.isInteger(v)) throw new ConfigError(r.name, 'expected an integer');
    if (v < opts.min || v > opts.max) throw new ConfigError(r.name, `must be between ${opts.min} and ${opts.max}, got ${v}`);
    return v;
  }

  /** A number, or `fallback` when unset. */
  numOr(name: string, fallback: number, opts: { min: number; max: number; integer?: boolean }, ...aliases: string[]): number {
    return this.num(name, opts, ...aliases) ?? fallback;
  }

  bool(name: string, fallback: boolean, ...aliases: string[]): boolean {
    const r = this.raw(name, ...aliases);
    if (!r) return fallback;
    const v = r.value.toLowerCase();
    if (['1', 'true', 'yes', 'on'].includes(v)) return true;
    if (['0', 'false', 'no', 'off'].includes(v)) return false;
    throw new ConfigError(r.name, 'expected true or false');
  }

  /** One of `allowed` (case-insensitive; returned as written in `allowed`). */
  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T, ...aliases: string[]): T;
  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: undefined, ...aliases: string[]): T | undefined;
  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T | undefined, ...aliases: string[]): T | undefined {
    const r = this.raw(name, ...aliases);
    if (!r) return fallback;
    const hit = allowed.find((a) => a.toLowerCase() === r.value.toLowerCase());
    if (!hit) throw new ConfigError(r.name, `expected one of ${allowed.join(', ')}`);
    return hit;
  }

  /** A URL setting: http(s) or ws(s) only. */
  url(name: string): string | undefined {
    const r = this.raw(name);
    if (!r) return undefined;
    let u: URL;
    try {
      u = new URL(r.value);
    } catch {
      throw new ConfigError(name, 'expected an absolute URL');
    }
    if (!['http:', 'https:', 'ws:', 'wss:'].includes(u.protocol)) throw new ConfigError(name, 'expected an http(s):// or ws(s):// URL');
    return r.value;
  }
}
