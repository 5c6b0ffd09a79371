#!/usr/bin/env bash
# Training time per epoch as the data grows (issue 27): RAVDESS alone, EMO-DB alone, and both
# at once, with the shipped recipe's network (CRNN, `speech` preset), one thread.
#
#   benches/train_epoch.sh [RAVDESS_DIR] [EMODB_DIR]
#
# Defaults: $SER_RAVDESS_DIR or ../shared/data/ravdess-16k, $SER_EMODB_DIR or
# ../shared/data/emodb-16k. Each corpus is trained for 3 epochs on every speaker (--all-actors
# --no-val: the per-epoch cost of a final fit); the first run of each also extracts and caches
# the features, so the script reports the median of the epoch times, which never include
# extraction. Prints clips, seconds per epoch, milliseconds per clip and the ratio to RAVDESS.
# Needs a release build (`cargo build --release -p ser-train`); SER_TRAIN overrides the binary.
set -euo pipefail
cd "$(dirname "$0")/.."
R=${1:-${SER_RAVDESS_DIR:-../shared/data/ravdess-16k}}
E=${2:-${SER_EMODB_DIR:-../shared/data/emodb-16k}}
BIN=${SER_TRAIN:-target/release/ser-train}
EPOCHS=${EPOCHS:-3}
for d in "$R" "$E"; do
  [ -d "$d" ] || { echo "error: corpus folder $d not found (pass it as an argument)" >&2; exit 2; }
done
[ -x "$BIN" ] || { echo "error: $BIN not built: cargo build --release -p ser-train" >&2; exit 2; }
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
MAP=datasets/labelmaps/emodb.csv

run() { # name, data args...
  local name=$1; shift
  RAYON_NUM_THREADS=1 "$BIN" --model crnn --preset speech "$@" --all-actors --no-val \
    --epochs "$EPOCHS" --quiet --cache-dir "$OUT/cache" --out "$OUT/$name" > "$OUT/$name.log" 2>&1 \
    || { cat "$OUT/$name.log" >&2; exit 1; }
  local clips secs
  # "epoch   2: ... | 31.9s": the median of the epoch times.
  secs=$(grep -oE '\| [0-9.]+s$' "$OUT/$name.log" | tr -d '|s ' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  clips=$(python3 -c "import json;m=json.load(open('$OUT/$name/manifest.json'));print(m['training'].get('n_train') or m['training'].get('train_clips') or '')" 2>/dev/null || true)
  echo "$name $secs $clips"
}

{
  run ravdess --data "$R"
  run emodb --data "$E" --label-map "$MAP"
  run both --data ravdess="$R" --data emodb="$E" --label-map emodb="$MAP"
} > "$OUT/rows"

echo "machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'); one thread; $EPOCHS epochs, median"
awk 'NR==1 {base=$2} {printf "%-8s %6.1f s/epoch  clips %-5s  ratio to RAVDESS %.2f\n", $1, $2, $3, $2/base}' "$OUT/rows"
