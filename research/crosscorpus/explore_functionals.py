"""Exploration (not a shipped number): how far utterance statistics carry across corpora.

Extracts librosa statistics (an approximation of dsp_features::functionals plus log-mel
statistics) for RAVDESS 01-20 and EMO-DB, then fits class-balanced logistic regression:
  loco   : train on RAVDESS (8 labels), test on all of EMO-DB (6 shared labels)
  joint  : 5 folds by speaker over both corpora together, UA per corpus
under three normalisations (none, per-utterance CMN of the spectral blocks, per-corpus
z-scoring is NOT used: a user uploads one clip, so only per-utterance steps are allowed).

  SER_RAVDESS_DIR=../shared/data/ravdess-16k SER_EMODB_DIR=../shared/data/emodb-16k \
    python3 research/crosscorpus/explore_functionals.py
"""
import glob, os, sys
import numpy as np, librosa
from joblib import Parallel, delayed
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler
from sklearn.pipeline import make_pipeline

SR, HOP = 16000, 160
EMO = ["neutral", "calm", "happy", "sad", "angry", "fearful", "disgust", "surprised"]
EMODB = {"W": "angry", "L": "boredom", "E": "disgust", "A": "fearful", "F": "happy", "T": "sad", "N": "neutral"}


def clips():
    out = []
    for p in sorted(glob.glob(f"{os.environ['SER_RAVDESS_DIR']}/Actor_*/*.wav")):
        n = os.path.basename(p).split("-")
        out.append((p, "ravdess", "ravdess:" + n[6][:2], EMO[int(n[2]) - 1]))
    for p in sorted(glob.glob(f"{os.environ['SER_EMODB_DIR']}/*/*.wav")):
        b = os.path.basename(p)
        out.append((p, "emodb", "emodb:" + b[:2], EMODB[b[5]]))
    return out


def stats(x):
    x = np.asarray(x, dtype=np.float64)
    if x.size == 0:
        x = np.zeros(1)
    p5, p50, p95 = np.percentile(x, [5, 50, 95])
    return [x.mean(), x.std(), p5, p50, p95, p95 - p5]


def features(path):
    y, _ = librosa.load(path, sr=SR)
    y = y - y.mean()
    y, _ = librosa.effects.trim(y, top_db=40, frame_length=400, hop_length=HOP)
    y = 0.95 * y / (np.abs(y).max() + 1e-9)
    f0, vflag, vprob = librosa.pyin(y, fmin=65, fmax=600, sr=SR, frame_length=1024, hop_length=HOP) if False else (None, None, None)
    f0 = librosa.yin(y, fmin=65, fmax=600, sr=SR, frame_length=1024, hop_length=HOP)
    rms = librosa.feature.rms(y=y, frame_length=400, hop_length=HOP)[0]
    voiced = rms > 0.1 * rms.max()
    lf0 = np.log(f0[voiced]) if voiced.any() else np.zeros(1)
    S = np.abs(librosa.stft(y, n_fft=512, hop_length=HOP, win_length=400)) ** 2
    mel = librosa.power_to_db(librosa.feature.melspectrogram(S=S, sr=SR, n_mels=64), ref=1.0)
    mfcc = librosa.feature.mfcc(S=mel, n_mfcc=20)
    cen = librosa.feature.spectral_centroid(S=np.sqrt(S), sr=SR)[0]
    flat = librosa.feature.spectral_flatness(S=np.sqrt(S))[0]
    zcr = librosa.feature.zero_crossing_rate(y, frame_length=400, hop_length=HOP)[0]
    dmfcc = librosa.feature.delta(mfcc)
    prosody = [len(y) / SR, voiced.mean()] + stats(lf0) + stats(np.diff(lf0) if lf0.size > 1 else [0]) \
        + stats(20 * np.log10(rms + 1e-5)) + stats(np.log(cen + 1)) + stats(np.log(flat + 1e-10)) + stats(zcr)
    return np.array(prosody), mfcc, dmfcc, mel


def build(feats, norm):
    rows = []
    for pros, mfcc, dmfcc, mel in feats:
        if norm == "cmn":
            mfcc = mfcc - mfcc.mean(axis=1, keepdims=True)
            mel = mel - mel.mean(axis=1, keepdims=True)
        block = [pros, mfcc.mean(1), mfcc.std(1), dmfcc.std(1), mel.mean(1), mel.std(1)]
        if norm == "cmn":
            block = [pros, mfcc.std(1), dmfcc.std(1), mel.std(1)]
        rows.append(np.concatenate(block))
    return np.array(rows)


def ua(y, p, labels):
    return np.mean([np.mean(p[y == l] == l) for l in labels if (y == l).any()])


def main():
    cl = clips()
    cache = "runs/crosscorpus/feats.npy"
    os.makedirs("runs/crosscorpus", exist_ok=True)
    if os.path.exists(cache):
        feats = np.load(cache, allow_pickle=True)
    else:
        feats = Parallel(n_jobs=2)(delayed(features)(c[0]) for c in cl)
        np.save(cache, np.array(feats, dtype=object), allow_pickle=True)
    corpus = np.array([c[1] for c in cl]); spk = np.array([c[2] for c in cl]); lab = np.array([c[3] for c in cl])
    keep = lab != "boredom"
    shared = ["neutral", "happy", "sad", "angry", "fearful", "disgust"]
    for norm in ["none", "cmn"]:
        X = build(feats, norm)
        clf = lambda: make_pipeline(StandardScaler(), LogisticRegression(C=0.1, max_iter=3000, class_weight="balanced"))
        r = corpus == "ravdess"; e = (corpus == "emodb") & keep
        m = clf().fit(X[r], lab[r])
        print(f"[{norm}] LOCO RAVDESS->EMO-DB UA(6) = {ua(lab[e], m.predict(X[e]), shared):.3f}")
        m = clf().fit(X[e], lab[e])
        rs = r & np.isin(lab, shared)
        print(f"[{norm}] LOCO EMO-DB->RAVDESS UA(6 shared) = {ua(lab[rs], m.predict(X[rs]), shared):.3f}")
        # joint 5-fold by speaker
        speakers = sorted(set(spk[keep]))
        rng = np.random.default_rng(0); rng.shuffle(speakers)
        pred = np.empty(len(lab), dtype=object)
        for k in range(5):
            test = np.isin(spk, speakers[k::5]) & keep
            train = ~np.isin(spk, speakers[k::5]) & keep
            pred[test] = clf().fit(X[train], lab[train]).predict(X[test])
        print(f"[{norm}] joint CV: RAVDESS UA(8) = {ua(lab[r], pred[r], EMO):.3f}, EMO-DB UA(6) = {ua(lab[e], pred[e], shared):.3f}")
        # EMO-DB alone CV by speaker
        es = sorted(set(spk[e])); pred2 = np.empty(len(lab), dtype=object)
        for k in range(5):
            test = np.isin(spk, es[k::5]) & e; train = e & ~np.isin(spk, es[k::5])
            pred2[test] = clf().fit(X[train], lab[train]).predict(X[test])
        print(f"[{norm}] EMO-DB-only CV: UA(6) = {ua(lab[e], pred2[e], shared):.3f}")


if __name__ == "__main__":
    main()
