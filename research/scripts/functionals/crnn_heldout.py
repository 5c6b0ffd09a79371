# Exploration (see README.md here).
# Held-out probabilities of each shipped fold member on the actors its fold never heard.
import json, os, shutil, subprocess
model = os.environ.get("SER_FOLD_ENSEMBLE", "runs/fold-ensemble-seed0")
m = json.load(open(f"{model}/manifest.json"))
for member, fold in zip(m["members"], m["metrics"]["cv"]["folds"]):
    d = f"runs/fusion/{member['name']}"
    shutil.rmtree(d, ignore_errors=True); os.makedirs(d)
    shutil.copy(f"{model}/{member['weights']}", d)
    # The network alone: drop a functionals head if the ensemble has one.
    single = {**{k: v for k, v in m.items() if k != "functionals"}, "kind": "single",
              "members": [{k: v for k, v in member.items() if k != "head"}],
              "training": {"train_actors": fold["train_actors"]}, "metrics": {}}
    json.dump(single, open(f"{d}/manifest.json", "w"))
    subprocess.run(["target/release/ser-eval", "--model", d, "--data", os.environ["SER_RAVDESS_DIR"],
                    "--actors", ",".join(fold["test_actors"]), "--format", "json", "--bootstrap", "1",
                    "--out", f"{d}/eval"], check=True, capture_output=True,
                   env={**os.environ, "RAYON_NUM_THREADS": "1"})
    print(member["name"], json.load(open(f"{d}/eval/report.json"))["ua"], flush=True)
