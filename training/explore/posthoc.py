"""Scores weights from a sweep the way explore.py does, alone, averaged (an ensemble of seeds), or with
a symmetric smoothing of the 100 fps outputs — questions that need no training (dev-only, CPU is fine).

    python3 posthoc.py DATA_DIR [--smooth 0.25,0.5,0.25] [--hidden 256] [--stack 2:2,2:2,4:0,8:0] w-a.npy [w-b.npy ...]
"""
import argparse, json, sys
import numpy as np
import torch
import torch.nn as nn
from explore import Net, evaluate, load, param_list, smooth_frames, C


def load_net(path, hidden, stack):
    net = Net(hidden, stack)
    flat = torch.from_numpy(np.load(path)).float(); o = 0
    for p in param_list(net):
        n = p.numel(); p.data.copy_(flat[o:o + n].reshape(p.shape)); o += n
    assert o == flat.numel(), (o, flat.numel())
    return net


class Posthoc(nn.Module):
    """logit of the mean of the members' sigmoid outputs, optionally smoothed along time."""
    def __init__(self, nets, kernel):
        super().__init__()
        self.nets = nn.ModuleList(nets)
        self.k = None if kernel is None else torch.tensor(kernel, dtype=torch.float32).repeat(C, 1, 1)

    def forward(self, x):
        p = torch.stack([torch.sigmoid(n(x)) for n in self.nets]).mean(0)
        if self.k is not None: p = smooth_frames(p, self.k)
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
