#!/usr/bin/env python3
# Usage: SER_RAVDESS_DIR=../shared/data/ravdess-16k python3 research/scripts/noise_level.py
# (pip install librosa numpy). Cited in docs/results.md, "Robustness".
# Where does the robustness test's noise (white, 20 dB below the clip's RMS) sit relative to
# the training augmentation's noise (per-band power 20-40 dB below the clip's loudest log-mel
# value)? Compare, per clip, peak log-mel dB minus the noise's log-mel dB level.
import glob, os
import numpy as np, librosa
files = sorted(glob.glob(os.path.join(os.environ['SER_RAVDESS_DIR'], 'Actor_1[7-9]', '*.wav')))[::12]
rng = np.random.default_rng(0)
gaps = []
for f in files:
    y, sr = librosa.load(f, sr=16000)
    # As crates/ser-models/tests/robustness.rs: noise 20 dB below the RMS of the whole clip
    # (silences included); then the pipeline's 40 dB trim and peak normalisation, applied to
    # both with the clean clip's bounds and gain.
    rms = np.sqrt(np.mean(y**2))
    n = rng.standard_normal(len(y)) * rms / 10
    _, (a, b) = librosa.effects.trim(y, top_db=40)
    g = 0.95 / np.abs(y[a:b]).max()
    y, n = y[a:b] * g, n[a:b] * g
    kw = dict(sr=sr, n_fft=512, hop_length=160, win_length=400, n_mels=64, htk=False, norm='slaney', power=2.0)
    S = librosa.power_to_db(librosa.feature.melspectrogram(y=y, **kw), ref=1.0, top_db=80)
    N = librosa.power_to_db(librosa.feature.melspectrogram(y=n, **kw), ref=1.0, top_db=None)
    gaps.append(S.max() - np.median(N))
gaps = np.array(gaps)
print(len(gaps), 'clips: peak log-mel minus median noise band level, dB: median %.1f, 10-90%% %.1f-%.1f' % (np.median(gaps), *np.percentile(gaps, [10, 90])))
