#!/usr/bin/env python3
"""Accuracy cross-check: ser's CRNN trained in PyTorch on ser's own features and folds.

Is ser's training the bottleneck of its RAVDESS accuracy, or the task on these features? This
script trains the same CRNN (benches/torch_crnn.py, built from the run's model config) in
PyTorch on the *same* cached log-mel clips (ser-train's feature cache, clean copies), with the
*same* actor folds and validation actors as a finished `ser-train cv` run, and prints each
configuration's held-out UA (mean over folds) for the best-validation epoch (what ser-train
keeps) and for the last epoch.

    pip install torch numpy
    python3 benches/cv_pytorch.py --cv-run runs/cv-crnn --configs plain,base,ep120 --seeds 0,1 \
        [--device cuda --par 16] [--out results.jsonl]

The features come from `<cv-run>/.cache/features-*.bin` (the clean cache: the smaller file when
waveform-noise copies are cached too) or `--npz FILE` (a float16 copy written by `--export-npz
FILE`, small enough to take to another machine). Training per fold: per-bin normalisation fitted
on the fold's training actors, random 3 s crops (batches padded to their longest crop),
AdamW (weight decay 1e-4) with one warm-up epoch from lr/10 and cosine decay to lr/20 (ser-train's
schedule), gradient-norm clip 5, inverse-frequency class weights. `base` adds SpecAugment (2 time
masks <= 20 frames, 2 frequency masks <= 8 bins) but none of ser-train's gain, noise, low-pass,
warp or waveform-noise augmentation. Every configuration is in CONFIGS below.
"""

import argparse
import functools
import glob
import json
import math
import os
import sys
import time

import numpy as np

CONFIGS = {
    # A plain PyTorch CRNN: batch 32, lr 1e-3, no augmentation but the crop.
    "plain": dict(epochs=40, bs=32, lr=1e-3, specaug=False),
    # ser-train's `speech` schedule (40 epochs, batch 16, lr 2e-3) without / with SpecAugment.
    "noaug": dict(epochs=40, bs=16, lr=2e-3, specaug=False),
    "base": dict(epochs=40, bs=16, lr=2e-3, specaug=True),
    # Longer schedules.
    "ep80": dict(epochs=80, bs=16, lr=2e-3, specaug=True),
    "ep120": dict(epochs=120, bs=16, lr=2e-3, specaug=True),
    # Stochastic weight averaging (Izmailov et al. 2018) over the last N epochs, batch-norm
    # statistics recomputed on the training clips.
    "swa40": dict(epochs=40, bs=16, lr=2e-3, specaug=True, swa=15),
    "swa80": dict(epochs=80, bs=16, lr=2e-3, specaug=True, swa=30),
}


@functools.lru_cache(maxsize=1)
def load_clips(npz, cv_run):
    """[(features [bins, frames] float32, actor, emotion index)] in cache order, read once per
    process (each worker trains several folds)."""
    if npz:
        z = np.load(npz)
        feats, lens, ids = z["feats"].astype(np.float32), z["lens"], z["ids"]
        items, o = [], 0
        for n, ident in zip(lens, ids):
            items.append((str(ident), feats[:, o:o + n]))
            o += n
    else:
        from train_vs_pytorch import read_cache

        files = sorted(glob.glob(os.path.join(cv_run, ".cache", "features-*.bin")), key=os.path.getsize)
        if not files:
            sys.exit(f"no feature cache in {cv_run}/.cache: run ser-train cv there first, or pass --npz")
        items = read_cache(files[0])
    clips = []
    for ident, m in items:
        actor = ident.split("/")[0].split("_")[-1]
        emotion = int(ident.split("/")[-1].split("-")[2]) - 1  # RAVDESS code 01..08
        clips.append((m, actor, emotion))
    return clips


@functools.lru_cache(maxsize=1)
def folds_of(cv_run):
    """Test and validation actors of each fold of a finished `ser-train cv` run, and its model config."""
    folds, k = [], 1
    while os.path.exists(os.path.join(cv_run, f"fold-{k}", "fold.json")):
        fold = json.load(open(os.path.join(cv_run, f"fold-{k}", "fold.json")))
        manifest = json.load(open(os.path.join(cv_run, f"fold-{k}", "model", "manifest.json")))
        folds.append(dict(test=fold["test_actors"], val=manifest["metrics"]["val_actors"],
                          model=manifest["members"][0]["model"]))
        k += 1
    if not folds:
        sys.exit(f"{cv_run} has no finished fold (fold-1/fold.json)")
    return folds


def make_batch(model, clips, idx, rng, crop, specaug, device):
    import torch

    longest = max(clips[k][0].shape[1] for k in idx)
    # At least one frame per time-pooling step of the conv stack (8 for ser's CRNN).
    width = max(min(crop, longest), int(np.prod(model.cfg["time_pools"])))
    bins = clips[idx[0]][0].shape[0]
    x = np.zeros((len(idx), bins, width), np.float32)
    lens = []
    for j, k in enumerate(idx):
        m = clips[k][0]
        start = rng.integers(0, max(1, m.shape[1] - width + 1)) if rng is not None else 0
        seg = m[:, start:start + width]
        x[j, :, :seg.shape[1]] = seg
        lens.append(seg.shape[1])
        if specaug:
            for _ in range(2):
                w = rng.integers(0, 21)
                s = rng.integers(0, max(1, seg.shape[1] - w))
                x[j, :, s:s + w] = 0
            for _ in range(2):
                w = rng.integers(0, 9)
                s = rng.integers(0, bins - w)
                x[j, s:s + w, :] = 0
    return torch.from_numpy(x).to(device), model.mask(lens, width).to(device)


def unweighted_accuracy(y, p, n_classes):
    return float(np.mean([np.mean(p[y == c] == c) for c in range(n_classes) if np.any(y == c)]))


def evaluate(model, clips, idx, device, n_classes):
    """UA on whole clips (no crop), in length-sorted batches."""
    import torch

    model.eval()
    order = sorted(idx, key=lambda k: clips[k][0].shape[1])
    preds = []
    with torch.no_grad():
        for i in range(0, len(order), 32):
            x, m = make_batch(model, clips, order[i:i + 32], None, 10**9, False, device)
            preds.append(model(x, m).argmax(1).cpu().numpy())
    model.train()
    y = np.array([clips[k][2] for k in order])
    return unweighted_accuracy(y, np.concatenate(preds), n_classes)


def train_fold(job):
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    from torch_crnn import Crnn

    args, name, seed, fold_no = job
    c = CONFIGS[name]
    device = args.device
    if device == "cpu":
        torch.set_num_threads(1)
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    fold = folds_of(args.cv_run)[fold_no] if args.cv_run else json.load(open(args.folds))[fold_no]
    raw = load_clips(args.npz, args.cv_run)
    held = set(fold["test"]) | set(fold["val"])
    tr = [i for i, (_, a, _) in enumerate(raw) if a not in held]
    va = [i for i, (_, a, _) in enumerate(raw) if a in fold["val"]]
    te = [i for i, (_, a, _) in enumerate(raw) if a in fold["test"]]
    frames = np.concatenate([raw[i][0] for i in tr], 1)
    mean, std = frames.mean(1, keepdims=True), frames.std(1, keepdims=True) + 1e-5
    clips = [((m - mean) / std, a, e) for m, a, e in raw]
    n_classes = fold["model"]["n_classes"]
    model = Crnn(fold["model"], c.get("dropout")).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=c["lr"], weight_decay=1e-4)
    counts = np.bincount([clips[i][2] for i in tr], minlength=n_classes).astype(np.float32)
    weights = torch.tensor(len(tr) / (n_classes * np.maximum(counts, 1)), device=device)
    swa = torch.optim.swa_utils.AveragedModel(model) if c.get("swa") else None
    bs, epochs = c["bs"], c["epochs"]
    n_batches = math.ceil(len(tr) / bs)
    best_val, test_at_best, log = -1.0, None, []
    for epoch in range(epochs):
        order = rng.permutation(tr)
        for b in range(n_batches):
            idx = order[b * bs:(b + 1) * bs]
            if len(idx) < 2:
                continue
            pos = epoch + b / n_batches  # ser-train's learning_rate()
            if pos < 1:
                lr = c["lr"] * (0.1 + 0.9 * pos)
            else:
                progress = min(1.0, (pos - 1) / max(1, epochs - 1))
                lr = c["lr"] / 20 + (c["lr"] - c["lr"] / 20) * 0.5 * (1 + math.cos(math.pi * progress))
            for g in opt.param_groups:
                g["lr"] = lr
            x, m = make_batch(model, clips, idx, rng, 300, c["specaug"], device)
            y = torch.tensor([clips[k][2] for k in idx], device=device)
            loss = F.cross_entropy(model(x, m), y, weight=weights)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            opt.step()
        if swa is not None and epoch >= epochs - c["swa"]:
            swa.update_parameters(model)
        v = evaluate(model, clips, va, device, n_classes)
        t = evaluate(model, clips, te, device, n_classes)
        log.append((v, t))
        if v > best_val + 1e-9:
            best_val, test_at_best = v, t
    test_swa = None
    if swa is not None:
        net = swa.module
        for mod in net.modules():
            if isinstance(mod, nn.BatchNorm2d):
                mod.reset_running_stats()
                mod.momentum = None  # cumulative average over the pass below
        net.train()
        with torch.no_grad():
            order = rng.permutation(tr)
            for b in range(n_batches):
                idx = order[b * bs:(b + 1) * bs]
                if len(idx) >= 2:
                    net(*make_batch(net, clips, idx, rng, 300, False, device))
        test_swa = evaluate(net, clips, te, device, n_classes)
    return dict(config=name, seed=seed, fold=fold_no + 1, test_actors=fold["test"], best_val=best_val,
                test_best_val=test_at_best, test_last=log[-1][1], test_swa=test_swa, log=log)


def export_npz(args):
    clips = load_clips(args.npz, args.cv_run)
    np.savez(args.export_npz, feats=np.concatenate([m for m, _, _ in clips], 1).astype(np.float16),
             lens=np.array([m.shape[1] for m, _, _ in clips]),
             ids=np.array([f"Actor_{a}/03-01-{e + 1:02d}" + "-00" * 4 for _, a, e in clips]))
    folds = folds_of(args.cv_run)
    with open(os.path.splitext(args.export_npz)[0] + "-folds.json", "w") as f:
        json.dump(folds, f)
    print(f"wrote {args.export_npz} and its -folds.json ({len(clips)} clips, {len(folds)} folds)")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--cv-run", help="a finished `ser-train cv` run: folds, validation actors, model config, features")
    p.add_argument("--npz", help="features from --export-npz instead of the run's cache")
    p.add_argument("--folds", help="the -folds.json written beside --export-npz (instead of --cv-run)")
    p.add_argument("--export-npz", help="write the run's clean features (float16) and folds, then exit")
    p.add_argument("--configs", default="plain,base", help=f"comma separated, of {','.join(CONFIGS)}")
    p.add_argument("--seeds", default="0")
    p.add_argument("--device", default="cpu", help="cpu or cuda")
    p.add_argument("--par", type=int, default=1, help="folds trained at once (processes)")
    p.add_argument("--out", help="append one JSON line per (config, seed, fold) here")
    args = p.parse_args()
    if not args.cv_run and not (args.npz and args.folds):
        p.error("give --cv-run, or --npz with --folds")
    if args.export_npz:
        return export_npz(args)
    n_folds = len(folds_of(args.cv_run) if args.cv_run else json.load(open(args.folds)))
    configs = args.configs.split(",")
    for c in configs:
        if c not in CONFIGS:
            p.error(f"unknown config {c!r}: choose from {', '.join(CONFIGS)}")
    seeds = [int(s) for s in args.seeds.split(",")]
    jobs = [(args, c, s, k) for c in configs for s in seeds for k in range(n_folds)]
    import multiprocessing as mp

    t0 = time.time()
    results = []
    with mp.get_context("spawn").Pool(args.par) as pool:
        for r in pool.imap_unordered(train_fold, jobs):
            results.append(r)
            if args.out:
                with open(args.out, "a") as f:
                    f.write(json.dumps(r) + "\n")
            print(f"{r['config']} seed {r['seed']} fold {r['fold']}: test UA {r['test_best_val']:.3f} at the "
                  f"best validation epoch, {r['test_last']:.3f} at the last", flush=True)
    print(f"\n{time.time() - t0:.0f} s; held-out UA, mean over {n_folds} folds:")
    print("| config | seed | best-validation epoch | last epoch | SWA |\n|---|---|---|---|---|")
    for c in configs:
        for s in seeds:
            rs = [r for r in results if r["config"] == c and r["seed"] == s]
            swa = [r["test_swa"] for r in rs if r["test_swa"] is not None]
            print(f"| {c} | {s} | {np.mean([r['test_best_val'] for r in rs]):.3f} | "
                  f"{np.mean([r['test_last'] for r in rs]):.3f} | {f'{np.mean(swa):.3f}' if swa else '-'} |")


if __name__ == "__main__":
    main()
