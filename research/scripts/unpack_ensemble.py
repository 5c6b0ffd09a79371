#!/usr/bin/env python3
# Usage: python3 research/scripts/unpack_ensemble.py [ENSEMBLE] OUT
# Copies each member of a fold ensemble written by `ser-train cv --ensemble-out` (default
# models/default) back into a cross-validation run directory, as OUT/fold-K/model (a
# single-model artifact with that member's weights, normalisation and training record).
# `ser-train cv --out OUT` with the same --folds/--seed then reuses those networks instead of
# training them (it says "reusing the trained model"), so options that act after training,
# such as --functionals, can be cross-validated on the shipped networks without retraining.
# Refuses an OUT that already has fold directories, and checks that each member's recorded
# fold matches its name. Cited in docs/results.md ("Utterance functionals").
import json, os, shutil, sys

ens = sys.argv[1] if len(sys.argv) > 2 else os.environ.get("SER_FOLD_ENSEMBLE", "runs/fold-ensemble-seed0")
out = sys.argv[-1]
m = json.load(open(f"{ens}/manifest.json"))
folds = m["metrics"]["cv"]["folds"]
trainings = m["training"].get("members", [])
assert len(folds) == len(m["members"]) == len(trainings), "one member per fold expected"
if os.path.isdir(out) and any(d.startswith("fold-") for d in os.listdir(out)):
    sys.exit(f"{out} already has fold directories: pick an empty --out")
for member, fold, tr in zip(m["members"], folds, trainings):
    assert member["name"] == f"fold-{fold['fold']}" == tr["name"], (member["name"], fold["fold"])
    d = f"{out}/fold-{fold['fold']}/model"
    os.makedirs(d)
    shutil.copy(f"{ens}/{member['weights']}", f"{d}/model.bpk")
    single = {k: v for k, v in m.items() if k not in ("members", "functionals")}
    single.update(kind="single", members=[{**{k: v for k, v in member.items() if k != "head"},
                                           "weights": "model.bpk"}],
                  training=tr["training"], metrics={},
                  protocol=f"fold {fold['fold']} of {ens}: test actors "
                           f"{', '.join(fold['test_actors'])} never seen in training")
    json.dump(single, open(f"{d}/manifest.json", "w"), indent=1)
    print(f"{d}: test actors {','.join(fold['test_actors'])}")
