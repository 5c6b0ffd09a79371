# Shared by the exploration scripts here (see README.md): the clip list, the preprocessing
# every extractor applies, librosa's YIN with its CMNDF minimum, the statistics block, the
# labels and actors of the clips, the cached feature matrices and the CRNN folds' held-out
# probabilities.
import csv, glob, json, os
import numpy as np, librosa
import librosa.core.pitch as lp

SR, HOP = 16000, 160
MANIFEST = os.environ.get("SER_FOLD_ENSEMBLE", "runs/fold-ensemble-seed0") + "/manifest.json"


def clip_paths():
    return sorted(glob.glob(f"{os.environ['SER_RAVDESS_DIR']}/Actor_*/*.wav"))


def load_preprocessed(path):
    # What the CRNN gets: mean removed, trimmed at 40 dB, peak-normalised to 0.95.
    y, sr = librosa.load(path, sr=SR)
    y = y - y.mean()
    y, _ = librosa.effects.trim(y, top_db=40, frame_length=400, hop_length=HOP)
    return 0.95 * y / (np.abs(y).max() + 1e-9), sr


def stats(x, prefix):
    x = np.asarray(x, dtype=np.float64)
    if x.size == 0:
        x = np.zeros(1)
    p5, p50, p95 = np.percentile(x, [5, 50, 95])
    return {f"{prefix}_mean": x.mean(), f"{prefix}_std": x.std(), f"{prefix}_p5": p5,
            f"{prefix}_p50": p50, f"{prefix}_p95": p95, f"{prefix}_range": p95 - p5}


def yin(y, sr, fmin=65.0, fmax=600.0, frame_length=1024, hop=HOP, thr=0.1):
    # librosa.yin's F0, plus the CMNDF value at the chosen period (aperiodicity; a frame is
    # voiced below a threshold, 0.3 in dsp_features::functionals).
    yp = np.pad(y, (frame_length // 2, frame_length // 2))
    fr = librosa.util.frame(yp, frame_length=frame_length, hop_length=hop)
    minp = int(np.floor(sr / fmax)); maxp = min(int(np.ceil(sr / fmin)), frame_length - 1)
    yf = lp._cumulative_mean_normalized_difference(fr, minp, maxp)
    sh = lp._parabolic_interpolation(yf)
    trough = librosa.util.localmin(yf, axis=-2); trough[0, :] = yf[0, :] < yf[1, :]
    tt = trough & (yf < thr)
    per = np.argmax(tt, axis=0); gm = np.argmin(yf, axis=0)
    none = ~tt.any(axis=0); per[none] = gm[none]
    ap = yf[per, np.arange(yf.shape[1])]
    period = minp + per + sh[per, np.arange(yf.shape[1])]
    return sr / period, ap


def labels_and_actors(files):
    # RAVDESS names: modality-channel-emotion-intensity-statement-repetition-actor.wav
    emo = np.array([int(f.split("-")[2]) - 1 for f in files])
    actor = np.array([f.split("-")[6][:2] for f in files])
    return emo, actor


def feature_matrix(blocks):
    """The 112 shipped functionals (extract.py yin), with the named blocks of
    extract_extra.py appended; returns X and the clip file names."""
    b = np.load("runs/fusion/functionals_yin.npz")
    files = list(b["files"])
    if not blocks:
        return b["X"], files
    e = np.load("runs/fusion/functionals_extra.npz")
    assert list(e["files"]) == files, "the two feature files list different clips"
    prefix = [n.split("_")[0] for n in e["names"]]
    unknown = set(blocks) - set(prefix)
    assert not unknown, f"no block {sorted(unknown)} in functionals_extra.npz (has {sorted(set(prefix))})"
    keep = [i for i, p in enumerate(prefix) if p in blocks]
    return np.hstack([b["X"], e["X"][:, keep]]), files


def crnn_probs(fold, files, labels):
    """Held-out probabilities of the shipped fold network (crnn_heldout.py) for `files`, or
    None before crnn_heldout.py has run."""
    pred = f"runs/fusion/fold-{fold}/eval/predictions.csv"
    if not os.path.exists(pred):
        return None
    rows = {os.path.basename(r["path"]): r for r in csv.DictReader(open(pred))}
    return np.array([[float(rows[f][f"prob_{l}"]) for l in labels] for f in files])
