import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TRIGGER_CONFETTI, loadTools, parseToolDefinition, toGeminiFunctionDeclarations, toOpenAITools, toolArguments } from './tools.js';

const dir = mkdtempSync(join(tmpdir(), 'tools-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, body: string): string => {
  const p = join(dir, name);
  writeFileSync(p, body);
  return p;
};

t.test('built-ins only without a file', async (t) => {
  t.same(await loadTools(undefined), [TRIGGER_CONFETTI]);
  t.same(await loadTools('  '), [TRIGGER_CONFETTI]);
});

t.test('a tools file adds tools; same name replaces the built-in', async (t) => {
  const p = file('ok.json', JSON.stringify([
    { name: 'show_map', description: 'Map', parameters: { type: 'object', properties: { floor: { type: 'integer' } }, required: ['floor'] } },
    { name: 'trigger_confetti', description: 'Custom confetti' },
    { name: 'wave' },
  ]));
  const tools = await loadTools(p);
  t.same(tools.map((x) => x.name), ['trigger_confetti', 'show_map', 'wave']);
  t.equal(tools[0]!.description, 'Custom confetti');
  t.same(tools[2]!.parameters, { type: 'object', properties: {} }, 'no parameters → an empty object schema');
});

t.test('bad files fail with a message that says what is wrong', async (t) => {
  await t.rejects(loadTools(join(dir, 'missing.json')), /no file at/);
  await t.rejects(loadTools(file('bad.json', '{nope')), /cannot read/);
  await t.rejects(loadTools(file('obj.json', '{}')), /expected a JSON array/);
  await t.rejects(loadTools(file('name.json', '[{"name":"has space"}]')), /\[0\]: "name" must match/);
  await t.rejects(loadTools(file('params.json', '[{"name":"a","parameters":{"type":"string"}}]')), /"type": "object"/);
  await t.rejects(loadTools(file('req.json', '[{"name":"a","parameters":{"type":"object","required":[1]}}]')), /required/);
  await t.rejects(loadTools(file('dup.json', '[{"name":"a"},{"name":"a"}]')), /declared twice/);
  t.throws(() => parseToolDefinition({ name: 'a', description: 5 }, 'x'), /description/);
});

t.test('provider shapes', async (t) => {
  t.same(toOpenAITools([TRIGGER_CONFETTI]), [{ type: 'function', name: 'trigger_confetti', description: TRIGGER_CONFETTI.description, parameters: TRIGGER_CONFETTI.parameters }]);
  t.same(toGeminiFunctionDeclarations([TRIGGER_CONFETTI]), [{ name: 'trigger_confetti', description: TRIGGER_CONFETTI.description, parametersJsonSchema: TRIGGER_CONFETTI.parameters }]);
});

t.test('tool arguments: JSON strings or objects; anything else is {}', async (t) => {
  t.same(toolArguments('{"a":1}'), { a: 1 });
  t.same(toolArguments({ b: 2 }), { b: 2 });
  for (const bad of ['', 'nope', '[1]', '3', null, undefined, 7, [1]]) t.same(toolArguments(bad), {}, String(bad));
});
