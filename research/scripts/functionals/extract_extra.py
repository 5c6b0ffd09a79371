# Exploration (see README.md here), 2026-12-05. Usage: extract_extra.py OUT.npz
# Candidate blocks of utterance functionals beyond the 112 shipped ones, on the same
# preprocessed audio (mean removed, trimmed at 40 dB, peak 0.95) and the same YIN F0 as
# extract.py yin. Each name carries its block as a prefix ("melstd_3"), so fuse_extra.py can
# add blocks one at a time to the shipped vector.
import os, sys, time
import numpy as np, librosa
from common import HOP, clip_paths, load_preprocessed, stats, yin

files = clip_paths()

def runs(mask):
    # lengths of consecutive True runs
    out, n = [], 0
    for v in mask:
        if v: n += 1
        elif n: out.append(n); n = 0
    if n: out.append(n)
    return out

rows, names = [], None
t0 = time.time()
for i, f in enumerate(files):
    y, sr = load_preprocessed(f)
    dur = len(y) / sr
    f0, ap = yin(y, sr)
    v = ap < 0.3
    d = {}
    S = np.abs(librosa.stft(y, n_fft=512, hop_length=HOP, win_length=400)) ** 2
    mel = librosa.power_to_db(librosa.feature.melspectrogram(S=S, sr=sr, n_mels=64))
    for k in range(64):
        d[f"melmean_{k}"] = mel[k].mean()
    for k in range(64):
        d[f"melstd_{k}"] = mel[k].std()
    con = librosa.feature.spectral_contrast(S=np.sqrt(S), sr=sr, n_fft=512)
    for k in range(con.shape[0]):
        d[f"contrast_{k}_mean"] = con[k].mean(); d[f"contrast_{k}_std"] = con[k].std()
    d.update(stats(ap, "ap"))
    d["ap_voiced_mean"] = ap[v].mean() if v.any() else 1.0
    vr, ur = runs(v), runs(~v)
    d["rate_vruns_per_s"] = len(vr) / dur
    d["rate_vrun_mean_s"] = (np.mean(vr) if vr else 0.0) * HOP / sr
    d["rate_urun_mean_s"] = (np.mean(ur) if ur else 0.0) * HOP / sr
    rms = librosa.feature.rms(y=y, frame_length=400, hop_length=HOP)[0]
    rdb = 20 * np.log10(rms + 1e-5)
    d["rate_pause_frac"] = np.mean(rdb < rdb.max() - 30)
    fr = librosa.fft_frequencies(sr=sr, n_fft=512)
    n = min(S.shape[1], len(v)); vv = v[:n]
    Sv = S[:, :n][:, vv] if vv.any() else S
    lo = Sv[(fr >= 50) & (fr < 1000)].sum(0); hi = Sv[(fr >= 1000) & (fr < 5000)].sum(0)
    d.update(stats(10 * np.log10((lo + 1e-10) / (hi + 1e-10)), "band_alpha"))
    m02 = Sv[fr < 2000].max(0); m25 = Sv[(fr >= 2000) & (fr < 5000)].max(0)
    d.update(stats(10 * np.log10((m02 + 1e-10) / (m25 + 1e-10)), "band_hammar"))
    mf = librosa.feature.mfcc(S=mel, n_mfcc=20)
    mv = mf[:, :n][:, vv] if vv.any() else mf
    mu = mf[:, :n][:, ~vv] if (~vv).any() else mf
    for k in range(20):
        d[f"vmfcc_{k}"] = mv[k].mean(); d[f"umfcc_{k}"] = mu[k].mean()
    t = np.arange(len(f0)) * HOP / sr
    lf0 = np.log2(f0)
    d["slope_lf0"] = np.polyfit(t[v], lf0[v], 1)[0] if v.sum() > 2 else 0.0
    d["slope_rms"] = np.polyfit(np.arange(len(rdb)) * HOP / sr, rdb, 1)[0] if len(rdb) > 2 else 0.0
    flux = np.sqrt((np.diff(np.sqrt(S), axis=1) ** 2).sum(0)) if S.shape[1] > 1 else np.zeros(1)
    d.update(stats(np.log(flux + 1e-6), "flux"))
    if names is None:
        names = list(d)
    rows.append([d[k] for k in names])
    if i % 200 == 0:
        print(i, f"{time.time()-t0:.0f}s", flush=True)
np.savez(sys.argv[1], X=np.array(rows), names=np.array(names),
         files=np.array([os.path.basename(f) for f in files]))
print("done", len(names), "features", f"{time.time()-t0:.0f}s")
