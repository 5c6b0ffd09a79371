# Exploration (see README.md here).
# Held-out probabilities of each shipped fold member on the actors its fold never heard:
# `ser-eval --member fold-K --networks-only` (the network alone, without a functionals head,
# on the actors the manifest records as fold K's held-out ones). Writes runs/fusion/fold-K/eval.
import json, os, subprocess
model = os.environ.get("SER_FOLD_ENSEMBLE", "runs/fold-ensemble-seed0")
m = json.load(open(f"{model}/manifest.json"))
for member in m["members"]:
    d = f"runs/fusion/{member['name']}"
    subprocess.run(["target/release/ser-eval", "--model", model, "--member", member["name"],
                    "--networks-only", "--data", os.environ["SER_RAVDESS_DIR"],
                    "--format", "json", "--bootstrap", "1", "--out", f"{d}/eval"],
                   check=True, capture_output=True, env={**os.environ, "RAYON_NUM_THREADS": "1"})
    print(member["name"], json.load(open(f"{d}/eval/report.json"))["ua"], flush=True)
