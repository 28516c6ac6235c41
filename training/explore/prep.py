"""Unpacks pack.py's carry/ into .npy arrays for explore.py: python3 prep.py CARRY_DIR DATA_DIR"""
import lzma, numpy as np, sys, os
src, dst = sys.argv[1], sys.argv[2]; os.makedirs(dst, exist_ok=True)
z = np.load(os.path.join(src, 'meta.npz')); shape = tuple(z['shape'])
d = np.frombuffer(lzma.decompress(open(os.path.join(src, 'feat.d8.xz'), 'rb').read()), dtype=np.int8).reshape(shape)
np.save(os.path.join(dst, 'feat.npy'), np.cumsum(d, axis=0, dtype=np.int16).astype(np.int8))
np.save(os.path.join(dst, 'tgt.npy'), np.frombuffer(lzma.decompress(open(os.path.join(src, 'tgt.u8.xz'), 'rb').read()), dtype=np.uint8).reshape(shape[0], 15))
if os.path.exists(os.path.join(src, 'vis.u8.xz')):
    np.save(os.path.join(dst, 'vis.npy'), np.frombuffer(lzma.decompress(open(os.path.join(src, 'vis.u8.xz'), 'rb').read()), dtype=np.uint8))
for f in ('meta.npz', 'real-eval.json', 'norm.json'): os.system(f'cp {src}/{f} {dst}/')
print('prep ok', shape)
