"""Scores weights from a sweep the way explore.py does, alone, averaged (an ensemble of seeds), or with
a symmetric smoothing of the 100 fps outputs — questions that need no training (dev-only, CPU is fine).

    python3 posthoc.py DATA_DIR [--smooth 0.25,0.5,0.25] [--hidden 256] [--stack 2:2,2:2,4:0,8:0] w-a.npy [w-b.npy ...]
"""
import argparse, json, sys
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from explore import Net, evaluate, load, C


def load_net(path, hidden, stack):
    net = Net(hidden, stack)
    flat = torch.from_numpy(np.load(path)).float(); o = 0
    for p in [t for c in net.convs for t in (c.weight, c.bias)] + [net.out.weight, net.out.bias]:
        n = p.numel(); p.data.copy_(flat[o:o + n].reshape(p.shape)); o += n
    assert o == flat.numel(), (o, flat.numel())
    return net


class Posthoc(nn.Module):
    """logit of the mean of the members' sigmoid outputs, optionally smoothed along time."""
    def __init__(self, nets, kernel):
        super().__init__()
        self.nets = nn.ModuleList(nets)
        self.k = None if kernel is None else torch.tensor(kernel, dtype=torch.float32)

    def forward(self, x):
        p = torch.stack([torch.sigmoid(n(x)) for n in self.nets]).mean(0)
        if self.k is not None:
            r = len(self.k) // 2
            p = F.conv1d(F.pad(p, (r, r), mode='replicate'), self.k.repeat(C, 1, 1), groups=C)
        return torch.logit(p.clamp(1e-6, 1 - 1e-6))


if __name__ == '__main__':
    ap = argparse.ArgumentParser()
    ap.add_argument('data'); ap.add_argument('weights', nargs='+')
    ap.add_argument('--smooth'); ap.add_argument('--hidden', type=int, default=256); ap.add_argument('--stack', default='2:2,2:2,4:0,8:0')
    a = ap.parse_args()
    stack = [tuple(map(int, s.split(':'))) for s in a.stack.split(',')]
    z, _, _, real, _ = load(a.data)
    kernel = None if not a.smooth else [float(v) for v in a.smooth.split(',')]
    if kernel: kernel = [v / sum(kernel) for v in kernel]
    model = Posthoc([load_net(w, a.hidden, stack) for w in a.weights], kernel)
    res = evaluate(model, z, real, 'cpu')
    print(json.dumps({k: v for k, v in res.items() if k != 'r'}), json.dumps(res['r']))
