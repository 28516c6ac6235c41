/**
 * Deterministic fuzz input for the agent protocols we speak (remote, OpenAI Realtime, Gemini Live,
 * OpenClaw, ZeroClaw): everything an agent sends is untrusted, so a fake agent replays these at
 * the server and the test checks that nothing crashes, leaks or stalls.
 *
 * API (all of it):
 *   fuzzMessages(samples, options): Generator<FuzzMessage>
 *     samples  a few well-formed messages of the protocol, as parsed JSON objects (e.g. one
 *              `audio_delta`, one `transcript_delta`, one `error`). Nested objects/arrays are walked.
 *     options  { seed, count, maxStringBytes?, base64Fields? }
 *              seed           same seed + same samples → the same sequence, byte for byte
 *              count          how many messages to yield
 *              maxStringBytes largest "huge" string (default 1 MiB); keep it small for fast tests
 *              base64Fields   names of fields that carry base64 audio (default: guessed from the
 *                             samples, a long string of base64 alphabet only)
 *     FuzzMessage { kind, note, data }: `data` is a string (send as a text frame) or a Buffer
 *              (send as a binary frame); `kind` is one of FUZZ_KINDS; `note` says what was done.
 *   seededRandom(seed): () => number   the PRNG used (mulberry32, [0, 1)), for tests that need more.
 *   FUZZ_KINDS                         every kind, in the order they are cycled through.
 *
 * Kinds are cycled round-robin (well-formed ones twice per cycle), so any `count` ≥ 2 ×
 * FUZZ_KINDS.length covers every kind; which sample, field and hostile value is picked is random.
 * Values include wrong types (numbers, arrays, null, booleans), objects with toString/valueOf/
 * toJSON traps, `__proto__`/`constructor` keys, huge strings and numbers (1e400 → Infinity),
 * NaN-ish strings, lone surrogates, deep nesting (up to 100,000 levels), text that is not base64
 * where base64 is expected, and base64 of an odd number of PCM bytes.
 */

export const FUZZ_KINDS = [
  'well-formed',
  'wrong-type',
  'missing-field',
  'extra-field',
  'unknown-type',
  'huge-value',
  'not-json',
  'non-object-json',
  'truncated-json',
  'binary',
  'deep-nesting',
  'bad-base64',
  'odd-pcm',
] as const;

export type FuzzKind = (typeof FUZZ_KINDS)[number];

export interface FuzzMessage {
  kind: FuzzKind;
  note: string;
  /** A string goes out as a text frame, a Buffer as a binary frame. */
  data: string | Buffer;
}

export interface FuzzOptions {
  seed: number;
  count: number;
  maxStringBytes?: number;
  base64Fields?: string[];
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Path = Array<string | number>;

/** mulberry32: small, fast, good enough to pick mutations; never Math.random (not reproducible). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Values JSON.stringify cannot write, spliced into the text after serialisation. */
const RAW_NUMBERS = ['1e400', '-1e400', '123456789012345678901234567890', '-0', '4.9e-324'];

const TRAP_OBJECTS: Json[] = [
  { toString: 1 },
  { valueOf: 1 },
  { toString: {}, valueOf: {} },
  { toString: { toString: 1 } },
  { toJSON: 1 },
  { then: 1 },
  { length: 1e9 },
  { constructor: { prototype: { polluted: true } } },
];

const ODD_STRINGS = ['', ' ', 'NaN', 'Infinity', '-Infinity', '1e999', '0x1F', ' 42 ', '-0', 'null', 'undefined', 'true', '\u0000', '\ud800', '\udfff\ud800', '%s%s%n%d', '<script>alert(1)</script>', '\u202e\u0301', '😀'.repeat(3), '__proto__', 'constructor'];

const UNKNOWN_TYPES = ['mystery', '', ' ', '__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', 'response_start ', 'RESPONSE_END', 'audio_delta\u0000', 'x'.repeat(10_000)];

const NOT_JSON = ['not json', '', ' ', '{', '}', '[', "{'type':'error'}", '{"type":', 'undefined', 'NaN', '\u0000\u0001', '{"type":"error",}', '\ufeff{"type":"error"}', '<html>502 Bad Gateway</html>', '{"a":1}{"a":2}'];

const NON_OBJECT_JSON = ['null', 'true', 'false', '0', '-1', '1e400', '"text"', '[]', '[{"type":"error","error":"x"}]', '""'];

const BAD_BASE64 = ['!!!!', 'abc', 'a', '====', '=', 'QUJD\nRA==', 'QUJDRA', 'éé', '-_-_', 'data:audio/pcm;base64,AAAA', ' AAAA ', 'AA==AA==', '\u0000\u0000\u0000\u0000', '%%%%'];

/** Yields `count` messages derived from `samples`; see the header for what each kind does. */
export function* fuzzMessages(samples: ReadonlyArray<Record<string, unknown>>, options: FuzzOptions): Generator<FuzzMessage> {
  if (samples.length === 0) throw new Error('fuzzMessages needs at least one sample message');
  const rand = seededRandom(options.seed);
  const maxStringBytes = options.maxStringBytes ?? 1024 * 1024;
  const base = samples.map((s) => JSON.parse(JSON.stringify(s)) as { [k: string]: Json });
  const base64Fields = new Set(options.base64Fields ?? guessBase64Fields(base));
  const cycle: FuzzKind[] = ['well-formed', ...FUZZ_KINDS];
  const f = new Fuzzer(rand, maxStringBytes, base64Fields);
  const withBase64 = base.filter((s) => allPaths(s).some((p) => base64Fields.has(String(p[p.length - 1])) && typeof getAt(s, p) === 'string'));
  for (let i = 0; i < options.count; i++) {
    let kind = cycle[i % cycle.length]!;
    const audioKind = kind === 'bad-base64' || kind === 'odd-pcm';
    // Without a base64 field in any sample the audio kinds cannot apply: say so in `kind`.
    if (audioKind && withBase64.length === 0) kind = 'wrong-type';
    const pool = audioKind && withBase64.length > 0 ? withBase64 : base;
    const sample = clone(pool[Math.floor(rand() * pool.length)]!);
    yield { kind, ...f.make(kind, sample) };
  }
}

class Fuzzer {
  constructor(
    private readonly rand: () => number,
    private readonly maxStringBytes: number,
    private readonly base64Fields: Set<string>,
  ) {}

  private pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.rand() * xs.length)]!;
  }

  private int(n: number): number {
    return Math.floor(this.rand() * n);
  }

  make(kind: FuzzKind, msg: { [k: string]: Json }): { note: string; data: string | Buffer } {
    const paths = allPaths(msg);
    switch (kind) {
      case 'well-formed':
        return { note: 'sample as is', data: JSON.stringify(msg) };
      case 'wrong-type': {
        const path = this.pick(paths);
        const { value, raw } = this.hostileValue();
        return { note: `${fmt(path)} := ${raw ?? short(JSON.stringify(value))}`, data: serialise(setAt(msg, path, value), raw) };
      }
      case 'missing-field': {
        const path = this.pick(paths);
        return { note: `${fmt(path)} removed`, data: JSON.stringify(deleteAt(msg, path)) };
      }
      case 'extra-field': {
        const objects = [[] as Path, ...paths.filter((p) => isObject(getAt(msg, p)))];
        const at = this.pick(objects);
        const key = this.pick(['__proto__', 'constructor', 'extra', 'prototype', 'x'.repeat(1000), '']);
        const { value, raw } = this.hostileValue();
        const target = getAt(msg, at) as { [k: string]: Json };
        Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
        return { note: `extra ${fmt([...at, key]).slice(0, 80)}`, data: serialise(msg, raw) };
      }
      case 'unknown-type': {
        const name = this.pick(UNKNOWN_TYPES);
        if (typeof msg.type === 'string') msg.type = name;
        else {
          const keys = Object.keys(msg);
          const old = keys.length ? this.pick(keys) : 'x';
          msg = renameKey(msg, old, name);
        }
        return { note: `type/key ${short(JSON.stringify(name))}`, data: JSON.stringify(msg) };
      }
      case 'huge-value': {
        const strings = paths.filter((p) => typeof getAt(msg, p) === 'string');
        const path = strings.length ? this.pick(strings) : this.pick(paths);
        const bytes = this.hugeSize();
        const value = this.rand() < 0.8 ? 'x'.repeat(bytes) : new Array<Json>(Math.min(bytes, 100_000)).fill(0);
        return { note: `${fmt(path)} := ${bytes} units`, data: JSON.stringify(setAt(msg, path, value)) };
      }
      case 'not-json': {
        const s = this.rand() < 0.7 ? this.pick(NOT_JSON) : this.garbageText(1 + this.int(200));
        return { note: `not JSON ${short(JSON.stringify(s))}`, data: s };
      }
      case 'non-object-json': {
        const s = this.pick(NON_OBJECT_JSON);
        return { note: `JSON ${s}`, data: s };
      }
      case 'truncated-json': {
        const s = JSON.stringify(msg);
        const cut = Math.max(1, Math.min(s.length - 1, this.int(s.length)));
        return { note: `cut at ${cut}/${s.length}`, data: s.slice(0, cut) };
      }
      case 'binary': {
        const r = this.rand();
        if (r < 0.4) return { note: 'sample as a binary frame', data: Buffer.from(JSON.stringify(msg)) };
        if (r < 0.5) return { note: 'empty binary frame', data: Buffer.alloc(0) };
        const n = 1 + this.int(4096);
        const b = Buffer.alloc(n);
        for (let i = 0; i < n; i++) b[i] = this.int(256);
        return { note: `${n} random bytes`, data: b };
      }
      case 'deep-nesting': {
        const depth = this.pick([100, 1000, 10_000, 100_000]);
        const path = this.pick(paths);
        const marker = '"\\u0001deep\\u0001"'; // how JSON.stringify writes the placeholder
        const open = this.rand() < 0.5 ? '[' : '{"a":';
        const close = open === '[' ? ']' : '}';
        const text = JSON.stringify(setAt(msg, path, '\u0001deep\u0001')).replace(marker, open.repeat(depth) + '0' + close.repeat(depth));
        return { note: `${fmt(path)} nested ${depth} deep`, data: text };
      }
      case 'bad-base64':
      case 'odd-pcm': {
        const b64 = paths.filter((p) => this.base64Fields.has(String(p[p.length - 1])) && typeof getAt(msg, p) === 'string');
        const path = this.pick(b64);
        if (kind === 'bad-base64') {
          const s = this.rand() < 0.8 ? this.pick(BAD_BASE64) : this.garbageText(1 + this.int(64));
          return { note: `${fmt(path)} := not base64 ${short(JSON.stringify(s))}`, data: JSON.stringify(setAt(msg, path, s)) };
        }
        const n = this.pick([1, 3, 4801, 2 * this.int(2400) + 1]);
        const pcm = Buffer.alloc(n);
        for (let i = 0; i < n; i++) pcm[i] = this.int(256);
        return { note: `${fmt(path)} := ${n} PCM bytes`, data: JSON.stringify(setAt(msg, path, pcm.toString('base64'))) };
      }
    }
  }

  /** A value of the wrong type; `raw` is JSON text to splice in where JSON.stringify cannot. */
  private hostileValue(): { value: Json; raw?: string } {
    const r = this.int(8);
    switch (r) {
      case 0:
        return { value: this.pick([0, -1, 1, 0.5, 1e308, -1e308, 2 ** 53 + 2, -(2 ** 31)]) };
      case 1:
        return { value: '\u0001raw\u0001', raw: this.pick(RAW_NUMBERS) };
      case 2:
        return { value: clone(this.pick(TRAP_OBJECTS)) };
      case 3: {
        const proto: { [k: string]: Json } = {};
        Object.defineProperty(proto, '__proto__', { value: { polluted: true }, enumerable: true, writable: true, configurable: true });
        return { value: proto };
      }
      case 4:
        return { value: this.pick<Json>([[], [1, 2], ['a'], [[[]]], [null], [{ toString: 1 }]]) };
      case 5:
        return { value: this.pick<Json>([null, true, false]) };
      case 6:
        return { value: this.pick(ODD_STRINGS) };
      default:
        return { value: 'x'.repeat(this.hugeSize()) };
    }
  }

  private hugeSize(): number {
    return this.pick([1024, 64 * 1024, this.maxStringBytes]);
  }

  private garbageText(n: number): string {
    let s = '';
    for (let i = 0; i < n; i++) s += String.fromCharCode(this.rand() < 0.9 ? 32 + this.int(95) : this.int(0xd800));
    return s;
  }
}

function serialise(msg: Json, raw: string | undefined): string {
  const s = JSON.stringify(msg);
  return raw === undefined ? s : s.replace('"\\u0001raw\\u0001"', raw);
}

function guessBase64Fields(samples: Json[]): string[] {
  const names = new Set<string>();
  for (const s of samples) {
    for (const p of allPaths(s)) {
      const v = getAt(s, p);
      if (typeof v === 'string' && v.length >= 16 && v.length % 4 === 0 && /^[A-Za-z0-9+/]+={0,2}$/.test(v)) names.add(String(p[p.length - 1]));
    }
  }
  return [...names];
}

function isObject(v: unknown): v is { [k: string]: Json } {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function clone<T extends Json>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

/** Every path below the root (object keys and array indices), parents before children. */
function allPaths(v: Json, prefix: Path = []): Path[] {
  const out: Path[] = [];
  if (Array.isArray(v)) v.forEach((x, i) => out.push([...prefix, i], ...allPaths(x, [...prefix, i])));
  else if (isObject(v)) for (const k of Object.keys(v)) out.push([...prefix, k], ...allPaths(v[k]!, [...prefix, k]));
  return out.length || prefix.length ? out : [['type']];
}

function getAt(v: Json, path: Path): Json | undefined {
  let cur: Json | undefined = v;
  for (const k of path) cur = cur === null || typeof cur !== 'object' ? undefined : (cur as Record<string | number, Json>)[k];
  return cur;
}

function setAt<T extends Json>(root: T, path: Path, value: Json): T {
  if (path.length === 0) return root;
  const parent = getAt(root, path.slice(0, -1));
  if (parent !== null && typeof parent === 'object') {
    Object.defineProperty(parent, path[path.length - 1]!, { value, enumerable: true, writable: true, configurable: true });
  }
  return root;
}

function deleteAt<T extends Json>(root: T, path: Path): T {
  const parent = getAt(root, path.slice(0, -1));
  const key = path[path.length - 1]!;
  if (Array.isArray(parent)) parent.splice(key as number, 1);
  else if (isObject(parent)) delete parent[key];
  return root;
}

function renameKey(msg: { [k: string]: Json }, from: string, to: string): { [k: string]: Json } {
  const out: { [k: string]: Json } = {};
  for (const [k, v] of Object.entries(msg)) Object.defineProperty(out, k === from ? to : k, { value: v, enumerable: true, writable: true, configurable: true });
  if (!(from in msg)) Object.defineProperty(out, to, { value: {}, enumerable: true, writable: true, configurable: true });
  return out;
}

function fmt(path: Path): string {
  return path.length ? path.map((k) => (typeof k === 'number' ? `[${k}]` : `.${k}`)).join('') : '(root)';
}

function short(s: string): string {
  return s.length > 60 ? `${s.slice(0, 57)}…(${s.length})` : s;
}
