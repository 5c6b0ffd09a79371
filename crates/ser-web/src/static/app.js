// ser-web page logic: file chooser, drag and drop, microphone recording (encoded to 16-bit
// WAV here, in the browser), upload to POST /api/predict, and drawing of the answer.
// Plain ES2017, no dependencies, no build step.
"use strict";

const $ = (id) => document.getElementById(id);
const COLORS = {
  neutral: "#7a8591", calm: "#3d9bd1", happy: "#e0a100", sad: "#4a5fc1",
  angry: "#d3362d", fearful: "#8e44ad", disgust: "#4f8a3a", surprised: "#e46f1f",
};
const colorOf = (label) => COLORS[label] || "#2f6fde";
let labelsOrder = [];

function setState(state) { document.body.dataset.state = state; }
function showError(text) {
  const el = $("error");
  el.textContent = text;
  el.hidden = !text;
}
function setStatus(text) { $("status").textContent = text; }

async function loadModelInfo() {
  try {
    const res = await fetch("/api/model");
    const info = await res.json();
    labelsOrder = info.labels || [];
    const parts = [];
    const members = info.members || [];
    if (members.length) {
      const fams = [...new Set(members.map((x) => (x.model && x.model.family) || "?"))];
      parts.push(fams.join("+").toUpperCase() + (members.length > 1 ? " ensemble of " + members.length : ""));
    }
    if (labelsOrder.length) parts.push(labelsOrder.length + " emotions");
    // Metrics are recorded by ser-train, e.g. {"test": {"ua": 0.61, "wa": 0.63}}.
    const metrics = info.metrics || {};
    const m = metrics.test || metrics;
    const ua = m.ua ?? m.unweighted_accuracy;
    if (typeof ua === "number") {
      parts.push("UA " + (100 * ua).toFixed(1) + "%" + (info.protocol ? " (" + info.protocol + ")" : ""));
    } else if (info.protocol) {
      parts.push(info.protocol);
    }
    $("model-info").textContent = "Model: " + (parts.join(" · ") || "loaded");
    const s = info.server || {};
    if (s.max_upload_bytes) {
      $("limits").textContent = "Up to " + (s.max_upload_bytes / 1048576).toFixed(0) + " MiB and " +
        (s.max_duration_secs ?? "any") + " s per clip.";
    }
  } catch (e) {
    $("model-info").textContent = "Model info unavailable: " + e;
  }
}

// ---- upload ---------------------------------------------------------------------------------
async function analyse(blob, name) {
  showError("");
  setState("busy");
  setStatus("Analysing " + name + " (" + (blob.size / 1024).toFixed(0) + " KiB)…");
  drawWaveform(blob).catch(() => {});
  let res, body;
  try {
    res = await fetch("/api/predict", {
      method: "POST",
      headers: { "Content-Type": blob.type || "application/octet-stream" },
      body: blob,
    });
    body = await res.json();
  } catch (e) {
    setState("error");
    setStatus("");
    showError("Could not reach the server: " + e);
    return;
  }
  if (!res.ok) {
    setState("error");
    setStatus("");
    showError((body && body.detail) || ("HTTP " + res.status));
    return;
  }
  render(body);
  setStatus(name + ": " + body.duration_secs.toFixed(2) + " s at " + body.sample_rate + " Hz");
  setState("done");
}

function render(r) {
  $("result").hidden = false;
  $("emotion").textContent = r.silence ? "silence (no emotion)" : (r.emotion || "—");
  $("emotion").dataset.emotion = r.emotion || "";
  $("confidence").textContent = r.confidence != null ? (100 * r.confidence).toFixed(0) + "%" : "";
  $("message").textContent = r.message || "";
  const bars = $("bars");
  bars.textContent = "";
  const order = (r.labels && r.labels.length) ? r.labels : labelsOrder;
  for (const label of order) {
    const p = r.probabilities[label];
    if (p == null) continue;
    const row = document.createElement("div");
    row.className = "bar" + (label === r.emotion ? " best" : "");
    row.innerHTML = '<span class="name"></span><span class="track"><span class="fill"></span></span><span class="p"></span>';
    row.querySelector(".name").textContent = label;
    row.querySelector(".fill").style.width = (100 * p).toFixed(1) + "%";
    row.querySelector(".fill").style.display = "block";
    row.querySelector(".p").textContent = (100 * p).toFixed(1) + "%";
    bars.appendChild(row);
  }
  renderTimeline(r);
}

function renderTimeline(r) {
  const box = $("timeline-box"), tl = $("timeline");
  tl.textContent = "";
  const segs = r.segments || [];
  box.hidden = segs.length === 0;
  const total = r.duration_secs || 1;
  // Two rows: each window goes to the first row whose last window has ended (half-overlapping
  // windows alternate; the end-aligned last window finds whichever row is free).
  const rowEnd = [-Infinity, -Infinity];
  segs.forEach((s, i) => {
    let row = rowEnd.findIndex((end) => end <= s.start_secs + 1e-9);
    if (row < 0) row = i % 2;
    rowEnd[row] = s.end_secs;
    const el = document.createElement("div");
    el.className = "seg row" + row + (s.silence ? " silence" : "");
    el.style.left = (100 * s.start_secs / total) + "%";
    el.style.width = (100 * (s.end_secs - s.start_secs) / total) + "%";
    const label = s.silence ? "silence" : (s.emotion || "—");
    if (s.emotion) el.style.background = colorOf(s.emotion);
    else el.classList.add("silence");
    el.textContent = label;
    el.title = s.start_secs.toFixed(1) + "–" + s.end_secs.toFixed(1) + " s: " +
      (s.emotion ? s.emotion + " " + (100 * s.confidence).toFixed(0) + "%" : (s.note || label));
    tl.appendChild(el);
  });
}

// ---- waveform -------------------------------------------------------------------------------
async function drawWaveform(blob) {
  const canvas = $("waveform");
  const ctx = canvas.getContext("2d");
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  const Ctx = window.AudioContext || window.webkitAudioContext;
  if (!Ctx) return;
  const ac = new Ctx();
  try {
    const buf = await ac.decodeAudioData(await blob.arrayBuffer());
    const data = buf.getChannelData(0);
    const w = canvas.width, h = canvas.height, step = Math.max(1, Math.floor(data.length / w));
    ctx.fillStyle = "#2f6fde";
    for (let x = 0; x < w; x++) {
      let lo = 1, hi = -1;
      for (let i = x * step; i < Math.min(data.length, (x + 1) * step); i++) {
        const v = data[i];
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
      if (hi < lo) continue;
      ctx.fillRect(x, (1 - hi) * h / 2, 1, Math.max(1, (hi - lo) * h / 2));
    }
  } finally {
    ac.close();
  }
}

// ---- microphone -----------------------------------------------------------------------------
// Raw PCM is captured with WebAudio (MediaRecorder would give WebM/Opus, which the server does
// not decode) and written as a mono 16-bit WAV.
let rec = null;

async function toggleRecording() {
  const btn = $("record");
  if (rec) {
    const { stream, ac, node, source, chunks } = rec;
    rec = null;
    node.disconnect();
    source.disconnect();
    stream.getTracks().forEach((t) => t.stop());
    const rate = ac.sampleRate;
    await ac.close();
    btn.textContent = "● Record";
    btn.classList.remove("recording");
    const wav = encodeWav(chunks, rate);
    analyse(wav, "recording");
    return;
  }
  showError("");
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ audio: true });
  } catch (e) {
    showError("Microphone unavailable: " + e.message + " (the page must be served from localhost or HTTPS)");
    return;
  }
  const ac = new (window.AudioContext || window.webkitAudioContext)();
  const source = ac.createMediaStreamSource(stream);
  const node = ac.createScriptProcessor(4096, 1, 1);
  const chunks = [];
  node.onaudioprocess = (e) => chunks.push(new Float32Array(e.inputBuffer.getChannelData(0)));
  source.connect(node);
  node.connect(ac.destination);
  rec = { stream, ac, node, source, chunks };
  btn.textContent = "■ Stop";
  btn.classList.add("recording");
  setStatus("Recording… press Stop when done.");
}

/** Mono float chunks -> RIFF/WAVE, PCM 16-bit little-endian. */
function encodeWav(chunks, rate) {
  const n = chunks.reduce((a, c) => a + c.length, 0);
  const buf = new ArrayBuffer(44 + 2 * n);
  const v = new DataView(buf);
  const str = (o, s) => { for (let i = 0; i < s.length; i++) v.setUint8(o + i, s.charCodeAt(i)); };
  str(0, "RIFF"); v.setUint32(4, 36 + 2 * n, true); str(8, "WAVE");
  str(12, "fmt "); v.setUint32(16, 16, true); v.setUint16(20, 1, true); v.setUint16(22, 1, true);
  v.setUint32(24, rate, true); v.setUint32(28, rate * 2, true); v.setUint16(32, 2, true);
  v.setUint16(34, 16, true); str(36, "data"); v.setUint32(40, 2 * n, true);
  let o = 44;
  for (const c of chunks) {
    for (let i = 0; i < c.length; i++, o += 2) {
      const s = Math.max(-1, Math.min(1, c[i]));
      v.setInt16(o, s < 0 ? s * 0x8000 : s * 0x7fff, true);
    }
  }
  return new Blob([buf], { type: "audio/wav" });
}

// ---- wiring ---------------------------------------------------------------------------------
function init() {
  const drop = $("drop");
  $("file").addEventListener("change", (e) => {
    const f = e.target.files[0];
    if (f) analyse(f, f.name);
  });
  ["dragenter", "dragover"].forEach((t) => drop.addEventListener(t, (e) => {
    e.preventDefault();
    drop.classList.add("over");
  }));
  ["dragleave", "drop"].forEach((t) => drop.addEventListener(t, (e) => {
    e.preventDefault();
    drop.classList.remove("over");
  }));
  drop.addEventListener("drop", (e) => {
    const f = e.dataTransfer.files[0];
    if (f) analyse(f, f.name);
  });
  $("record").addEventListener("click", toggleRecording);
  loadModelInfo();
}
init();
