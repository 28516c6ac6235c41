import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';

/**
 * Tools the cloud agents may call. Declared once, provider-neutral (a name, a description, a
 * JSON-schema object for the arguments), converted to each provider's shape. A tool call never
 * runs code on the server: it becomes `trigger_action {function_name, arguments}` for the client
 * (the widget re-dispatches it as a DOM event), and the model is told the action was triggered.
 *
 * More tools: `AGENT_TOOLS_FILE` names a JSON file holding an array of definitions, e.g.
 * `[{"name":"show_product","description":"Show a product card","parameters":{"type":"object",
 * "properties":{"sku":{"type":"string"}},"required":["sku"]}}]`. They are added to the built-in
 * `trigger_confetti`; a file entry with the same name replaces the built-in one.
 */
export interface ToolDefinition {
  /** `^[a-zA-Z_][a-zA-Z0-9_-]{0,63}$`: accepted by every provider. */
  name: string;
  description: string;
  /** JSON schema of the arguments; always `type: "object"`. */
  parameters: JsonSchemaObject;
}

export interface JsonSchemaObject {
  type: 'object';
  properties?: Record<string, unknown>;
  required?: string[];
  [keyword: string]: unknown;
}

export const TRIGGER_CONFETTI: ToolDefinition = {
  name: 'trigger_confetti',
  description: 'Celebrate with a burst of confetti on the user\'s screen. Use it when the user shares good news or asks for a celebration.',
  parameters: {
    type: 'object',
    properties: {
      intensity: { type: 'string', enum: ['low', 'medium', 'high'], description: 'How much confetti.' },
    },
    required: [],
  },
};

export const BUILT_IN_TOOLS: readonly ToolDefinition[] = [TRIGGER_CONFETTI];

/** What the model is told after a tool call: the client got the action; nothing to wait for. */
export const TOOL_RESULT = { status: 'triggered', note: 'The action was sent to the user\'s screen.' } as const;

const NAME_PATTERN = /^[a-zA-Z_][a-zA-Z0-9_-]{0,63}$/;
const MAX_TOOLS = 64;

export class ToolDefinitionError extends Error {}

/** Validates one untrusted definition (from a file). Throws ToolDefinitionError saying what is wrong. */
export function parseToolDefinition(raw: unknown, where: string): ToolDefinition {
  if (!isRecord(raw)) throw new ToolDefinitionError(`${where}: expected an object`);
  const { name, description, parameters } = raw;
  if (typeof name !== 'string' || !NAME_PATTERN.test(name)) {
    throw new ToolDefinitionError(`${where}: "name" must match ${NAME_PATTERN} (letters, digits, _ and -, at most 64)`);
  }
  if (description !== undefined && typeof description !== 'string') {
    throw new ToolDefinitionError(`${where} (${name}): "description" must be a string`);
  }
  let schema: JsonSchemaObject = { type: 'object', properties: {} };
  if (parameters !== undefined) {
    if (!isRecord(parameters) || parameters.type !== 'object') {
      throw new ToolDefinitionError(`${where} (${name}): "parameters" must be a JSON schema with "type": "object"`);
    }
    if (parameters.properties !== undefined && !isRecord(parameters.properties)) {
      throw new ToolDefinitionError(`${where} (${name}): "parameters.properties" must be an object`);
    }
    if (parameters.required !== undefined && !(Array.isArray(parameters.required) && parameters.required.every((r) => typeof r === 'string'))) {
      throw new ToolDefinitionError(`${where} (${name}): "parameters.required" must be an array of strings`);
    }
    schema = parameters as JsonSchemaObject;
  }
  return { name, description: description ?? '', parameters: schema };
}

/** The built-in tools plus those of `file` (a JSON array); blank `file` → built-ins only. */
export async function loadTools(file: string | undefined): Promise<ToolDefinition[]> {
  const byName = new Map(BUILT_IN_TOOLS.map((t) => [t.name, t]));
  const path = file?.trim();
  if (path) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(await readFile(resolve(path), 'utf8'));
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      throw new ToolDefinitionError(e.code === 'ENOENT' ? `no file at ${resolve(path)}` : `cannot read ${path}: ${e.message}`);
    }
    if (!Array.isArray(parsed)) throw new ToolDefinitionError(`${path}: expected a JSON array of tool definitions`);
    const seen = new Set<string>();
    parsed.forEach((raw, i) => {
      const tool = parseToolDefinition(raw, `${path}[${i}]`);
      if (seen.has(tool.name)) throw new ToolDefinitionError(`${path}[${i}]: tool "${tool.name}" declared twice`);
      seen.add(tool.name);
      byName.set(tool.name, tool);
    });
  }
  if (byName.size > MAX_TOOLS) throw new ToolDefinitionError(`at most ${MAX_TOOLS} tools, got ${byName.size}`);
  return [...byName.values()];
}

/** OpenAI Realtime (GA and beta share this shape): `session.tools`. */
export function toOpenAITools(tools: readonly ToolDefinition[]): Array<{ type: 'function'; name: string; description: string; parameters: JsonSchemaObject }> {
  return tools.map((t) => ({ type: 'function', name: t.name, description: t.description, parameters: t.parameters }));
}

/** Gemini Live: one `functionDeclarations` tool; the schema goes as plain JSON schema. */
export function toGeminiFunctionDeclarations(tools: readonly ToolDefinition[]): Array<{ name: string; description: string; parametersJsonSchema: JsonSchemaObject }> {
  return tools.map((t) => ({ name: t.name, description: t.description, parametersJsonSchema: t.parameters }));
}

/**
 * Tool arguments as the model sent them (a JSON string for OpenAI, an object for Gemini) →
 * a plain object. Anything else (bad JSON, an array, a scalar) gives `{}`: the call still
 * reaches the client, it just carries no arguments.
 */
export function toolArguments(raw: unknown): Record<string, unknown> {
  if (typeof raw === 'string') {
    if (raw.trim() === '') return {};
    try {
      raw = JSON.parse(raw);
    } catch {
      return {};
    }
  }
  return isRecord(raw) ? raw : {};
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
