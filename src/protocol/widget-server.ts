import fastJson from 'fast-json-stringify';
import { serverMessageSchemas, type ServerMessageType } from './widget-schemas.js';

/** Serializers for the widget dialect's server messages, compiled once from their schemas. */
const serializers = Object.fromEntries(
  Object.entries(serverMessageSchemas).map(([type, schema]) => [type, fastJson(schema as object)]),
) as Record<ServerMessageType, (msg: unknown) => string>;

export type ServerMessage = { type: ServerMessageType } & Record<string, unknown>;

export function serializeServerMessage(msg: ServerMessage): string {
  return serializers[msg.type](msg);
}
