#!/usr/bin/env python3
"""One CRNN training epoch in ser (burn 0.22, Flex or ndarray) and in PyTorch, same clips,
same architecture, same batch size and the same number of threads, in one run.

    pip install torch numpy            # CPU wheel from PyPI
    python3 benches/train_vs_pytorch.py --threads 2 [--reference-width]

ser side: `ser-train --model crnn --epochs 1` on the generated corpus (training actors 1-18,
validation 19-20, test 21-24), its epoch time read from log.csv (training + a validation pass
over 120 clips, which is ~3% of the epoch). The features it extracted are read back from its
feature cache (format documented in crates/ser-train/src/cache.rs), so PyTorch trains on
exactly the same log-mel clips, normalised the same way and randomly cropped to the same
length (3 s = 300 frames; each batch padded only to its longest crop, with ser-train's
length bucketing), with AdamW and class-weighted cross-entropy. PyTorch's time covers
the training loop only (the conservative choice for ser).
"""

import argparse
import glob
import json
import os
import struct
import subprocess
import sys
import tempfile
import time

import numpy as np


def read_cache(path):
    """Reads ser-train's feature cache: [(id, array[bins, frames])]."""
    out = []
    with open(path, "rb") as f:
        assert f.read(8) == b"SERFEAT1", "not a ser feature cache"
        (n,) = struct.unpack("<Q", f.read(8))
        for _ in range(n):
            (ln,) = struct.unpack("<I", f.read(4))
            ident = f.read(ln).decode()
            bins, frames = struct.unpack("<II", f.read(8))
            data = np.frombuffer(f.read(4 * bins * frames), dtype="<f4").reshape(bins, frames)
            out.append((ident, data))
    return out


def run_ser(args, work):
    out = os.path.join(work, "crnn")
    cmd = [args.ser_bin, "--model", "crnn", "--epochs", "1", "--patience", "1", "--quiet",
           "--out", out, "--cache-dir", os.path.join(work, "cache"), "--backend", args.backend]
    if args.reference_width:
        # The PyTorch reference CRNN (conv 32-64-128-128, BiGRU 128), which is also
        # ser-train's `speech` preset CRNN; PyTorch builds the same from the manifest.
        cmd += ["--channels", "32,64,128,128", "--hidden", "128"]
    env = dict(os.environ, RAYON_NUM_THREADS=str(args.threads))
    subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL)
    with open(os.path.join(out, "log.csv")) as f:
        rows = f.read().strip().splitlines()
    header, first = rows[0].split(","), rows[1].split(",")
    seconds = float(first[header.index("seconds")])
    with open(os.path.join(out, "manifest.json")) as f:
        manifest = json.load(f)
    return seconds, manifest


def run_torch(args, work, manifest):
    import torch
    import torch.nn.functional as F

    from torch_crnn import Crnn

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    (cache,) = glob.glob(os.path.join(work, "cache", "features-*.bin"))
    labels = manifest["labels"]
    held = set(manifest["metrics"]["test_actors"]) | set(manifest["metrics"]["val_actors"])
    member = manifest["members"][0]
    mean = np.array(member["norm"]["mean"], dtype=np.float32)[:, None]
    std = np.array(member["norm"]["std"], dtype=np.float32)[:, None]
    clips = []
    for ident, m in read_cache(cache):
        actor = ident.split("/")[0].split("_")[-1]
        if actor in held:
            continue
        emotion = ident.split("/")[-1].split("-")[2]  # RAVDESS code 01..08
        clips.append(((m - mean) / std, int(emotion) - 1))
    cfg = member["model"]
    crop = 300

    model = Crnn(cfg)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=1e-4)
    counts = np.bincount([l for _, l in clips], minlength=len(labels)).astype(np.float32)
    weights = torch.tensor(len(clips) / (len(labels) * np.maximum(counts, 1)))
    rng = np.random.default_rng(0)
    bs = 32
    # Same batching as ser-train (crates/ser-train/src/trainer.rs, length_bucketed_batches,
    # and augment.rs, train_batch): shuffle, sort windows of 8 batches by clip length, pad
    # each batch only to its longest crop (at least one frame per time-pooling step).
    order = rng.permutation(len(clips))
    window = 8 * bs
    order = np.concatenate([
        sorted(order[w:w + window], key=lambda k: clips[k][0].shape[1])
        for w in range(0, len(order), window)
    ])
    batches = [order[i:i + bs] for i in range(0, len(order), bs)]
    rng.shuffle(batches)
    pools = int(np.prod(cfg["time_pools"]))
    t0 = time.perf_counter()
    for idx in batches:
        longest = max(clips[k][0].shape[1] for k in idx)
        width = max(min(crop, longest), pools)
        x = np.zeros((len(idx), clips[0][0].shape[0], width), dtype=np.float32)
        lens = []
        for j, k in enumerate(idx):
            m = clips[k][0]
            start = rng.integers(0, max(1, m.shape[1] - width + 1))
            seg = m[:, start:start + width]
            x[j, :, :seg.shape[1]] = seg
            lens.append(seg.shape[1])
        mask = model.mask(lens, width)
        y = torch.tensor([clips[k][1] for k in idx])
        loss = F.cross_entropy(model(torch.from_numpy(x), mask), y, weight=weights)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
    return time.perf_counter() - t0, len(clips), torch.__version__


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--backend", default="flex", help="ser backend (flex, or ndarray if compiled in)")
    p.add_argument("--ser-bin", default="target/release/ser-train")
    p.add_argument("--no-build", action="store_true")
    p.add_argument("--reference-width", action="store_true",
                   help="both sides train the wide CRNN (conv 32-64-128-128, BiGRU 128) instead of "
                        "ser-train's default 16-32-64 / 64")
    args = p.parse_args()
    if not args.no_build:
        subprocess.run(["cargo", "build", "--release", "-p", "ser-train"], check=True)
    with tempfile.TemporaryDirectory() as work:
        ser_s, manifest = run_ser(args, work)
        torch_s, n, version = run_torch(args, work, manifest)
    width = "conv 32-64-128-128, BiGRU 128" if args.reference_width else "conv 16-32-64, BiGRU 64"
    print(f"CRNN ({width}), one epoch, {n} training clips, 64 mels, crops of at most 300 frames padded to the batch's longest, batch 32, {args.threads} threads")
    print(f"  ser ({args.backend}): {ser_s:7.1f} s (incl. validation pass)")
    print(f"  PyTorch {version}: {torch_s:7.1f} s")
    print(f"  ratio ser / PyTorch: {ser_s / torch_s:.2f}")


if __name__ == "__main__":
    sys.exit(main())
