# Exploration (see README.md here), 2026-12-05. Usage: heads.py mlp|hgb
# Other head learners on the 221 functionals of fuse_extra.py's largest set (the 112 shipped
# ones plus melstd, slope, ap, flux, band, rate, contrast), with inner CV by actor, fused with
# the fold CRNNs alone and three ways (CRNN 0.5, this head and the 112-feature logistic
# regression 0.25 each). Reads the held-out probabilities fuse_extra.py saved with
# SAVE=runs/fusion/probs/none and SAVE=runs/fusion/probs/all221.
import json, sys, warnings
warnings.filterwarnings("ignore")
import numpy as np
from sklearn.preprocessing import StandardScaler
from sklearn.neural_network import MLPClassifier
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.pipeline import make_pipeline
from sklearn.model_selection import GridSearchCV, GroupKFold
from sklearn.metrics import balanced_accuracy_score
from common import MANIFEST, feature_matrix, labels_and_actors

X, files = feature_matrix("melstd,slope,ap,flux,band,rate,contrast".split(","))
emo, actor = labels_and_actors(files)
folds = json.load(open(MANIFEST))["metrics"]["cv"]["folds"]
kind = sys.argv[1]
assert kind in ("mlp", "hgb"), "usage: heads.py mlp|hgb"
out = []
for k, fold in enumerate(folds, 1):
    f = np.load(f"runs/fusion/probs/all221-fold{k}.npz"); f0 = np.load(f"runs/fusion/probs/none-fold{k}.npz")
    te = np.isin(actor, fold["test_actors"]); tr = ~te
    if kind == "mlp":
        pipe = make_pipeline(StandardScaler(), MLPClassifier((128,), max_iter=400, early_stopping=False, random_state=0))
        grid = {"mlpclassifier__alpha": [1.0, 3.0, 10.0]}
    else:
        pipe = HistGradientBoostingClassifier(max_iter=200, learning_rate=0.05, class_weight="balanced", random_state=0)
        grid = {"max_depth": [3]}
    gs = GridSearchCV(pipe, grid, cv=GroupKFold(4), scoring="balanced_accuracy").fit(X[tr], emo[tr], groups=actor[tr])
    p = gs.predict_proba(X[te]); y = f["y"]
    ua = lambda q: balanced_accuracy_score(y, q.argmax(1))
    L = lambda q: np.log(q + 1e-9)
    out.append([ua(p), ua(0.5 * L(f["crnn"]) + 0.5 * L(p)), ua(0.5 * L(f["crnn"]) + 0.25 * L(p) + 0.25 * L(f0["head"])),
                ua(0.5 * L(f["crnn"]) + 0.25 * L(f["head"]) + 0.25 * L(f0["head"]))])
    print(k, gs.best_params_, np.round(out[-1], 3), flush=True)
o = np.array(out)
for j, n in enumerate(["alone", "fused w/ crnn", "crnn+this+lr112", "crnn+lr221+lr112"]):
    print(kind, n, f"{o[:, j].mean():.4f} ± {o[:, j].std(ddof=1):.4f}", np.round(o[:, j], 3))
