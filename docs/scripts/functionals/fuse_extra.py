# Exploration (see README.md here), 2026-12-05. Usage: fuse_extra.py BLOCK[,BLOCK...]|none
# fuse.py's logistic-regression + geometric-mean fusion, with the named blocks of
# extract_extra.py appended to the 112 shipped functionals (extract.py yin).
import csv, json, os, sys
import numpy as np
from sklearn.preprocessing import StandardScaler
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.model_selection import GridSearchCV, GroupKFold
from sklearn.metrics import balanced_accuracy_score

b = np.load("runs/fusion/functionals_yin.npz"); e = np.load("runs/fusion/functionals_extra.npz")
assert list(b["files"]) == list(e["files"])
files = list(b["files"]); enames = list(e["names"])
blocks = [] if sys.argv[1] == "none" else sys.argv[1].split(",")
keep = [i for i, n in enumerate(enames) if n.split("_")[0] in blocks]
assert len(keep) > 0 or not blocks, f"no feature in blocks {blocks}"
X = np.hstack([b["X"], e["X"][:, keep]])
emo = np.array([int(f.split("-")[2]) - 1 for f in files])
actor = np.array([f.split("-")[6][:2] for f in files])
m = json.load(open("models/default/manifest.json"))
w = float(os.environ.get("W", "0.5"))
res = {"crnn": [], "func": [], "geo": []}
for k, fold in enumerate(m["metrics"]["cv"]["folds"], 1):
    te = np.isin(actor, fold["test_actors"]); tr = ~te
    pipe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000, class_weight="balanced"))
    gs = GridSearchCV(pipe, {"logisticregression__C": [0.003, 0.01, 0.03, 0.1, 0.3, 1.0]},
                      cv=GroupKFold(4), scoring="balanced_accuracy")
    gs.fit(X[tr], emo[tr], groups=actor[tr])
    pf = gs.predict_proba(X[te])
    y = emo[te]
    ua = lambda p: balanced_accuracy_score(y, p.argmax(1))
    res["func"].append(ua(pf))
    pred = f"runs/fusion/fold-{k}/eval/predictions.csv"
    if not os.path.exists(pred):  # no CRNN probabilities yet: the head alone
        continue
    rows = {os.path.basename(r["path"]): r for r in csv.DictReader(open(pred))}
    pc = np.array([[float(rows[f][f"prob_{l}"]) for l in m["labels"]] for f in np.array(files)[te]])
    res["crnn"].append(ua(pc))
    if os.environ.get("SAVE"):  # held-out probabilities of both, for fusion_weight.py
        np.savez(f"{os.environ['SAVE']}-fold{k}.npz", head=pf, crnn=pc, y=y)
    res["geo"].append(ua(np.exp((1 - w) * np.log(pc + 1e-9) + w * np.log(pf + 1e-9))))
name = sys.argv[1] + f" ({X.shape[1]} features)"
for n, v in res.items():
    if not v:
        continue
    print(f"{name} {n}: {np.mean(v):.4f} ± {np.std(v, ddof=1):.4f}  " + " ".join(f"{x:.3f}" for x in v), flush=True)
