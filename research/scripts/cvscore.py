# Used by noisy_cv.py: the UA of one model artifact on the actors it never heard, through
# `ser-eval` (one thread, JSON report), optionally with white noise SNR dB below each clip's
# RMS (`--noise-snr`). It only reads artifacts: variants of a model (one ensemble member,
# other test-time warps, the networks without heads) are `ser-eval` flags, not manifests
# written here (issue 26; see ../README.md).
import json, os, statistics, subprocess, sys


def held_out_ua(model_dir, actors, snr=None):
    bin_ = os.environ.get("SER_EVAL", "target/release/ser-eval")
    cmd = [bin_, "--model", model_dir, "--data", os.environ["SER_RAVDESS_DIR"],
           "--actors", ",".join(actors), "--format", "json", "--bootstrap", "1"]
    cmd += ["--noise-snr", snr] if snr else []
    out = subprocess.run(cmd, capture_output=True, text=True,
                         env={**os.environ, "RAYON_NUM_THREADS": "1"})
    if out.returncode != 0:
        sys.exit(out.stderr)
    r = json.loads(out.stdout)
    assert r["protocol"]["speaker_independent"] is True
    return r["ua"]


def summary(uas):
    """'UA mean ± sample std per fold u1 u2 ...', as docs/results.md quotes per-fold CV."""
    return (f"UA {statistics.mean(uas):.4f} ± {statistics.stdev(uas):.4f} per fold "
            + " ".join(f"{u:.3f}" for u in uas))
