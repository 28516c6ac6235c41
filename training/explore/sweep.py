"""Runs explore.py configurations in parallel on one GPU machine under a global deadline and bundles
results.json and the weights (several .npz, each under 16 MB) into $OUT.

    python3 training/explore/sweep.py CONFIGS.json BUDGET_SECONDS PARALLEL   (from the repository root,
    with training/explore/carry made by pack.py; on the device: carry ["training/explore/carry"])
"""
import json, os, subprocess, sys, time, glob, numpy as np
HERE = os.path.dirname(os.path.abspath(__file__))
t0 = time.time()
budget = float(sys.argv[2]); conc = int(sys.argv[3])
cfgs = json.load(open(sys.argv[1]))
out = os.environ.get('OUT', '/tmp/out'); work = '/tmp/sweep'; os.makedirs(work, exist_ok=True)
if not os.path.exists('/tmp/gd/feat.npy'):
    subprocess.run([sys.executable, os.path.join(HERE, 'prep.py'), os.path.join(HERE, 'carry'), '/tmp/gd'], check=True)
print('prep', round(time.time() - t0, 1), 's', flush=True)
deadline = t0 + budget
procs = []; pending = list(cfgs); log = open(os.path.join(out, 'sweep.log'), 'w')
while pending or procs:
    procs = [p for p in procs if p.poll() is None]
    while pending and len(procs) < conc:
        c = pending.pop(0)
        procs.append(subprocess.Popen([sys.executable, os.path.join(HERE, 'explore.py'), json.dumps(c), '/tmp/gd', work, str(deadline - c.get('eval_s', 25))], stdout=log, stderr=subprocess.STDOUT))
    if time.time() > deadline + 40:
        for p in procs: p.kill()
        break
    time.sleep(1)
res = {}
for f in glob.glob(f'{work}/res-*.json'):
    r = json.load(open(f)); res[r['cfg']['name']] = r
json.dump(res, open(os.path.join(out, 'results.json'), 'w'), indent=1)
ws = sorted(glob.glob(f'{work}/w-*.npy')); bundle = {}; k = 0; size = 0
for f in ws:
    a = np.load(f)
    if a.nbytes > 12e6: continue
    if size + a.nbytes > 15e6: np.savez(os.path.join(out, f'weights{k}.npz'), **bundle); bundle = {}; size = 0; k += 1
    if k >= 6: break
    bundle[os.path.basename(f)[2:-4]] = a; size += a.nbytes
if bundle and k < 6: np.savez(os.path.join(out, f'weights{k}.npz'), **bundle)
for n, r in sorted(res.items()):
    print(n, {k: r[k] for k in ('jaw', 'main', 'vis', 'closures', 'pause', 'syn_jaw', 'epochs_done', 'train_s', 'params')}, flush=True)
print('total', round(time.time() - t0, 1), 's')
