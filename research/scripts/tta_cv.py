#!/usr/bin/env python3
# Usage: SER_RAVDESS_DIR=../shared/data/ravdess-16k python3 research/scripts/tta_cv.py [MODEL] [WARPS] [SNR]
# The cross-validation of test-time frequency-warp averaging (manifest `test_time_warps`)
# without retraining: MODEL (default models/default) must be a fold ensemble written by
# `ser-train cv --ensemble-out`, whose manifest records each fold's test actors. Each member is
# copied into its own single-model artifact under runs/tta/SETTING/ with `test_time_warps` = WARPS
# (comma separated, e.g. 0.95,1,1.05; empty = none) and scored by `ser-eval` on the actors its
# fold held out, optionally with white noise SNR dB below each clip's RMS. Prints per-fold UA
# and mean ± std. Needs `cargo build --release -p ser-eval` (or SER_EVAL=path). Cited in
# docs/results.md.
import json, os, shutil, sys

from cvscore import score_artifact, summary

model = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("SER_FOLD_ENSEMBLE", "runs/fold-ensemble-seed0")
warps = [float(w) for w in sys.argv[2].split(",") if w] if len(sys.argv) > 2 else []
snr = sys.argv[3] if len(sys.argv) > 3 else None
manifest = json.load(open(f"{model}/manifest.json"))
folds = manifest["metrics"]["cv"]["folds"]
assert len(folds) == len(manifest["members"]), "one member per fold expected"
uas = []
for member, fold in zip(manifest["members"], folds):
    assert member["name"] == f"fold-{fold['fold']}", (member["name"], fold["fold"])
    # One directory per setting, so two settings scored at once do not rewrite each other's.
    setting = "-".join(map(str, warps)) or "none"
    out_dir = f"runs/tta/{setting}-{snr or 'clean'}/{member['name']}"
    shutil.rmtree(out_dir, ignore_errors=True)
    os.makedirs(out_dir)
    shutil.copy(f"{model}/{member['weights']}", f"{out_dir}/{member['weights']}")
    single = {**manifest, "kind": "single", "members": [member], "test_time_warps": warps,
              "training": {"train_actors": fold["train_actors"]}, "metrics": {}}
    ua = score_artifact(out_dir, single, fold["test_actors"], snr)
    uas.append(ua)
    print(f"fold {fold['fold']}: recorded UA {fold['ua']:.4f}, this run {ua:.4f}", flush=True)
print(f"{model} warps {warps or 'none'} snr {snr or 'clean'}: {summary(uas)}")
