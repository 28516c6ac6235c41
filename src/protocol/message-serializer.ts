import fastJson from 'fast-json-stringify';

/**
 * Serializers for outgoing messages, compiled once (at import) by fast-json-stringify from the
 * same schema objects the validators (message-validator.ts) and /openapi.json use, so what the
 * server sends is what the documents describe. A compiled serializer writes the schema's
 * properties in the schema's order: a property the schema does not have is dropped, a missing
 * `required` one throws, a `const` is written as the schema's value. A field that may be null
 * needs `type: [..., 'null']`.
 */
export type Serializer = (msg: unknown) => string;

/**
 * The schema a serializer is compiled from: a copy (fast-json-stringify reorders `type` lists in
 * place, and the documents' schemas stay as written), in which a string with
 * `contentEncoding: 'base64'` is written as it is, not scanned for characters to escape:
 * base64 has none. Those are the per-frame JPEG, H.264 and audio payloads, tens of kilobytes
 * each, so every such field must hold what Buffer#toString('base64') made.
 */
function forSerializing(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(forSerializing);
  if (schema === null || typeof schema !== 'object') return schema;
  const copy: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) copy[key] = forSerializing(value);
  const s = schema as { type?: unknown; contentEncoding?: unknown; format?: unknown };
  const isString = s.type === 'string' || (Array.isArray(s.type) && s.type.includes('string'));
  if (isString && s.contentEncoding === 'base64' && s.format === undefined) copy.format = 'unsafe';
  return copy;
}

/**
 * One serializer per message type of a `{ [type]: schema }` table. A plain object: the table's
 * entries are looked up at each call, so a test can wrap one (t.capture) and see it used.
 */
export function compileSerializers<K extends string>(schemas: Readonly<Record<K, object>>): Record<K, Serializer> {
  return Object.fromEntries(
    Object.entries<object>(schemas).map(([type, schema]) => [type, fastJson(forSerializing(schema) as object) as Serializer]),
  ) as Record<K, Serializer>;
}
