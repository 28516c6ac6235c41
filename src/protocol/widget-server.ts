import { serverMessageSchemas } from './widget-schemas.js';
import { compileSerializers } from './message-serializer.js';
import type { MessageOf } from './schema-types.js';

/** Serializers for the widget dialect's server messages, compiled once from their schemas. */
export const widgetSerializers = compileSerializers(serverMessageSchemas);

/** A widget-dialect server message, typed by its schema: a wrong or missing field does not compile. */
export type ServerMessage = MessageOf<typeof serverMessageSchemas>;

export function serializeServerMessage(msg: ServerMessage): string {
  return widgetSerializers[msg.type](msg);
}
