#!/usr/bin/env python3
# Usage: SER_RAVDESS_DIR=../shared/data/ravdess-16k python3 research/scripts/noisy_cv.py RUN [SNR]
# UA of each fold model of a finished `ser-train cv --out RUN` on its own held-out actors with
# white noise SNR dB (default 20) below each clip RMS (`ser-eval --noise-snr`); needs
# `cargo build --release -p ser-eval` (or SER_EVAL=path/to/ser-eval). Cited in docs/results.md.
import json, os, sys

from cvscore import held_out_ua, summary

run = sys.argv[1]; snr = sys.argv[2] if len(sys.argv) > 2 else "20"
uas = []
for k in range(1, 6):
    if not os.path.exists(f"{run}/fold-{k}/fold.json"):
        continue
    fold = json.load(open(f"{run}/fold-{k}/fold.json"))
    ua = held_out_ua(f"{run}/fold-{k}/model", fold["test_actors"], snr)
    uas.append(ua)
    print(f"fold {k}: clean UA {fold['ua']:.4f}, noisy UA {ua:.4f}", flush=True)
print(f"{run} @ {snr} dB: noisy {summary(uas)}")
