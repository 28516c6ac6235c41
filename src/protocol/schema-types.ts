/**
 * The TypeScript type of the values a JSON schema (declared `as const`) accepts, for the subset
 * our message schemas use: const, enum, type (string, integer, number, boolean, null, or a list),
 * arrays with `items`, objects with `properties` / `required`, oneOf / anyOf. Message types are
 * derived from the schemas the serializers and validators are compiled from, so a message built
 * with a wrong or missing field does not type-check.
 */
type Simplify<T> = { [K in keyof T]: T[K] } & {};

type PrimitiveOf<T> = T extends 'string' ? string
  : T extends 'integer' | 'number' ? number
  : T extends 'boolean' ? boolean
  : T extends 'null' ? null
  : T extends 'array' ? unknown[]
  : T extends 'object' ? Record<string, unknown>
  : never;

type RequiredKeys<S> = S extends { required: readonly (infer R)[] } ? R & string : never;

type ObjectOf<S> = S extends { properties: infer P }
  ? Simplify<
    { -readonly [K in keyof P & RequiredKeys<S>]: FromSchema<P[K]> } &
    { -readonly [K in Exclude<keyof P, RequiredKeys<S>>]?: FromSchema<P[K]> } &
    (S extends { additionalProperties: true } ? Record<string, unknown> : unknown)
  >
  : Record<string, unknown>;

export type FromSchema<S> = S extends { const: infer C } ? C
  : S extends { enum: readonly (infer E)[] } ? E
  : S extends { oneOf: readonly (infer O)[] } ? FromSchema<O>
  : S extends { anyOf: readonly (infer O)[] } ? FromSchema<O>
  : S extends { type: 'object' } ? ObjectOf<S>
  : S extends { type: 'array'; items: infer I } ? FromSchema<I>[]
  : S extends { type: readonly (infer T)[] } ? ('object' extends T ? ObjectOf<S> : never) | PrimitiveOf<Exclude<T, 'object'>>
  : S extends { type: infer T } ? PrimitiveOf<T>
  : unknown;

/** The union of the message types of a `{ [type]: schema }` table. */
export type MessageOf<T> = { [K in keyof T]: FromSchema<T[K]> }[keyof T];
