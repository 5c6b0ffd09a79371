# Exploration (see README.md here): per fold, a functionals classifier on the 16 training actors, fused with the CRNN fold's held-out probabilities.
# Late fusion of the shipped CRNN folds' held-out probabilities with a functionals classifier
# trained, per fold, on the same 16 training actors (hyperparameters by inner CV by actor).
import json, os, sys
import numpy as np
from sklearn.preprocessing import StandardScaler
from sklearn.linear_model import LogisticRegression
from sklearn.svm import SVC
from sklearn.pipeline import make_pipeline
from sklearn.model_selection import GridSearchCV, GroupKFold
from sklearn.metrics import balanced_accuracy_score
from common import MANIFEST, crnn_probs, labels_and_actors

z = np.load(os.environ.get("FUNC", "runs/fusion/functionals.npz"))
X, names, files = z["X"], list(z["names"]), list(z["files"])
sel = sys.argv[1] if len(sys.argv) > 1 else "all"
if sel == "noprosody":
    keep = [i for i, n in enumerate(names) if n.startswith(("mfcc", "dmfcc", "cent", "roll", "flat", "zcr", "rms", "drms"))]
elif sel == "prosody":
    keep = [i for i, n in enumerate(names) if not n.startswith(("mfcc", "dmfcc"))]
else:
    keep = list(range(len(names)))
X = X[:, keep]
emo, actor = labels_and_actors(files)
m = json.load(open(MANIFEST))
kind = sys.argv[2] if len(sys.argv) > 2 else "lr"
res = {"crnn": [], "func": [], "avg": [], "geo": []}
for k, fold in enumerate(m["metrics"]["cv"]["folds"], 1):
    te = np.isin(actor, fold["test_actors"]); tr = ~te
    if kind == "lr":
        pipe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000, class_weight="balanced"))
        grid = {"logisticregression__C": [0.01, 0.03, 0.1, 0.3, 1.0]}
    else:
        pipe = make_pipeline(StandardScaler(), SVC(probability=True, class_weight="balanced", random_state=0))
        grid = {"svc__C": [0.3, 1, 3, 10], "svc__gamma": ["scale"]}
    gs = GridSearchCV(pipe, grid, cv=GroupKFold(4), scoring="balanced_accuracy")
    gs.fit(X[tr], emo[tr], groups=actor[tr])
    pf = gs.predict_proba(X[te])
    # CRNN held-out probabilities, aligned by file name
    pc = crnn_probs(k, np.array(files)[te], m["labels"])
    assert pc is not None, "run crnn_heldout.py first"
    y = emo[te]
    ua = lambda p: balanced_accuracy_score(y, p.argmax(1))
    res["crnn"].append(ua(pc)); res["func"].append(ua(pf)); res["avg"].append(ua((pc + pf) / 2))
    g = np.exp(0.5 * np.log(pc + 1e-9) + 0.5 * np.log(pf + 1e-9)); res["geo"].append(ua(g))
    print(k, gs.best_params_, " ".join(f"{n} {v[-1]:.3f}" for n, v in res.items()), flush=True)
for n, v in res.items():
    print(f"{sel} {kind} {n}: {np.mean(v):.4f} ± {np.std(v, ddof=1):.4f}  " + " ".join(f"{x:.3f}" for x in v))
