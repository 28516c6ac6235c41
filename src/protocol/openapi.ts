import { clientMessageSchemas, serverMessageSchemas, weightsSchema } from './widget-schemas.js';
import { museTalkClientSchemas, museTalkServerSchemas } from './musetalk-schemas.js';
import { frameStreamClientSchemas, frameStreamServerSchemas } from './frame-stream-schemas.js';

/**
 * The OpenAPI 3.1 document, generated from the same schema objects the serializers are compiled
 * from. REST routes are paths; the WebSocket dialects are a documented upgrade route plus their
 * messages as components (OpenAPI has no native WebSocket description).
 */
const errorBody = {
  type: 'object',
  properties: { error: { type: 'string' } },
  required: ['error'],
} as const;

const jsonResponse = (description: string, schema: object) => ({ description, content: { 'application/json': { schema } } });

function messageComponents(prefix: string, schemas: Record<string, object>): Record<string, object> {
  return Object.fromEntries(Object.entries(schemas).map(([type, schema]) => [`${prefix}_${type}`, schema]));
}

export function buildOpenApi(version: string): Record<string, unknown> {
  const serverRefs = Object.keys(serverMessageSchemas).map((t) => ({ $ref: `#/components/schemas/WidgetServer_${t}` }));
  const clientRefs = Object.keys(clientMessageSchemas).map((t) => ({ $ref: `#/components/schemas/WidgetClient_${t}` }));
  return {
    openapi: '3.1.0',
    info: {
      title: 'avatar-stream-server',
      version,
      description: 'Real-time avatar streaming: agents speak through an ONNX lip-sync model; audio and 52 ARKit blendshapes stream in sync at 30 FPS over WebSocket.',
      license: { name: 'MIT', identifier: 'MIT' },
    },
    paths: {
      '/health': {
        get: {
          summary: 'Liveness: model loaded and every pool worker alive',
          responses: {
            200: jsonResponse('Healthy', { type: 'object', properties: { status: { const: 'healthy' } }, required: ['status'] }),
            503: jsonResponse('Unhealthy', { type: 'object', properties: { status: { const: 'unhealthy' }, details: { type: 'object' } }, required: ['status'] }),
          },
        },
      },
      '/ready': {
        get: {
          summary: 'Readiness for a load balancer: takes new sessions (also on PROBE_PORT, for HTTP/1.0 and Host-less checks)',
          responses: {
            200: jsonResponse('Ready', { type: 'object', properties: { status: { const: 'ready' }, sessions: { type: 'integer' }, maxSessions: { type: 'integer' } }, required: ['status'] }),
            503: jsonResponse('Draining, at MAX_SESSIONS, or above READY_MAX_UTILISATION', { type: 'object', properties: { status: { enum: ['draining', 'at_capacity', 'busy'] } }, required: ['status'] }),
          },
        },
      },
      '/inf': {
        get: {
          summary: 'Server information',
          responses: { 200: jsonResponse('Name, version, status (agent type and ws URL with DEBUG)', { type: 'object', properties: { name: { type: 'string' }, version: { type: 'string' }, status: { const: 'running' } }, required: ['name', 'version', 'status'] }) },
        },
      },
      '/stats': { get: { summary: 'Live numbers for engineers (JSON)', responses: { 200: jsonResponse('Sessions, pacing, inference, real-time priority, event loop, memory', { type: 'object' }) } } },
      '/metrics': { get: { summary: 'Prometheus metrics', responses: { 200: { description: 'Prometheus text format 0.0.4', content: { 'text/plain': { schema: { type: 'string' } } } } } } },
      '/api/auth/token': {
        post: {
          summary: 'Issue a session token for the calling Origin (AUTH_ENABLED=true)',
          parameters: [{ name: 'Origin', in: 'header', required: true, schema: { type: 'string' } }],
          responses: {
            200: jsonResponse('Token', { type: 'object', properties: { token: { type: 'string', description: 'base64("<unixSeconds>:<hex HMAC-SHA256>")' }, ttl: { type: 'integer' }, origin: { type: 'string' } }, required: ['token', 'ttl', 'origin'] }),
            400: jsonResponse('Missing Origin', errorBody),
            403: jsonResponse('Origin not allowed, or auth disabled', errorBody),
          },
        },
        options: { summary: 'CORS preflight', responses: { 204: { description: 'Allowed origin' }, 403: { description: 'Origin not allowed' } } },
      },
      '/musetalk/v1/ws/{user_id}': {
        get: {
          summary: 'WebSocket upgrade: the MuseTalk-style lip-sync video dialect (PROTOCOL.md §3)',
          description: 'Every message is {type, session_id, data}. Client: MuseTalkClient_*; server: MuseTalkServer_*. After INIT the server streams 25 FPS VIDEO_FRAMEs (512×512 H.264 Annex-B, IDR every second with SPS/PPS in band). An invalid user_id closes with 1003.',
          parameters: [{ name: 'user_id', in: 'path', required: true, schema: { type: 'string', pattern: '^[a-zA-Z0-9_-]{1,64}$' } }],
          responses: { 101: { description: 'Switching protocols' } },
        },
      },
      '/ws': {
        get: {
          summary: 'WebSocket upgrade: the widget dialect (PROTOCOL.md §1)',
          description: 'JSON text frames. Client messages: WidgetClientMessage; server messages: WidgetServerMessage. With AUTH_ENABLED, pass ?token= and an allowed Origin; failures close with 1008.',
          parameters: [{ name: 'token', in: 'query', required: false, schema: { type: 'string' } }],
          responses: { 101: { description: 'Switching protocols' } },
        },
      },
    },
    components: {
      schemas: {
        ArkitWeights: weightsSchema,
        ...messageComponents('WidgetServer', serverMessageSchemas),
        ...messageComponents('WidgetClient', clientMessageSchemas),
        WidgetServerMessage: { oneOf: serverRefs, discriminator: { propertyName: 'type' } },
        WidgetClientMessage: { oneOf: clientRefs, discriminator: { propertyName: 'type' } },
        ...messageComponents('FrameStreamClient', frameStreamClientSchemas()),
        ...messageComponents('FrameStreamServer', frameStreamServerSchemas),
        ...messageComponents('MuseTalkClient', museTalkClientSchemas),
        ...messageComponents('MuseTalkServer', museTalkServerSchemas),
      },
    },
  };
}
