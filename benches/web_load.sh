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
cargo build --release -p ser-web --bin ser-web --example untrained_model >&2
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

# A speech-like 16-bit mono clip (harmonics with a moving pitch, formant peaks, syllables);
# the same generator as the tests, so the model sees voiced, non-silent audio.
python3 - "$TMP/clip.wav" "$CLIP_SECS" <<'PY'
import math, struct, sys, wave
path, secs, sr = sys.argv[1], float(sys.argv[2]), 16000
n = int(secs * sr); phase = 0.0; out = bytearray()
for i in range(n):
    t = i / sr
    f0 = 130.0 * (1 + 0.15 * math.sin(2 * math.pi * 0.7 * t))
    phase += 2 * math.pi * f0 / sr
    v = 0.0
    for h in range(1, 13):
        fh = f0 * h
        g = 1 / (1 + ((fh - 700) / 250) ** 2) + 0.6 / (1 + ((fh - 1200) / 300) ** 2) + 0.05
        v += g * math.sin(phase * h)
    v *= 0.25 * abs(math.sin(math.pi * 4 * t)) ** 0.6
    out += struct.pack('<h', max(-32767, min(32767, int(round(v * 32767)))))
w = wave.open(path, 'wb'); w.setnchannels(1); w.setsampwidth(2); w.setframerate(sr)
w.writeframes(bytes(out)); w.close()
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

# One request first: check the answer and warm up.
curl -sf -X POST -H 'Content-Type: audio/wav' --data-binary "@$TMP/clip.wav" \
  "http://127.0.0.1:$PORT/api/predict" | head -c 300; echo

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
