#!/usr/bin/env bash
# Load benchmark of ser-web: release server, N concurrent clients POSTing the same 4 s 16 kHz
# WAV for D seconds with wrk; prints p50/p99 latency, throughput, errors and the server's peak RSS.
#
# Usage: benches/web_load.sh [MODEL_DIR]
#   Without MODEL_DIR: models/default if shipped, else an UNTRAINED default CRNN written by
#   `cargo run -p ser-web --example untrained_model` (same compute and memory as a trained one;
#   its predictions are meaningless, which does not matter for latency).
#   env: CONNS (50), SECS (30), LAT_SECS (10, the 1- and 2-connection latency runs),
#        THREADS (2, wrk client threads), WORKERS (server --workers,
#        default = cores), CLIP_SECS (4), PORT (18080)
# Needs: wrk (apt-get install wrk), curl, python3 (stdlib only, writes the WAV).
# Targets (docs/web.md): p50 < 30 ms, p99 < 100 ms on 2 cores, zero errors, RSS < 300 MiB.
set -euo pipefail
cd "$(dirname "$0")/.."

MODEL="${1:-${SER_MODEL:-}}"
CONNS="${CONNS:-50}"
SECS="${SECS:-30}"
THREADS="${THREADS:-2}"
CLIP_SECS="${CLIP_SECS:-4}"
PORT="${PORT:-18080}"
WORKERS_ARG=()
[ -n "${WORKERS:-}" ] && WORKERS_ARG=(--workers "$WORKERS")

command -v wrk >/dev/null || { echo "wrk not found: apt-get install wrk" >&2; exit 1; }
cargo build --release -p ser-web --bin ser-web --example untrained_model -p ser-data --bin ser-data >&2
BIN=target/release/ser-web
TMP="$(mktemp -d)"
SERVER_PID=""
SAMPLER_PID=""
cleanup() {
  [ -n "$SAMPLER_PID" ] && kill "$SAMPLER_PID" 2>/dev/null || true
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT
if [ -z "$MODEL" ]; then
  if [ -f models/default/manifest.json ]; then
    MODEL=models/default
  else
    MODEL="$TMP/untrained-crnn"
    target/release/examples/untrained_model crnn "$MODEL" >&2
    echo "== NOTE: no models/default yet: using an UNTRAINED default CRNN (timing only)"
  fi
fi
[ -f "$MODEL/manifest.json" ] || { echo "no model at $MODEL (pass MODEL_DIR)" >&2; exit 1; }
echo "== model: $MODEL ($(python3 -c 'import json,sys; m=json.load(open(sys.argv[1])); print(", ".join(x["model"]["family"] for x in m["members"]), "|", m["features"]["kind"], m["features"]["n_mels"], "bins")' "$MODEL/manifest.json" 2>/dev/null || echo '?'))"

# Generated speech (the corpus of `ser-data synth`, actor 1's utterances one after another,
# cut to CLIP_SECS): the server answers "no speech" for tones and steady buzzes without running
# the model (issue 27), so the load must be speech for the timings to include inference.
target/release/ser-data synth --out "$TMP/synth" --actors 1 >/dev/null
python3 - "$TMP/clip.wav" "$CLIP_SECS" "$TMP/synth/Actor_01" <<'PY'
import glob, sys, wave
path, secs, src = sys.argv[1], float(sys.argv[2]), sys.argv[3]
need = int(secs * 16000) * 2; out = bytearray()
files = sorted(glob.glob(src + '/*.wav'))
while len(out) < need:
    for f in files:
        with wave.open(f, 'rb') as r:
            out += r.readframes(r.getnframes())
w = wave.open(path, 'wb'); w.setnchannels(1); w.setsampwidth(2); w.setframerate(16000)
w.writeframes(bytes(out[:need])); w.close()
PY

cat > "$TMP/post.lua" <<LUA
local f = assert(io.open("$TMP/clip.wav", "rb"))
wrk.method = "POST"
wrk.body = f:read("*all")
f:close()
wrk.headers["Content-Type"] = "audio/wav"
LUA

RUST_LOG=warn "$BIN" --model "$MODEL" --addr "127.0.0.1:$PORT" "${WORKERS_ARG[@]}" \
  >"$TMP/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break
  sleep 0.1
done
curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null || { cat "$TMP/server.log" >&2; exit 1; }

# Peak RSS: sample VmRSS every 200 ms while the load runs.
( peak=0
  while kill -0 "$SERVER_PID" 2>/dev/null; do
    rss=$(awk '/^VmRSS/ {print $2}' "/proc/$SERVER_PID/status" 2>/dev/null || echo 0)
    [ "${rss:-0}" -gt "$peak" ] && peak=$rss && echo "$peak" >"$TMP/peak_kib"
    sleep 0.2
  done ) &
SAMPLER_PID=$!

# One request first: check the answer (speech, so the model runs) and warm up.
FIRST=$(curl -sf -X POST -H 'Content-Type: audio/wav' --data-binary "@$TMP/clip.wav" \
  "http://127.0.0.1:$PORT/api/predict")
echo "${FIRST:0:300}"
case "$FIRST" in
  *'"speech":true'*) ;;
  *) echo "== the clip was not answered as speech: the timings would not include inference" >&2
     exit 1 ;;
esac

echo "== machine: $(nproc) cores, $(uname -m), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

# One wrk run; prints its SUMMARY line. Latency under a closed-loop load is queueing time
# (Little's law: concurrency / throughput), so the latency targets are read at 1 and 2
# connections (one per core) and the 50-connection run checks errors, throughput and memory.
phase() {
  local conns=$1 secs=$2 threads=$THREADS
  [ "$conns" -lt "$threads" ] && threads=$conns
  echo "== wrk -t$threads -c$conns -d${secs}s, ${CLIP_SECS} s 16 kHz WAV ($(stat -c %s "$TMP/clip.wav") bytes)"
  wrk -t"$threads" -c"$conns" -d"${secs}s" --timeout 10s --latency -s "$TMP/post.lua" \
    "http://127.0.0.1:$PORT/api/predict" >"$TMP/wrk.txt"
  sed -n '/Latency Distribution/,/Transfer/p' "$TMP/wrk.txt"
  local p50 p99 rps non2xx sockerr
  p50=$(awk '$1 == "50%" {print $2}' "$TMP/wrk.txt")
  p99=$(awk '$1 == "99%" {print $2}' "$TMP/wrk.txt")
  rps=$(awk '/^Requests\/sec/ {print $2}' "$TMP/wrk.txt")
  non2xx=$(awk '/Non-2xx/ {print $NF}' "$TMP/wrk.txt")
  sockerr=$(grep -o 'Socket errors:.*' "$TMP/wrk.txt" || true)
  echo "SUMMARY conns=$conns p50=$p50 p99=$p99 throughput=${rps} req/s non2xx=${non2xx:-0} ${sockerr:-socket errors: 0} load=$(cut -d' ' -f1 /proc/loadavg)"
}

phase 1 "${LAT_SECS:-10}"
phase 2 "${LAT_SECS:-10}"
phase "$CONNS" "$SECS"
peak_kib=$(cat "$TMP/peak_kib" 2>/dev/null || echo 0)
echo "SUMMARY peak server RSS over all phases: $((peak_kib / 1024)) MiB; load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
