# Exploration (see README.md here), 2026-12-05. Usage: fuse_extra.py BLOCK[,BLOCK...]|none
# fuse.py's logistic-regression + geometric-mean fusion (weight 0.5), with the named blocks of
# extract_extra.py appended to the 112 shipped functionals (extract.py yin). SAVE=PREFIX keeps
# each fold's held-out probabilities for fusion_weight.py and heads.py.
import json, os, sys
import numpy as np
from sklearn.preprocessing import StandardScaler
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.model_selection import GridSearchCV, GroupKFold
from sklearn.metrics import balanced_accuracy_score
from common import MANIFEST, crnn_probs, feature_matrix, labels_and_actors

blocks = [] if sys.argv[1] == "none" else sys.argv[1].split(",")
X, files = feature_matrix(blocks)
emo, actor = labels_and_actors(files)
m = json.load(open(MANIFEST))
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
    pc = crnn_probs(k, np.array(files)[te], m["labels"])
    if pc is None:  # crnn_heldout.py has not run: the head alone
        continue
    res["crnn"].append(ua(pc))
    if os.environ.get("SAVE"):
        np.savez(f"{os.environ['SAVE']}-fold{k}.npz", head=pf, crnn=pc, y=y)
    res["geo"].append(ua(np.exp(0.5 * np.log(pc + 1e-9) + 0.5 * np.log(pf + 1e-9))))
name = sys.argv[1] + f" ({X.shape[1]} features)"
for n, v in res.items():
    if v:
        print(f"{name} {n}: {np.mean(v):.4f} ± {np.std(v, ddof=1):.4f}  " + " ".join(f"{x:.3f}" for x in v), flush=True)
