# Exploration (see README.md here). Usage: extract.py pyin|yin OUT.npz
# F0 by librosa.pyin (the first variant) or by YIN with voicing = CMNDF minimum < VTHR
# (default 0.3), the F0 definition dsp_features::functionals implements. The rest of the
# vector is as it was run in the exploration (e.g. the centroid of the power spectrum, where
# dsp_features uses the magnitude, as the fixture script make_functionals_fixtures.py defines).
# Utterance-level functionals (prosody, energy, spectral shape, MFCC stats) for the 1200 RAVDESS
# clips, cached to functionals.npz. Exploration script for late fusion with the CRNN.
import os, sys, time
import numpy as np, librosa
from common import clip_paths, load_preprocessed, stats, yin

VTHR = float(os.environ.get("VTHR", "0.3"))
files = clip_paths()
method = sys.argv[1]
assert method in ("pyin", "yin") and len(sys.argv) == 3, "usage: extract.py pyin|yin OUT.npz"
rows, names = [], None
t0 = time.time()
for i, f in enumerate(files):
    y, sr = load_preprocessed(f)
    d = {"dur": len(y) / sr}
    if method == "pyin":
        f0, vflag, _ = librosa.pyin(y, fmin=65, fmax=600, sr=sr, frame_length=1024, hop_length=160)
    else:
        f0, ap = yin(y, sr)
        vflag = ap < VTHR
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
