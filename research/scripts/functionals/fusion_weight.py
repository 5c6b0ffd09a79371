# Exploration (see README.md here), 2026-12-05. Usage: fusion_weight.py PREFIX
# Fusion weight of the head in the geometric mean, on the held-out probabilities fuse_extra.py
# saved (SAVE=PREFIX). Prints UA for fixed weights, and for a weight chosen per fold by
# leave-one-fold-out: fold k gets the weight that scores best on the other four folds' held-out
# actors, so fold k's own actors never choose its weight.
import sys
import numpy as np
from sklearn.metrics import balanced_accuracy_score
F = [np.load(f"{sys.argv[1]}-fold{k}.npz") for k in range(1, 6)]
W = np.round(np.arange(0.0, 1.01, 0.1), 2)
def ua(f, w):
    g = (1 - w) * np.log(f["crnn"] + 1e-9) + w * np.log(f["head"] + 1e-9)
    return balanced_accuracy_score(f["y"], g.argmax(1))
tab = np.array([[ua(f, w) for f in F] for w in W])  # weights x folds
for w, r in zip(W, tab):
    print(f"w={w:.1f}: {r.mean():.4f} ± {r.std(ddof=1):.4f}  " + " ".join(f"{x:.3f}" for x in r))
chosen = [W[np.argmax(np.delete(tab, k, axis=1).mean(1))] for k in range(5)]
lofo = np.array([tab[list(W).index(w), k] for k, w in enumerate(chosen)])
print(f"leave-one-fold-out weights {chosen}: {lofo.mean():.4f} ± {lofo.std(ddof=1):.4f}  " + " ".join(f"{x:.3f}" for x in lofo))
