import fastJson from 'fast-json-stringify';
import { serverMessageSchemas, type ServerMessageType } from './widget-schemas.js';
import type { MessageOf } from './schema-types.js';

/** Serializers for the widget dialect's server messages, compiled once from their schemas. */
const serializers = Object.fromEntries(
  Object.entries(serverMessageSchemas).map(([type, schema]) => [type, fastJson(schema as object)]),
) as Record<ServerMessageType, (msg: unknown) => string>;

/** A widget-dialect server message, typed by its schema: a wrong or missing field does not compile. */
export type ServerMessage = MessageOf<typeof serverMessageSchemas>;

export function serializeServerMessage(msg: ServerMessage): string {
  return serializers[msg.type](msg);
}
