#!/usr/bin/env bash
# Copies the finished folds of a `ser-train cv` directory into the repository, so that a later
# session (a fresh clone has no runs/) can resume the cross-validation and combine it with
# others (`ser-train cv-combine`) without retraining the folds already done.
#
#   research/cv-runs/save.sh runs/SUB/DIR    keeps it as research/cv-runs/SUB/DIR
#   mkdir -p runs && cp -r research/cv-runs/*/ runs/
#                                            restores every kept run; then re-run a run's own
#                                            command: its finished folds are reused
#
# Kept per fold: fold.json (the fold's scores and actors; its presence marks the fold
# finished), predictions.csv (every held-out clip's class probabilities, what the pooled
# report and cv-combine read) and report.json. Fold models and checkpoints are not kept
# (2-6 MB each); a resumed run therefore cannot export its *fold* models as an ensemble
# (`--ensemble-out` without `--refit`). A finished final fit (`<run>/refit/model`, from
# `--refit`) is kept whole: it is the model to ship, and `cv-combine --ensemble-out` copies
# its weights byte for byte into the shipped artifact, so git stores them once.
set -euo pipefail
run=${1:?usage: save.sh runs/SUB/DIR}
run=${run%/}
case "$run" in
  runs/?*) sub=${run#runs/} ;;
  *) echo "save.sh: $run: give the run's path under runs/ (e.g. runs/p1/joint-t2-e60), from the repository root" >&2; exit 2 ;;
esac
here=$(cd "$(dirname "$0")" && pwd)
dest="$here/$sub"
[ -f "$run/cv-config.json" ] || { echo "save.sh: $run/cv-config.json is missing: not a ser-train cv directory" >&2; exit 2; }
mkdir -p "$dest"
cp "$run/cv-config.json" "$dest/"
for f in cv.json cv.md pooled.json; do [ -f "$run/$f" ] && cp "$run/$f" "$dest/"; done
n=0
for fold in "$run"/fold-*/; do
  [ -f "$fold/fold.json" ] || continue # unfinished: nothing to keep
  k=$(basename "$fold")
  mkdir -p "$dest/$k"
  cp "$fold/fold.json" "$fold/predictions.csv" "$fold/report.json" "$dest/$k/"
  n=$((n + 1))
done
refit=""
if [ -f "$run/refit/model/manifest.json" ]; then
  rm -rf "$dest/refit"
  mkdir -p "$dest/refit/model"
  # Everything but the curve's bitmap (200 KB; curve.svg draws the same).
  find "$run/refit/model" -maxdepth 1 -type f ! -name '*.png' -exec cp {} "$dest/refit/model/" \;
  refit=" and its final fit"
fi
echo "save.sh: $n finished fold(s)$refit of $run -> $dest"
