#!/usr/bin/env python3
# Usage: SER_RAVDESS_DIR=../shared/data/ravdess-16k python3 research/scripts/seed_fusion_cv.py RUN[,RUN...] [SNR] [nohead]
# Cross-validation of a fold ensemble with more than one training seed per fold, with or
# without the shipped functionals heads, without retraining anything. For fold K it writes
# runs/seedfuse/VARIANT/fold-K (VARIANT: heads|nohead and the SNR): an ensemble artifact whose
# members are models/default's fold-K member
# (seed 0, with its functionals head) and the network of RUN/fold-K/model for each RUN (a
# `ser-train cv --out RUN` of another training seed, same folds), each given the same head,
# since the head is fitted on the fold's training actors only and does not depend on the
# network. `Classifier::predict` fuses each member with its head and averages the members.
# The artifact is scored by `ser-eval` on the four actors fold K held out (cvscore.py),
# optionally with white noise SNR dB below each clip's RMS. `nohead` drops the heads (the
# networks' average alone). Cited in docs/results.md.
import json, os, shutil, sys

from cvscore import score_artifact, summary

runs = sys.argv[1].split(",")
snr = sys.argv[2] if len(sys.argv) > 2 and sys.argv[2] != "-" else None
head = not (len(sys.argv) > 3 and sys.argv[3] == "nohead")
base = os.environ.get("SER_FOLD_ENSEMBLE", "runs/fold-ensemble-seed0")
m = json.load(open(f"{base}/manifest.json"))
folds = m["metrics"]["cv"]["folds"]
uas = []
for member, fold in zip(m["members"], folds):
    k = fold["fold"]
    assert member["name"] == f"fold-{k}", (member["name"], k)
    # One directory per variant: two runs of the script at once (with and without heads)
    # must not rewrite each other's artifact mid-evaluation.
    out = f"runs/seedfuse/{'heads' if head else 'nohead'}-{snr or 'clean'}/fold-{k}"
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    shutil.copy(f"{base}/{member['weights']}", f"{out}/seed0.bpk")
    seed0 = {kk: v for kk, v in member.items() if head or kk != "head"}
    members = [{**seed0, "name": f"fold-{k}-seed0", "weights": "seed0.bpk"}]
    for i, run in enumerate(runs, 1):
        d = f"{run}/fold-{k}/model"
        other = json.load(open(f"{d}/manifest.json"))
        assert other["training"]["train_speakers"] == fold["train_actors"], f"{d}: other folds"
        (om,) = other["members"]
        shutil.copy(f"{d}/{om['weights']}", f"{out}/run{i}.bpk")
        members.append({**om, "name": f"fold-{k}-run{i}", "weights": f"run{i}.bpk",
                        **({"head": member["head"]} if head else {})})
    ensemble = {kk: v for kk, v in m.items() if head or kk != "functionals"}
    ensemble.update(kind="ensemble", members=members,
                    training={"train_actors": fold["train_actors"]}, metrics={})
    ua = score_artifact(out, ensemble, fold["test_actors"], snr)
    uas.append(ua)
    print(f"fold {k}: {len(members)} networks, heads {head}: UA {ua:.4f}", flush=True)
print(f"seeds 0 + {runs} heads {head} snr {snr or 'clean'}: {summary(uas)}")
