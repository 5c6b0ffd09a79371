#!/usr/bin/env python3
"""Feature extraction throughput: dsp-features (Rust) vs librosa 0.11, side by side, one run.

    python3 benches/features_vs_librosa.py [--clips 32] [--seconds 4] [--repeat 3] [--kind logmel]
                                           [--wav-dir DIR]

* Installs librosa 0.11 with pip if it is missing.
* Writes the same clips (deterministic synthetic speech-like signals, or the first --clips WAVs of
  --wav-dir resampled to 16 kHz by librosa) as float32 .npy to a temp folder.
* librosa: melspectrogram(sr=16000, n_fft=512, win_length=400, hop_length=160, n_mels=64) +
  power_to_db (the dsp-features defaults), single thread (OMP/MKL/OPENBLAS/NUMBA threads = 1).
* dsp-features: `cargo build --release -p dsp-features --example throughput`, run with
  RAYON_NUM_THREADS=1 (sequential clips), then the batch API with 1 and 2 threads.
* Checks the two outputs agree on the first clip, and prints the real-time factor
  (seconds of audio per second, wall clock and CPU time) and the ratio.
CPU time is reported beside wall time because the shared machine may be busy: CPU seconds are
what each tool actually consumed and are much less sensitive to other load.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

# Single-threaded numeric libraries, set before numpy is imported.
for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ[var] = "1"

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SR = 16000


def ensure_librosa():
    try:
        import librosa  # noqa: F401
    except ImportError:
        subprocess.check_call([sys.executable, "-m", "pip", "install", "-q", "librosa==0.11.*", "numpy"])


def make_clips(n, seconds, wav_dir):
    import numpy as np
    if wav_dir:
        import librosa
        wavs = sorted(os.path.join(d, f) for d, _, fs in os.walk(wav_dir) for f in fs if f.lower().endswith(".wav"))[:n]
        return [librosa.load(w, sr=SR, mono=True)[0].astype(np.float32) for w in wavs], f"{len(wavs)} WAVs from {wav_dir}"
    rng = np.random.default_rng(1234)
    t = np.arange(int(seconds * SR)) / SR
    clips = []
    for k in range(n):
        f0 = 110 + 10 * k
        y = sum(np.sin(2 * np.pi * h * f0 * t * (1 + 0.02 * np.sin(2 * np.pi * 3 * t))) / h for h in range(1, 8))
        y = 0.2 * y * (0.5 + 0.5 * np.sin(2 * np.pi * 2 * t) ** 2) + 0.01 * rng.standard_normal(len(t))
        clips.append(y.astype(np.float32))
    return clips, f"{n} synthetic clips of {seconds} s"


def librosa_run(clips, kind, repeat):
    import librosa
    import numpy as np
    kw = dict(sr=SR, n_fft=512, win_length=400, hop_length=160, n_mels=64)

    def one(y):
        if kind == "mfcc":
            return librosa.feature.mfcc(y=y, n_mfcc=40, **kw)
        if kind == "stft":
            return np.abs(librosa.stft(y, n_fft=512, win_length=400, hop_length=160)) ** 2
        return librosa.power_to_db(librosa.feature.melspectrogram(y=y, **kw), ref=1.0, amin=1e-10, top_db=80.0)

    for y in clips[:2]:
        one(y)  # warm-up (numba JIT, FFT plan caches)
    w0, c0 = time.perf_counter(), time.process_time()
    for _ in range(repeat):
        for y in clips:
            one(y)
    wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    audio = repeat * sum(len(y) for y in clips) / SR
    return {"tool": "librosa " + librosa.__version__, "wall_s": wall, "cpu_s": cpu, "audio_s": audio,
            "x_realtime_wall": audio / wall, "x_realtime_cpu": audio / cpu}, one(clips[0])


def rust_run(exe, clip_dir, kind, repeat, mode, threads, extra=()):
    env = dict(os.environ, RAYON_NUM_THREADS=str(threads))
    out = subprocess.check_output([exe, clip_dir, "--kind", kind, "--mode", mode, "--repeat", str(repeat), *extra], env=env)
    return json.loads(out.decode().strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clips", type=int, default=32)
    ap.add_argument("--seconds", type=float, default=4.0)
    ap.add_argument("--repeat", type=int, default=3, help="passes over the clips for librosa")
    ap.add_argument("--rust-repeat", type=int, default=30, help="passes over the clips for dsp-features")
    ap.add_argument("--kind", choices=["logmel", "mfcc", "stft"], default="logmel")
    ap.add_argument("--wav-dir", default=None)
    a = ap.parse_args()

    ensure_librosa()
    import numpy as np

    subprocess.check_call(["cargo", "build", "--release", "-q", "-p", "dsp-features", "--example", "throughput"], cwd=ROOT)
    exe = os.path.join(ROOT, "target", "release", "examples", "throughput")
    with open("/proc/loadavg") as f:
        load = f.read().split()[:3]
    with tempfile.TemporaryDirectory() as tmp:
        clips, what = make_clips(a.clips, a.seconds, a.wav_dir)
        for i, y in enumerate(clips):
            np.save(os.path.join(tmp, f"clip_{i:04d}.npy"), y)
        lib, lib_first = librosa_run(clips, a.kind, a.repeat)
        dump = os.path.join(tmp, "first.out")
        r64 = rust_run(exe, tmp, a.kind, a.rust_repeat, "single", 1, ["--dump", dump])
        ours_first = np.load(dump)
        r32 = rust_run(exe, tmp, a.kind, a.rust_repeat, "single", 1, ["--fast-fft"])
        b1 = rust_run(exe, tmp, a.kind, a.rust_repeat, "batch", 1)
        b2 = rust_run(exe, tmp, a.kind, a.rust_repeat, "batch", 2)
    diff = float(np.max(np.abs(ours_first - lib_first)))

    print(f"clips: {what}; kind: {a.kind}; defaults sr=16000 n_fft=512 win=400 hop=160 n_mels=64")
    print(f"load average before the run: {' '.join(load)} (on {os.cpu_count()} CPUs)")
    print(f"max |dsp-features - librosa| on clip 0: {diff:.2e}")
    print(f"{'run':<44} {'x real time (wall)':>19} {'x real time (CPU)':>18}")
    rows = [
        (f"{lib['tool']}, 1 thread", lib),
        ("dsp-features, 1 thread, f64 FFT (default)", r64),
        ("dsp-features, 1 thread, f32 FFT (--fast-fft)", r32),
        ("dsp-features extract_many, 1 thread", b1),
        ("dsp-features extract_many, 2 threads", b2),
    ]
    for name, r in rows:
        cpu = r.get("x_realtime_cpu")
        print(f"{name:<44} {r['x_realtime_wall']:>19,.0f} {cpu if cpu is None else format(cpu, ',.0f'):>18}")
    print(f"ratio dsp-features (f64 FFT) / librosa, wall: {r64['x_realtime_wall'] / lib['x_realtime_wall']:.1f}x;"
          f" CPU: {(r64['x_realtime_cpu'] or 0) / lib['x_realtime_cpu']:.1f}x")
    print(f"ratio dsp-features (f32 FFT) / librosa, wall: {r32['x_realtime_wall'] / lib['x_realtime_wall']:.1f}x;"
          f" CPU: {(r32['x_realtime_cpu'] or 0) / lib['x_realtime_cpu']:.1f}x")
    print(f"batch scaling 2 threads / 1 thread (wall): {b2['x_realtime_wall'] / b1['x_realtime_wall']:.2f}x")


if __name__ == "__main__":
    main()
