import t from 'tap';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

/**
 * deploy/kubernetes/ against the Kubernetes API schemas, offline: `kubernetes-models` bundles a
 * validator generated from the upstream OpenAPI definitions for every built-in kind. Then what the
 * schemas cannot know: probes on our routes, a grace period above the drain, non-root, sizing from
 * the bench, and names that refer to each other.
 */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DIR = join(ROOT, 'deploy/kubernetes');

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? yamlFiles(p) : /\.ya?ml$/.test(f) ? [p] : [];
  });
}

/** The kubernetes-models class for an apiVersion + kind (core group: `v1/Kind`). */
async function model(apiVersion: string, kind: string): Promise<new (data: Obj) => { validate(): void }> {
  const path = apiVersion.includes('/') ? apiVersion : `v1`;
  const mod = (await import(`kubernetes-models/${path}/${kind}`)) as Record<string, new (data: Obj) => { validate(): void }>;
  const cls = mod[kind];
  if (!cls) throw new Error(`no model for ${apiVersion} ${kind}`);
  return cls;
}

async function validate(doc: Obj): Promise<string | null> {
  const Model = await model(doc.apiVersion as string, doc.kind as string);
  try {
    new Model(doc).validate();
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}

const docs: Array<{ file: string; doc: Obj }> = [];
for (const file of yamlFiles(DIR)) {
  for (const d of parseAllDocuments(readFileSync(file, 'utf8'))) {
    if (d.errors.length) throw new Error(`${file}: ${d.errors[0]!.message}`);
    docs.push({ file: relative(ROOT, file), doc: d.toJS() as Obj });
  }
}
const find = (kind: string, under = 'deploy/kubernetes/') => docs.filter((d) => d.doc.kind === kind && d.file.startsWith(under) && !d.file.includes('sessions-autoscaling')).map((d) => d.doc);

t.test('every manifest is valid against the Kubernetes schemas', async (t) => {
  t.ok(docs.length >= 7, `${docs.length} objects`);
  for (const { file, doc } of docs) t.equal(await validate(doc), null, `${file}: ${doc.kind} ${doc.metadata?.name}`);
});

t.test('the validator catches a broken manifest (it is not a no-op)', async (t) => {
  const deployment = structuredClone(find('Deployment')[0]!);
  deployment.spec.template.spec.containers[0].ports[0].containerPort = 'eighty';
  t.match(await validate(deployment), /containerPort must be integer/);
  const hpa = structuredClone(find('HorizontalPodAutoscaler')[0]!);
  delete hpa.spec.scaleTargetRef;
  t.match(await validate(hpa), /scaleTargetRef/);
});

t.test('Deployment: probes, drain, non-root, sizing', async (t) => {
  const d = find('Deployment')[0]!;
  const pod = d.spec.template.spec as Obj;
  const c = pod.containers[0] as Obj;
  const env = new Map((c.env as Obj[]).map((e) => [e.name as string, e]));
  const port = (name: string) => (c.ports as Obj[]).find((p) => p.name === name)?.containerPort as number;
  t.equal(Number(env.get('PROBE_PORT')!.value), port('probe'), 'PROBE_PORT is the probe container port');
  t.equal(Number(env.get('SERVER_PORT')!.value), port('http'), 'SERVER_PORT is the http container port');
  t.match(c.livenessProbe, { httpGet: { path: '/health', port: 'probe' } });
  t.match(c.startupProbe, { httpGet: { path: '/health', port: 'probe' } });
  t.match(c.readinessProbe, { httpGet: { path: '/ready', port: 'probe' } });
  const preStopS = Number((c.lifecycle.preStop.exec.command as string[])[1]);
  const graceS = Number(env.get('SHUTDOWN_GRACE_MS')!.value) / 1000;
  t.ok(pod.terminationGracePeriodSeconds > preStopS + graceS + 5, `terminationGracePeriodSeconds ${pod.terminationGracePeriodSeconds} > preStop ${preStopS} s + drain ${graceS} s + 5 s to close`);
  t.match(pod.securityContext, { runAsNonRoot: true, runAsUser: Number });
  t.not(pod.securityContext.runAsUser, 0);
  t.match(c.securityContext, { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
  t.match(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'), /^USER node$/m, 'the image runs as node (uid 1000)');
  t.equal(pod.securityContext.runAsUser, 1000);
  // Sizing: README's capacity figure per core; the pod's MAX_SESSIONS must fit its CPU.
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const perCore = Number(/\((\d+) per core\)/.exec(readme)?.[1]);
  t.ok(perCore > 0, `README: ${perCore} sessions per core`);
  const cores = Number(c.resources.limits.cpu);
  const maxSessions = Number(env.get('MAX_SESSIONS')!.value);
  t.ok(maxSessions <= perCore * cores, `MAX_SESSIONS ${maxSessions} <= ${perCore} x ${cores} cores`);
  t.equal(Number(env.get('INFERENCE_WORKERS')!.value), Math.max(1, cores - 1), 'INFERENCE_WORKERS = cores - 1');
  t.same(c.resources.requests, c.resources.limits, 'requests = limits (Guaranteed QoS)');
});

t.test('names refer to each other', async (t) => {
  const d = find('Deployment')[0]!;
  const labels = d.spec.template.metadata.labels as Obj;
  const c = d.spec.template.spec.containers[0] as Obj;
  const secretRef = (c.env as Obj[]).find((e) => e.name === 'AUTH_SECRET_KEY')!.valueFrom.secretKeyRef as Obj;
  const secret = find('Secret').find((s) => s.metadata.name === secretRef.name);
  t.ok(secret, `Secret ${secretRef.name} exists`);
  t.ok(secretRef.key in (secret?.stringData ?? {}), `with key ${secretRef.key}`);
  const svc = find('Service')[0]!;
  t.match(labels, svc.spec.selector, 'the Service selects the pods');
  t.ok((c.ports as Obj[]).some((p) => p.name === svc.spec.ports[0].targetPort), 'its targetPort is a container port');
  t.match(labels, find('PodDisruptionBudget')[0]!.spec.selector.matchLabels, 'the PodDisruptionBudget selects the pods');
  for (const hpa of docs.filter((x) => x.doc.kind === 'HorizontalPodAutoscaler')) {
    t.match(hpa.doc.spec.scaleTargetRef, { apiVersion: 'apps/v1', kind: 'Deployment', name: d.metadata.name }, `${hpa.file} scales the Deployment`);
  }
  const sessionsHpa = docs.find((x) => x.file.endsWith('sessions-autoscaling/hpa.yaml'))!.doc;
  const metric = (sessionsHpa.spec.metrics as Obj[]).find((m) => m.type === 'Pods')!.pods.metric.name as string;
  const rules = docs.find((x) => x.file.endsWith('prometheus-adapter-rules.yaml'))!.doc.data['config.yaml'] as string;
  t.match(rules, new RegExp(`as: "${metric}"`), `the adapter rule serves ${metric}`);
  t.match(readFileSync(join(ROOT, 'src/metrics/fleet-metrics.ts'), 'utf8'), new RegExp(`'${metric}'`), 'a metric the server exposes');
});
