"""Packs training/data (made by gen-data.mjs) and the real-speech eval set (export-real.mjs) into
carry/ for a GPU machine: features quantised to 0.1 standard deviations and delta-coded along time,
targets to 1/255, each LZMA-compressed (about 56 MB for the shipped model's data).

    python3 training/explore/pack.py          (run from the repository root; needs numpy)
"""
import json, lzma, os, shutil
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.environ.get('DATA', os.path.join(HERE, '..', 'data'))
CARRY = os.path.join(HERE, 'carry')
REAL = os.path.join(HERE, 'real')
M, C = 40, 15


def load(split):
    meta = json.load(open(os.path.join(DATA, f'{split}.json')))
    feat = np.fromfile(os.path.join(DATA, f'{split}.feat.f32'), dtype=np.float32).reshape(-1, M)
    tgt = np.fromfile(os.path.join(DATA, f'{split}.tgt.f32'), dtype=np.float32).reshape(-1, C)
    return meta, feat, tgt


def main():
    os.makedirs(CARRY, exist_ok=True)
    ms, fs, ts = load('train')
    mr, fr, tr = load('train-real')
    allf = np.concatenate([fs, fr])
    # train.mjs's featureNorm: mean and 1/std per band over every training frame
    f64 = allf.astype(np.float64)
    mean = f64.mean(0)
    inv = 1 / np.sqrt(np.maximum((f64 ** 2).mean(0) - mean ** 2, 1e-6))
    del f64
    q = np.round((allf - mean) * inv * 10).astype(np.int16)  # 0.1 sigma steps
    d = np.diff(q, axis=0, prepend=0)
    assert np.abs(d).max() <= 127
    open(os.path.join(CARRY, 'feat.d8.xz'), 'wb').write(lzma.compress(d.astype(np.int8).tobytes(), preset=6))
    tgt = np.clip(np.round(np.concatenate([ts, tr]) * 255), 0, 255).astype(np.uint8)
    open(os.path.join(CARRY, 'tgt.u8.xz'), 'wb').write(lzma.compress(tgt.tobytes(), preset=6))
    # each frame's phone viseme (gen-data.mjs's *.vis.u8), for the viseme objective's `label: phone`
    vis = [os.path.join(DATA, f'{s}.vis.u8') for s in ('train', 'train-real')]
    if all(os.path.exists(f) for f in vis):
        v = np.concatenate([np.fromfile(f, dtype=np.uint8) for f in vis])
        assert v.shape[0] == q.shape[0]
        open(os.path.join(CARRY, 'vis.u8.xz'), 'wb').write(lzma.compress(v.tobytes(), preset=6))
    q20 = lambda f: np.clip(np.round((f - mean) * inv * 20), -127, 127).astype(np.int8)  # eval sets: 0.05 sigma
    clips = [(c['frameOffset'], c['frames'], 0) for c in ms['clips']] + [(c['frameOffset'] + len(fs), c['frames'], 1) for c in mr['clips']]
    me, fe, te = load('eval')
    ev = [(c['frameOffset'], c['frames']) for c in me['clips'] if c['group'] == 'heldout-voice']
    rf = np.fromfile(os.path.join(REAL, 'real-eval.feat.f32'), dtype=np.float32).reshape(-1, M)
    np.savez_compressed(os.path.join(CARRY, 'meta.npz'), shape=np.array(q.shape), clips=np.array(clips, dtype=np.int64),
                        mean=mean, inv=inv, evfeat=q20(fe), evtgt=te.astype(np.float16), evclips=np.array(ev, dtype=np.int64), rfeat=q20(rf),
                        rtgt=np.fromfile(os.path.join(REAL, 'real-eval.tgt30.f32'), dtype=np.float32).astype(np.float16),
                        rvis=np.fromfile(os.path.join(REAL, 'real-eval.vis30.u8'), dtype=np.uint8))
    shutil.copy(os.path.join(REAL, 'real-eval.json'), os.path.join(CARRY, 'real-eval.json'))
    json.dump({'mean': mean.astype(np.float32).tolist(), 'invStd': inv.astype(np.float32).tolist()}, open(os.path.join(CARRY, 'norm.json'), 'w'))
    print('packed', q.shape[0], 'training frames into', CARRY)


if __name__ == '__main__':
    main()
