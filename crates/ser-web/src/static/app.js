// ser-web page logic: file chooser, drag and drop, microphone recording (encoded to 16-bit
// WAV here, in the browser), upload to POST /api/predict, and drawing of the answer.
// Plain ES2017, no dependencies, no build step. The page runs under a Content-Security-Policy
// without 'unsafe-inline' (server/security.rs): no inline scripts, styles or handlers here.
"use strict";

const $ = (id) => document.getElementById(id);
const COLORS = {
  neutral: "#7a8591", calm: "#3d9bd1", happy: "#e0a100", sad: "#4a5fc1",
  angry: "#d3362d", fearful: "#8e44ad", disgust: "#4f8a3a", surprised: "#e46f1f",
};
const colorOf = (label) => COLORS[label] || "#2f6fde";
let labelsOrder = [];
// Each upload gets a number; an answer that arrives after a newer upload started is dropped,
// so a slow old answer can never overwrite (or be read as) the new one.
let requestId = 0;
let playbackUrl = null;

function setState(state) { document.body.dataset.state = state; }
function setStatus(text) { $("status").textContent = text; }
function showError(text) {
  const el = $("error");
  el.textContent = text;
  el.hidden = !text;
}
const percent = (x) => (100 * x).toFixed(0) + "%";

/** Removes the previous answer and error. Called when every new upload or recording starts:
 *  users must never read the old emotion as the answer to the new audio. */
function clearAnswer() {
  showError("");
  $("result").hidden = true;
  $("emotion").textContent = "";
  $("emotion").dataset.emotion = "";
  $("confidence").textContent = "";
  $("message").textContent = "";
  $("bars").textContent = "";
  $("timeline").textContent = "";
  $("timeline-box").hidden = true;
  const player = $("playback");
  player.hidden = true;
  player.removeAttribute("src");
  if (playbackUrl) URL.revokeObjectURL(playbackUrl);
  playbackUrl = null;
  const canvas = $("waveform");
  canvas.getContext("2d").clearRect(0, 0, canvas.width, canvas.height);
}

// ---- what the model is and how good it is ---------------------------------------------------

/** The speaker-independent unweighted accuracy recorded in the model's manifest, or null:
 *  `metrics.cv.ua.mean` (cross-validation by speaker, written by `ser-train cv`, as in the
 *  shipped models/default) or `metrics.test.ua` (held-out test speakers, written by
 *  `ser-train`). In both the speakers scored were never heard in training. */
function speakerIndependentAccuracy(metrics) {
  const cv = metrics && metrics.cv;
  if (cv && cv.ua && typeof cv.ua.mean === "number") return cv.ua.mean;
  const test = metrics && metrics.test;
  if (test && typeof test.ua === "number") return test.ua;
  return null;
}

/** What a cross-validation (`metrics.cv`, or an entry of `metrics.extra_cv`) scored when
 *  every fold held out speakers of one corpus only (`ser-train cv --test-corpus NAME`, as for
 *  the shipped model: each fold has one `by_corpus` row): that corpus's name and how many
 *  labels it was scored on; else null. */
function cvScope(cv) {
  const folds = cv && cv.folds;
  if (!Array.isArray(folds) || !folds.length) return null;
  const rows = folds.map((f) => (Array.isArray(f.by_corpus) ? f.by_corpus : []));
  if (!rows.every((r) => r.length === 1 && r[0].corpus === rows[0][0].corpus)) return null;
  const labels = Array.isArray(rows[0][0].labels) ? rows[0][0].labels.length : 0;
  return labels ? { corpus: String(rows[0][0].corpus), labels } : null;
}

/** Further cross-validations of the model's recipe on other speakers (`metrics.extra_cv`,
 *  written by `ser-train cv-attach`: the shipped model's EMO-DB estimate beside its RAVDESS
 *  one), each as { ua, scope }. */
function extraAccuracies(metrics) {
  const extra = metrics && metrics.extra_cv;
  if (!Array.isArray(extra)) return [];
  return extra
    .filter((cv) => cv && cv.ua && typeof cv.ua.mean === "number")
    .map((cv) => ({ ua: cv.ua.mean, scope: cvScope(cv) }));
}

/** "about 78% on speakers of the emodb corpus it never heard (6 emotions; chance: 16.7%)":
 *  a score over one corpus's speakers and labels says which, and its chance level. */
function accuracyPhrase(ua, scope, nLabels) {
  const n = scope ? scope.labels : nLabels;
  const chance = n ? "chance: " + +(100 / n).toFixed(1) + "%" : "";
  const who = scope ? "speakers of the " + scope.corpus + " corpus" : "speakers";
  const detail = scope ? " (" + n + " emotions; " + chance + ")" : chance ? " (" + chance + ")" : "";
  return "about " + percent(ua) + " on " + who + " it never heard" + detail;
}

function listOf(words) {
  return words.length < 2 ? words.join("") :
    words.slice(0, -1).join(", ") + " or " + words[words.length - 1];
}

async function loadModelInfo() {
  let info;
  try {
    const res = await fetch("/api/model");
    info = await res.json();
  } catch (e) {
    $("accuracy").textContent = "Could not load the model's details: " + e.message;
    return;
  }
  labelsOrder = info.labels || [];
  if (labelsOrder.length) $("label-list").textContent = ": " + listOf(labelsOrder);
  const ua = speakerIndependentAccuracy(info.metrics);
  const phrases = ua == null ? [] :
    [accuracyPhrase(ua, cvScope(info.metrics && info.metrics.cv), labelsOrder.length)].concat(
      extraAccuracies(info.metrics).map((e) => accuracyPhrase(e.ua, e.scope, labelsOrder.length)));
  $("accuracy").textContent = ua == null ? "This model's accuracy was not recorded." :
    "Accuracy: " + phrases.join("; ") + ".";
  const s = info.server || {};
  if (s.max_upload_bytes) {
    const mib = (s.max_upload_bytes / 1048576).toFixed(0);
    const secs = s.max_duration_secs ? " and " + s.max_duration_secs + " s" : "";
    $("limits").textContent = "WAV, FLAC, MP3 or OGG, up to " + mib + " MiB" + secs +
      ". You can also drop a file here.";
  }
}

// ---- upload ---------------------------------------------------------------------------------
async function analyse(blob, name) {
  const id = ++requestId;
  clearAnswer();
  setState("busy");
  setStatus("Listening to " + name + "…");
  playbackUrl = URL.createObjectURL(blob);
  $("playback").src = playbackUrl;
  drawWaveform(blob, id).catch(() => {});
  let res, body = null;
  try {
    res = await fetch("/api/predict", {
      method: "POST",
      headers: { "Content-Type": blob.type || "application/octet-stream" },
      body: blob,
    });
    try { body = await res.json(); } catch (e) { body = null; }
  } catch (e) {
    if (id !== requestId) return;
    failed("Could not reach the server: " + e.message);
    return;
  }
  if (id !== requestId) return;
  if (!res.ok || !body) {
    failed(name + ": " + ((body && body.detail) || ("the server answered HTTP " + res.status)));
    return;
  }
  render(body);
  setStatus(name + ": " + body.duration_secs.toFixed(2) + " s at " + body.sample_rate + " Hz");
  setState("done");
}

/** Shows `text` where the answer would be; the old answer is already gone (clearAnswer). */
function failed(text) {
  clearAnswer();
  setStatus("");
  showError(text);
  setState("error");
}

function render(r) {
  $("result").hidden = false;
  $("playback").hidden = !playbackUrl;
  // `speech: false` (silence, a tone, noise, music, clicks): say so; the message says why.
  $("emotion").textContent = r.silence ? "Silence" : (r.speech === false ? "No speech" : (r.emotion || "—"));
  $("emotion").dataset.emotion = r.emotion || "";
  $("confidence").textContent = r.confidence != null ? percent(r.confidence) + " confidence" : "";
  $("message").textContent = r.message || "";
  const bars = $("bars");
  const order = (r.labels && r.labels.length) ? r.labels : labelsOrder;
  for (const label of order) {
    const p = r.probabilities[label];
    if (p == null) continue;
    const row = document.createElement("div");
    row.className = "bar" + (label === r.emotion ? " best" : "");
    const name = document.createElement("span");
    name.className = "name";
    name.textContent = label;
    const track = document.createElement("span");
    track.className = "track";
    const fill = document.createElement("span");
    fill.className = "fill";
    fill.style.width = (100 * p).toFixed(1) + "%";
    track.appendChild(fill);
    const value = document.createElement("span");
    value.className = "p";
    value.textContent = (100 * p).toFixed(1) + "%";
    row.append(name, track, value);
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
    const label = s.silence ? "silence" : (s.speech === false ? "no speech" : (s.emotion || "—"));
    if (s.emotion) el.style.background = colorOf(s.emotion);
    else el.classList.add("silence");
    el.textContent = label;
    el.title = s.start_secs.toFixed(1) + "–" + s.end_secs.toFixed(1) + " s: " +
      (s.emotion ? s.emotion + " " + percent(s.confidence) : (s.note || label));
    tl.appendChild(el);
  });
}

// ---- waveform -------------------------------------------------------------------------------
async function drawWaveform(blob, id) {
  const Ctx = window.AudioContext || window.webkitAudioContext;
  if (!Ctx) return;
  const ac = new Ctx();
  try {
    const buf = await ac.decodeAudioData(await blob.arrayBuffer());
    if (id !== requestId) return;
    const canvas = $("waveform");
    const ctx = canvas.getContext("2d");
    ctx.clearRect(0, 0, canvas.width, canvas.height);
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
  // A new recording is a new question: the previous answer goes now.
  requestId++;
  clearAnswer();
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ audio: true });
  } catch (e) {
    failed("Microphone unavailable: " + e.message +
      " (browsers allow it only on pages from localhost or HTTPS).");
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
  setState("recording");
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
    // Choosing the same file again is a new request too.
    e.target.value = "";
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
