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
 * One serializer per message type of a `{ [type]: schema }` table. A plain object: the table's
 * entries are looked up at each call, so a test can wrap one (t.capture) and see it used.
 */
export function compileSerializers<K extends string>(schemas: Readonly<Record<K, object>>): Record<K, Serializer> {
  return Object.fromEntries(
    Object.entries<object>(schemas).map(([type, schema]) => [type, fastJson(schema) as Serializer]),
  ) as Record<K, Serializer>;
}
