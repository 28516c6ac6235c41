import t from 'tap';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// A fresh `npm ci` must not run onnxruntime-node's postinstall (a CUDA download from NuGet: fails
// offline, hundreds of MB online), and no npm command may print a warning a newcomer reads as an
// error. .npmrc turns dependency install scripts off with a setting every npm knows.
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

t.test('npm reads .npmrc without warnings and runs no dependency install script', async (t) => {
  // Without the npm_config_* variables an enclosing `npm test` exports: only .npmrc speaks.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_config_/i.test(k)));
  const res = spawnSync('npm', ['config', 'get', 'ignore-scripts'], { cwd: ROOT, encoding: 'utf8', env });
  t.equal(res.status, 0, res.stderr);
  t.equal(res.stdout.trim(), 'true', 'ignore-scripts=true from the project .npmrc');
  t.notMatch(res.stderr, /Unknown project config|npm warn/i, 'no config warning');
});

t.test('the Docker build installs with the same .npmrc', async (t) => {
  const dockerfile = readFileSync(`${ROOT}Dockerfile`, 'utf8');
  const copy = dockerfile.search(/^COPY [^\n]*\.npmrc/m);
  const install = dockerfile.search(/^RUN npm ci/m);
  t.ok(copy >= 0 && install > copy, '.npmrc is in place before npm ci');
  const pkg = JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')) as { allowScripts: Record<string, boolean> };
  t.equal(pkg.allowScripts['onnxruntime-node'], false, 'the reviewed policy (npm 11 allowScripts) denies it too');
});
