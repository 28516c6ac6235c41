import type { MuseTalkErrorCode } from './error-codes.js';
import { museTalkServerSchemas, type museTalkServerDataSchemas } from './musetalk-schemas.js';
import { compileSerializers } from './message-serializer.js';
import type { FromSchema } from './schema-types.js';

/**
 * The MuseTalk dialect's server messages (PROTOCOL.md §3) as JSON text, by serializers compiled
 * once from the whole-message schemas (the envelope `{type, session_id, data}` around each
 * type's `data` schema). No validators here: the video workers import this module for their
 * VIDEO_FRAME messages.
 */
export const museTalkSerializers = compileSerializers(museTalkServerSchemas);

export type MuseTalkServerType = keyof typeof museTalkServerDataSchemas;
export type MuseTalkServerData<T extends MuseTalkServerType> = FromSchema<(typeof museTalkServerDataSchemas)[T]>;

/** A server message, its `data` typed by the message type's schema. */
export function museTalkMessage<T extends MuseTalkServerType>(type: T, sessionId: string, data: MuseTalkServerData<T>): string {
  return museTalkSerializers[type]({ type, session_id: sessionId, data });
}

export function museTalkError(sessionId: string, code: MuseTalkErrorCode, message: string, details?: Record<string, unknown>): string {
  return museTalkMessage('ERROR', sessionId, details ? { code, message, details } : { code, message });
}
