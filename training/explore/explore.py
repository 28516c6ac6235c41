"""A PyTorch replica of training/train.mjs (same network, initialisation, augmentation, per-channel and
per-frame weights, AdamW, clipping, warm-up + cosine schedule, epoch sampling with the real-speech
share) for sweeping architectures and objectives on a GPU, scored like eval.mjs on the held-out
synthetic voices (jawOpen r at 100 fps) and on the real-speech eval set (all five issue-19 measures
at 30 FPS, with the exported graph's resampling). Dev-only: the shipped model is trained by train.mjs.

    python3 explore.py CONFIG_JSON DATA_DIR OUT_DIR [DEADLINE_EPOCH_S]
"""
import json, math, os, sys, time
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

M, C = 40, 15
MAIN = [0, 1, 2, 3, 4, 5, 6, 8, 9]
JAW, CLOSE, PRESS, RL, RU = 0, 1, 8, 6, 7
SEAL = [CLOSE, PRESS, RL, RU]
CHW = {0: 3.0, 2: 1.5, 3: 1.5, 4: 1.5, 5: 1.5, 6: 1.5}


def load(dirn):
    z = np.load(os.path.join(dirn, 'meta.npz'))
    feat = np.load(os.path.join(dirn, 'feat.npy'), mmap_mode='r')
    tgt = np.load(os.path.join(dirn, 'tgt.npy'), mmap_mode='r')
    real = json.load(open(os.path.join(dirn, 'real-eval.json')))
    vf = os.path.join(dirn, 'vis.npy')
    vis = np.load(vf, mmap_mode='r') if os.path.exists(vf) else None
    return z, feat, tgt, real, vis


def hz2mel(f): return 2595 * math.log10(1 + f / 700)
def mel2hz(m): return 700 * (10 ** (m / 2595) - 1)


def smooth_frames(x, k):  # a fixed kernel k [C, 1, K] over time of x [B, C, L], ends repeated (the exporter's Pad edge + Conv)
    r = k.shape[-1] // 2
    return F.conv1d(F.pad(x, (r, r), mode='replicate'), k, groups=C)


def param_list(net):  # the flat weight layout of w-*.npy (ONNX order): each conv's weight and bias, then the output layer's
    return [t for c in net.convs for t in (c.weight, c.bias)] + [net.out.weight, net.out.bias]


def mel_src(alpha):  # [B] alphas → fractional source band per output band [B, M]
    lo = hz2mel(60); step = (hz2mel(7800) - lo) / (M + 1)
    centres = torch.tensor([mel2hz(lo + step * (m + 1)) for m in range(M)], dtype=torch.float64, device=alpha.device)
    f = centres[None, :] / alpha[:, None].double()
    src = ((2595 * torch.log10(1 + f / 700)) - lo) / step - 1
    return src.clamp(0, M - 1).float()


class Net(nn.Module):
    def __init__(self, hidden, stack, first_k=5, first_right=2):
        super().__init__()
        self.spec = [(first_k, 1, first_right, False)] + [(3, d, r, True) for d, r in stack]
        self.convs = nn.ModuleList()
        cin = M
        for k, d, r, res in self.spec:
            conv = nn.Conv1d(cin, hidden, k, dilation=d)
            std = math.sqrt(2 / (cin * k)) * (0.5 if res else 1)
            nn.init.normal_(conv.weight, 0, std); nn.init.zeros_(conv.bias)
            self.convs.append(conv); cin = hidden
        self.out = nn.Conv1d(hidden, C, 1)
        nn.init.normal_(self.out.weight, 0, math.sqrt(1 / hidden) * 0.5); nn.init.constant_(self.out.bias, -3.0)
        self.future = sum(r for _, _, r, _ in self.spec)
        self.smooth = None  # optional fixed kernel over the 100 fps outputs (probabilities), edge-padded

    def set_smooth(self, kernel, logits=False):
        k = torch.tensor(kernel, dtype=torch.float32); self.register_buffer('smooth_k', (k / k.sum()).repeat(C, 1, 1)); self.smooth = True
        self.smooth_logits = logits  # smooth the logits (a linear layer before the sigmoid) instead of the outputs

    def forward(self, x):  # x [B, M, L] → logits [B, C, L]
        h = x
        for (k, d, r, res), conv in zip(self.spec, self.convs):
            left = d * (k - 1) - r
            a = F.relu(conv(F.pad(h, (left, r))))
            h = h + a if res else a
        if self.smooth is None: return self.out(h)
        if self.smooth_logits: return smooth_frames(self.out(h), self.smooth_k)
        return torch.logit(smooth_frames(torch.sigmoid(self.out(h)), self.smooth_k).clamp(1e-6, 1 - 1e-6))


def run(cfg, dirn, out_dir, deadline):
    torch.manual_seed(cfg.get('seed', 1)); rng = np.random.default_rng(cfg.get('seed', 1))
    dev = 'cuda' if torch.cuda.is_available() else 'cpu'
    torch.backends.cuda.matmul.allow_tf32 = cfg.get('tf32', True); torch.backends.cudnn.allow_tf32 = cfg.get('tf32', True)
    z, feat_np, tgt_np, real, vis_np = load(dirn)
    mean = torch.tensor(z['mean'], dtype=torch.float32, device=dev); inv = torch.tensor(z['inv'], dtype=torch.float32, device=dev)
    feat = torch.from_numpy(np.array(feat_np)).to(dev)  # int8, 0.1 sigma steps
    tgt = torch.from_numpy(np.array(tgt_np)).to(dev)    # uint8 /255
    clips = z['clips']
    synth = clips[clips[:, 2] == 0]; realc = clips[clips[:, 2] == 1]
    if cfg.get('no_real'): realc = realc[:0]
    CH = int(cfg.get('chunk', 300)); B = int(cfg.get('batch', 16))
    epochs = cfg.get('epochs', 20); share = cfg.get('real_share', 0.4)
    stack = [tuple(map(int, s.split(':'))) for s in cfg.get('stack', '2:2,2:2,4:0,8:0').split(',')]
    net = Net(cfg.get('hidden', 256), stack)
    if cfg.get('smooth'): net.set_smooth(cfg['smooth'], cfg.get('smooth_logits', False))
    net = net.to(dev)
    nparams = sum(p.numel() for p in net.parameters())
    chw = torch.ones(C, device=dev)
    for c, w in CHW.items(): chw[c] = w
    chw[CLOSE] = chw[PRESS] = cfg.get('closure_weight', 5.0)
    wsum = chw.sum().item()
    bil, pause = cfg.get('bilabial', 5.0), cfg.get('pause', 6.0)
    vv = torch.tensor(real['visemeVectors'], dtype=torch.float32, device=dev)  # [V, C]
    aux, tau = cfg.get('aux', 0.0), cfg.get('tau', 0.05)
    phone_label = cfg.get('label', 'nearest') == 'phone'  # the phone's own viseme instead of the one nearest the target
    if phone_label: vis = torch.from_numpy(np.array(vis_np)).to(dev)
    vel, vel_lag = cfg.get('vel', 0.0), int(cfg.get('vel_lag', 3))  # velocity objective: Δ over vel_lag frames

    def chunks_for(cl):
        out = []
        for off, n, _ in cl:
            if n <= CH: out.append((off, n))
            else:
                for _ in range(math.ceil(n / CH)): out.append((off + rng.integers(0, n - CH + 1), CH))
        return out

    def epoch_chunks():
        s = chunks_for(synth); r = chunks_for(realc)
        keep = min(len(r), round(share / (1 - share) * len(s))) if share < 1 else len(r)
        if keep < len(r): r = [r[i] for i in rng.permutation(len(r))[:keep]]
        allc = s + r
        return [allc[i] for i in rng.permutation(len(allc))]

    steps_per_epoch = math.ceil(len(epoch_chunks()) / B)
    total = epochs * steps_per_epoch; warm = min(200, total // 10); lr_max = cfg.get('lr', 3e-3)
    opt = torch.optim.AdamW(net.parameters(), lr=lr_max, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-4, **({'fused': True} if dev == 'cuda' else {}))
    ar = torch.arange(CH, device=dev)
    mid = torch.arange(M, device=dev, dtype=torch.float32)
    eqbase_t = (mid / (M - 1) - 0.5); eqbase_b = torch.cos(math.pi * mid / (M - 1))
    step = 0; t0 = time.time(); hist = []; stopped = False
    for ep in range(epochs):
        chunks = epoch_chunks(); lsum = 0.0; fsum = 0
        for b0 in range(0, len(chunks), B):
            bc = chunks[b0:b0 + B]; nb = len(bc)
            starts = torch.tensor([c[0] for c in bc], device=dev); lens = torch.tensor([c[1] for c in bc], device=dev)
            L = int(max(c[1] for c in bc))
            idx = starts[:, None] + ar[None, :L]; valid = ar[None, :L] < lens[:, None]
            idx = torch.where(valid, idx, torch.zeros_like(idx))
            x = feat[idx].float() * 0.1  # [nb, L, M] normalised
            # augmentation: EQ (tilt + bow, raw log units) and a mel-axis warp on 80 % of chunks
            tilt = torch.empty(nb, device=dev).uniform_(-1.5, 1.5); bow = torch.empty(nb, device=dev).uniform_(-1, 1)
            eq = (tilt[:, None] * eqbase_t[None] + bow[:, None] * eqbase_b[None]) * inv[None]
            warp_on = torch.rand(nb, device=dev) < cfg.get('warp_p', 0.8)
            alpha = torch.exp(torch.empty(nb, device=dev).uniform_(math.log(0.84), math.log(1.22)))
            alpha = torch.where(warp_on, alpha, torch.ones_like(alpha))
            src = mel_src(alpha); i0 = src.floor().clamp(max=M - 2).long(); fr = src - i0
            raw = x / inv + mean
            a = torch.gather(raw, 2, i0[:, None, :].expand(-1, L, -1)); bb = torch.gather(raw, 2, (i0 + 1)[:, None, :].expand(-1, L, -1))
            warped = ((a + fr[:, None, :] * (bb - a)) - mean) * inv
            x = torch.where(warp_on[:, None, None], warped, x) + eq[:, None, :]
            x = torch.where(valid[:, :, None], x, torch.zeros_like(x)).transpose(1, 2).contiguous()
            y = tgt[idx].float() / 255  # [nb, L, C]
            w = chw[None, None, :].expand(nb, L, C).clone()
            isb = y[:, :, PRESS] >= 0.25
            fw = torch.ones(nb, L, C, device=dev)
            fw[:, :, SEAL] = torch.where(isb[:, :, None], bil, 1.0)
            fw[:, :, JAW] = torch.where(isb, bil, torch.where(y.amax(2) <= 0.01, pause, 1.0))
            w = w * fw * valid[:, :, None]
            logit = net(x).transpose(1, 2)  # [nb, L, C]
            frames = sum(c[1] for c in bc)
            loss = (w * F.binary_cross_entropy_with_logits(logit, y, reduction='none')).sum() / (frames * wsum)
            if aux > 0:
                p = torch.sigmoid(logit)
                d = ((p[:, :, None, :] - vv[None, None]) ** 2).sum(-1)  # [nb, L, V]
                lab = vis[idx].long() if phone_label else ((y[:, :, None, :] - vv[None, None]) ** 2).sum(-1).argmin(-1)
                ce = F.cross_entropy((-d / tau).reshape(-1, vv.shape[0]), lab.reshape(-1), reduction='none').reshape(nb, L)
                loss = loss + aux * (ce * valid).sum() / frames
            if vel > 0:
                p = torch.sigmoid(logit); k = vel_lag
                both = valid[:, k:] & valid[:, :-k]
                dv = (p[:, k:] - p[:, :-k]) - (y[:, k:] - y[:, :-k])
                loss = loss + vel * ((dv ** 2) * chw[None, None] * both[:, :, None]).sum() / (frames * wsum)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
            step += 1
            lr = lr_max * step / warm if step <= warm else lr_max * (0.03 + 0.97 * 0.5 * (1 + math.cos(math.pi * (step - warm) / max(1, total - warm))))
            for g in opt.param_groups: g['lr'] = lr
            opt.step()
            if cfg.get('max_steps') and step >= cfg['max_steps']: stopped = True; break
            lsum += loss.item() * frames if b0 % (B * 50) == 0 else 0; fsum += frames if b0 % (B * 50) == 0 else 0
        hist.append(round(lsum / max(fsum, 1), 5))
        if stopped or time.time() > deadline:
            stopped = True; break
    train_s = time.time() - t0
    res = evaluate(net, z, real, dev)
    res.update(cfg=cfg, params=nparams, epochs_done=len(hist), stopped_early=stopped, train_s=round(train_s, 1), loss=hist, steps=step)
    name = cfg['name']
    with open(os.path.join(out_dir, f'res-{name}.json'), 'w') as f: json.dump(res, f)
    if cfg.get('save', True):
        flat = torch.cat([p.detach().float().flatten().cpu() for p in param_list(net)]).numpy()
        np.save(os.path.join(out_dir, f'w-{name}.npy'), flat)
    return res


def pearson(a, b):
    a = a - a.mean(); b = b - b.mean()
    return float((a * b).sum() / (a.norm() * b.norm() + 1e-12))


@torch.no_grad()
def evaluate(net, z, real, dev):
    net.eval()
    inv = torch.tensor(z['inv'], dtype=torch.float32, device=dev)
    # held-out synthetic voices at 100 fps (train.mjs's validation)
    ef = torch.from_numpy(z['evfeat']).to(dev).float() * 0.05; et = torch.from_numpy(z['evtgt'].astype(np.float32)).to(dev)
    ps, qs = [], []
    for off, n in z['evclips']:
        y = torch.sigmoid(net(ef[off:off + n].T[None]))[0]
        ps.append(y[JAW]); qs.append(et[off:off + n, JAW])
    syn_jaw = pearson(torch.cat(ps), torch.cat(qs))
    rf = torch.from_numpy(z['rfeat']).to(dev).float() * 0.05
    rt = torch.from_numpy(z['rtgt'].astype(np.float32)).to(dev).reshape(-1, C)
    rv = torch.from_numpy(z['rvis'].astype(np.int64)).to(dev)
    vv = torch.tensor(real['visemeVectors'], dtype=torch.float32, device=dev)
    preds = []; pause = []; hits = 0; nb = 0; per_voice = {}
    for c in real['clips']:
        y = torch.sigmoid(net(rf[c['fOff']:c['fOff'] + c['frames']].T[None]))[0]  # [C, F]
        T = c['T']
        k = torch.arange(T, device=dev, dtype=torch.float32)
        pos = k * (10 / 3) + (0.5 * 10 / 3 - 0.5)
        i0 = pos.floor(); fr = pos - i0; i0 = i0.long()
        a = y[:, i0]; b = y[:, i0 + 1]
        y30 = (a + (b - a) * fr).T  # [T, C]
        preds.append(y30)
        if c['pause']: pause.append(y30[c['pause'], JAW])
        clo = (y30[:, CLOSE] + y30[:, PRESS]).cpu().numpy()
        for first, last, lo, hi, tv in c['bil']:
            seg = clo[lo:hi + 1]; pp = lo + int(np.argmax(seg))
            nb += 1
            if first - 1 <= pp <= last + 1 and clo[pp] >= 0.5 * tv: hits += 1
    P = torch.cat(preds)
    r = [pearson(P[:, ch], rt[:, ch]) for ch in range(C)]
    d = ((P[:, None, :] - vv[None]) ** 2).sum(-1)
    nearest = d.argmin(1)  # first minimum on ties, like nearestViseme's strict <
    acc = float((nearest == rv).float().mean())
    net.train()
    return dict(syn_jaw=round(syn_jaw, 4), jaw=round(r[JAW], 4), main=round(float(np.mean([r[i] for i in MAIN])), 4), vis=round(acc, 4),
                closures=round(hits / max(nb, 1), 4), pause=round(float(torch.cat(pause).mean()), 4), r=[round(x, 3) for x in r])


if __name__ == '__main__':
    cfg = json.loads(sys.argv[1]); out = sys.argv[3]; os.makedirs(out, exist_ok=True)
    deadline = float(sys.argv[4]) if len(sys.argv) > 4 else time.time() + 1e9
    r = run(cfg, sys.argv[2], out, deadline)
    print(cfg['name'], json.dumps({k: v for k, v in r.items() if k not in ('r', 'loss')}), flush=True)
