# Exploration (see README.md here). Usage: extract.py pyin|yin OUT.npz
# F0 by librosa.pyin (the first variant) or by YIN with voicing = CMNDF minimum < VTHR
# (default 0.3), the F0 definition dsp_features::functionals implements. The rest of the
# vector is as it was run in the exploration (e.g. the centroid of the power spectrum, where
# dsp_features uses the magnitude, as the fixture script make_functionals_fixtures.py defines).
# Utterance-level functionals (prosody, energy, spectral shape, MFCC stats) for the 1200 RAVDESS
# clips, cached to functionals.npz. Exploration script for late fusion with the CRNN.
import glob, os, sys, time
import numpy as np, librosa

root = os.environ["SER_RAVDESS_DIR"]
files = sorted(glob.glob(f"{root}/Actor_*/*.wav"))
def stats(x, prefix):
    x = np.asarray(x, dtype=np.float64)
    if x.size == 0:
        x = np.zeros(1)
    p5, p50, p95 = np.percentile(x, [5, 50, 95])
    return {f"{prefix}_mean": x.mean(), f"{prefix}_std": x.std(), f"{prefix}_p5": p5,
            f"{prefix}_p50": p50, f"{prefix}_p95": p95, f"{prefix}_range": p95 - p5}
import librosa.core.pitch as lp
def yin_voiced(y, sr, fmin=65.0, fmax=600.0, frame_length=1024, hop=160, thr=0.1, vthr=float(os.environ.get("VTHR", "0.3"))):
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
    return sr / period, ap < vthr
method = sys.argv[1]
assert method in ("pyin", "yin") and len(sys.argv) == 3, "usage: extract.py pyin|yin OUT.npz"
rows, names = [], None
t0 = time.time()
for i, f in enumerate(files):
    y, sr = librosa.load(f, sr=16000)
    y = y - y.mean()
    y, _ = librosa.effects.trim(y, top_db=40, frame_length=400, hop_length=160)
    y = 0.95 * y / (np.abs(y).max() + 1e-9)
    d = {"dur": len(y) / sr}
    if method == "pyin":
        f0, vflag, _ = librosa.pyin(y, fmin=65, fmax=600, sr=sr, frame_length=1024, hop_length=160)
    else:
        f0, vflag = yin_voiced(y, sr)
    lf0 = np.log2(f0[vflag]) if vflag.any() else np.zeros(1)
    d.update(stats(lf0 - np.median(lf0), "lf0rel"))
    d["lf0_med"] = np.median(lf0)
    d["voiced_frac"] = vflag.mean()
    dl = np.diff(lf0) if lf0.size > 1 else np.zeros(1)
    d.update(stats(np.abs(dl), "dlf0"))
    rms = librosa.feature.rms(y=y, frame_length=400, hop_length=160)[0]
    rdb = 20 * np.log10(rms + 1e-5)
    d.update(stats(rdb, "rms"))
    d.update(stats(np.diff(rdb), "drms"))
    S = np.abs(librosa.stft(y, n_fft=512, hop_length=160, win_length=400)) ** 2
    for name, v in [("cent", librosa.feature.spectral_centroid(S=S, sr=sr)[0]),
                    ("roll", librosa.feature.spectral_rolloff(S=S, sr=sr)[0]),
                    ("flat", np.log(librosa.feature.spectral_flatness(S=S)[0] + 1e-10)),
                    ("zcr", librosa.feature.zero_crossing_rate(y, frame_length=400, hop_length=160)[0])]:
        d.update(stats(v, name))
    mel = librosa.power_to_db(librosa.feature.melspectrogram(S=S, sr=sr, n_mels=64))
    mf = librosa.feature.mfcc(S=mel, n_mfcc=20)
    dmf = librosa.feature.delta(mf)
    for k in range(20):
        d[f"mfcc{k}_mean"] = mf[k].mean(); d[f"mfcc{k}_std"] = mf[k].std()
        d[f"dmfcc{k}_std"] = dmf[k].std()
    # voiced-only spectral tilt proxy: mean log-mel of voiced frames, low vs high bands
    n = min(mel.shape[1], len(vflag))
    vm = mel[:, :n][:, vflag[:n]] if vflag[:n].any() else mel
    d["tilt"] = vm[:20].mean() - vm[40:].mean()
    if names is None:
        names = list(d)
    rows.append([d[k] for k in names])
    if i % 100 == 0:
        print(i, f"{time.time()-t0:.0f}s", flush=True)
base = [os.path.basename(f) for f in files]
np.savez(sys.argv[2],
         X=np.array(rows), names=np.array(names), files=np.array(base))
print("done", time.time() - t0)
