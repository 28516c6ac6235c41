import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { base64ByteLength, isStrictBase64 } from './base64.js';

/**
 * Validators for incoming messages, compiled once (at import) by ajv from the same schema objects
 * the serializers and /openapi.json use. Each dialect maps the first failure to its own codes
 * and messages (PROTOCOL.md): see widget-client.ts, frame-stream.ts, musetalk.ts.
 *
 * Base64 has one check for the whole server: the `base64Bytes` keyword below.
 */

/**
 * `base64Bytes: { maxBytes?, multipleOf? }` on a string: strict base64 (standard alphabet,
 * padded, no whitespace), not empty. `maxBytes` refuses a string from its length alone, before
 * it is scanned: when even its shortest decoding (length / 4 × 3 − 2 bytes) is longer.
 * `multipleOf` is for the decoded bytes (2: PCM16 has whole samples).
 */
export interface Base64Rule {
  maxBytes?: number;
  multipleOf?: number;
}
export type Base64Failure = 'empty' | 'tooLong' | 'notBase64' | 'badByteCount';

export { base64ByteLength };

export function base64Failure(s: string, rule: Base64Rule): Base64Failure | null {
  if (s.length === 0) return 'empty';
  if (rule.maxBytes !== undefined && (s.length / 4) * 3 - 2 > rule.maxBytes) return 'tooLong';
  if (!isStrictBase64(s)) return 'notBase64';
  if (rule.multipleOf !== undefined && base64ByteLength(s) % rule.multipleOf !== 0) return 'badByteCount';
  return null;
}

const ajv = new Ajv({
  allErrors: true, // the dialect picks which failure to report, in its own order
  verbose: true, // errors carry the offending value
  ownProperties: true,
  strict: true,
  // Patterns in UTF-16 units, like String#length (minLength/maxLength count code points).
  unicodeRegExp: false,
  // `format` (uuid, date-time) documents server messages; no client field relies on one.
  validateFormats: false,
});
type KeywordCheck = ((rule: Base64Rule, data: string) => boolean) & { errors?: Partial<ErrorObject>[] };
const checkBase64: KeywordCheck = (rule, data) => {
  const failure = base64Failure(data, rule);
  checkBase64.errors = failure === null ? [] : [{ keyword: 'base64Bytes', params: { failure } }];
  return failure === null;
};
ajv.addKeyword({
  keyword: 'base64Bytes',
  type: 'string',
  schemaType: 'object',
  errors: true,
  metaSchema: {
    type: 'object',
    properties: { maxBytes: { type: 'number' }, multipleOf: { type: 'integer', minimum: 1 } },
    additionalProperties: false,
  },
  validate: checkBase64,
});

export type Validator = ValidateFunction;

export const compileValidator = (schema: object): Validator => ajv.compile(schema);

/** One validator per message type; a Map, so `"toString"` is not a type. */
export function compileValidators(schemas: Record<string, object>): ReadonlyMap<string, Validator> {
  return new Map(Object.entries(schemas).map(([type, schema]) => [type, ajv.compile(schema)]));
}

/** A validation failure, by the field it is about: `/audio_chunk/data`, `/type`. */
export interface FieldError {
  path: string;
  keyword: string;
  /** The field's value (undefined when it is missing). */
  value: unknown;
  /** For a `type` failure: the type the schema wants. */
  expected?: string;
  base64?: Base64Failure;
}

const fieldError = (e: ErrorObject): FieldError => {
  if (e.keyword === 'required') return { path: `${e.instancePath}/${String(e.params.missingProperty)}`, keyword: 'required', value: undefined };
  const err: FieldError = { path: e.instancePath, keyword: e.keyword, value: e.data };
  if (e.keyword === 'base64Bytes') err.base64 = e.params.failure as Base64Failure;
  if (e.keyword === 'type') err.expected = String(e.params.type);
  return err;
};

/**
 * The failure to report: the first, in `order` (field paths, in the order the dialect checks
 * them), of the validator's errors; a field outside `order` comes last.
 */
export function firstError(errors: readonly ErrorObject[] | null | undefined, order: readonly string[] = []): FieldError {
  const all = (errors ?? []).map(fieldError);
  const rank = (e: FieldError): number => {
    const i = order.indexOf(e.path);
    return i < 0 ? order.length : i;
  };
  let best = all[0] ?? { path: '', keyword: 'unknown', value: undefined };
  for (const e of all) if (rank(e) < rank(best)) best = e;
  return best;
}

/** The JSON text of a frame, or undefined when it is not JSON. */
export function parseJson(raw: ArrayBuffer): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(Buffer.from(raw).toString('utf8')) };
  } catch {
    return { ok: false };
  }
}
