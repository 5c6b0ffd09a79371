//! Source-filter rendering of one utterance.
//!
//! Source: Rosenberg (1971) glottal pulses, "Effect of glottal pulse shape on the quality of
//! natural vowels", JASA 49(2B), 583-590 (trigonometric model, opening phase then a shorter
//! closing phase). We use the pulse's time derivative, which folds in the +6 dB/octave lip
//! radiation, so the source falls at about -6 dB/octave like radiated speech. Jitter and
//! shimmer perturb each period; aspiration noise is gated by the open phase. Filter: a cascade
//! of five second-order resonators as in Klatt (1980), "Software for a cascade/parallel
//! formant synthesizer", JASA 67(3), 971-995, eq. for the digital resonator
//! `y[n] = A x[n] + B y[n-1] + C y[n-2]`, `C = -exp(-2 pi BW T)`,
//! `B = 2 exp(-pi BW T) cos(2 pi F T)`, `A = 1 - B - C`.

use std::f64::consts::PI;

use ser_audio::rng::SplitMix64;

use super::phonetics::{Formants, Onset, Syllable};
use super::profile::{EmotionProfile, SpeakerProfile};

/// Formant bandwidths (Hz) for F1..F5, typical values from Klatt (1980) Table I defaults
/// (B1 60-90, B2 90-110, B3 150...) rounded up a little for a less "buzzy" sound.
const BANDWIDTHS: [f64; 5] = [90.0, 110.0, 170.0, 250.0, 300.0];

/// Formant coefficients are recomputed every this many samples (2 ms at 16 kHz).
const COEF_BLOCK: usize = 32;

/// Speech RMS (dBFS) of a neutral clip of a speaker with loudness offset 0. RAVDESS speech
/// sits around -30..-20 dBFS RMS; -26 leaves headroom for +13 dB strong anger.
const BASE_LEVEL_DBFS: f64 = -26.0;

fn db(x: f64) -> f64 {
    10f64.powf(x / 20.0)
}

fn smoothstep(x: f64) -> f64 {
    let x = x.clamp(0.0, 1.0);
    x * x * (3.0 - 2.0 * x)
}

/// Zero-mean, unit-variance uniform noise: per-sample noise sources need no Gaussian shape
/// (they are filtered anyway) and this is ~5x cheaper than Box-Muller.
fn uniform_noise(rng: &mut SplitMix64) -> f64 {
    (rng.next_f64() * 2.0 - 1.0) * 3f64.sqrt()
}

/// Klatt digital resonator.
#[derive(Clone, Copy, Default)]
struct Resonator {
    a: f64,
    b: f64,
    c: f64,
    y1: f64,
    y2: f64,
}

impl Resonator {
    fn set(&mut self, f: f64, bw: f64, sr: f64) {
        let t = 1.0 / sr;
        let f = f.min(0.45 * sr);
        self.c = -(-2.0 * PI * bw * t).exp();
        self.b = 2.0 * (-PI * bw * t).exp() * (2.0 * PI * f * t).cos();
        self.a = 1.0 - self.b - self.c;
    }

    fn tick(&mut self, x: f64) -> f64 {
        let y = self.a * x + self.b * self.y1 + self.c * self.y2;
        self.y2 = self.y1;
        self.y1 = y;
        y
    }
}

/// Rosenberg glottal flow at phase `p` in [0, 1): opening over `tp`, closing over `tn`.
fn rosenberg(p: f64, tp: f64, tn: f64) -> f64 {
    if p < tp {
        0.5 * (1.0 - (PI * p / tp).cos())
    } else if p < tp + tn {
        (0.5 * PI * (p - tp) / tn).cos()
    } else {
        0.0
    }
}

/// One syllable laid out in time (seconds).
struct Seg {
    syl: Syllable,
    start: f64,
    vowel_start: f64,
    end: f64,
    prev_end: Formants,
}

/// Renders one utterance.
pub(super) fn render(
    spk: &SpeakerProfile,
    emo: &EmotionProfile,
    syllables: &[Syllable],
    rng: &mut SplitMix64,
    sr: u32,
) -> Vec<f32> {
    let srf = f64::from(sr);
    // Per-utterance variation around the speaker x emotion target (an actor never says the
    // same sentence twice identically).
    let f0_utt_st = 0.7 * rng.normal();
    let rate = spk.rate * emo.rate * (0.05 * rng.normal()).exp();
    let loud_db = spk.loud_db + emo.loud_db + 1.5 * rng.normal();
    let tilt = (spk.tilt + emo.tilt + 0.06 * rng.normal()).clamp(-0.95, 0.95);
    let range = emo.f0_range * (0.12 * rng.normal()).exp();
    let breath = spk.breath * emo.breath * (0.15 * rng.normal()).exp();
    let jitter = spk.jitter * emo.jitter;
    let shimmer = spk.shimmer * emo.jitter.sqrt();

    // ---- timeline ----
    let syl_dur = 1.0 / rate;
    let lead = rng.uniform(0.55, 0.95);
    let mut t = lead;
    let mut segs = Vec::with_capacity(syllables.len());
    let mut prev_end = syllables.first().map_or([500.0; 5], |s| s.start);
    for (i, s) in syllables.iter().enumerate() {
        let last = i + 1 == syllables.len();
        let mut dur = syl_dur * if s.stressed { 1.2 } else { 0.85 } * (0.08 * rng.normal()).exp();
        if last {
            dur *= 1.35; // phrase-final lengthening
        }
        // Consonants shrink less than vowels when the rate changes.
        let onset = match s.onset {
            Onset::None => 0.0,
            Onset::Stop { .. } => 0.06,
            Onset::Fricative { .. } => 0.075,
        } * (syl_dur * 4.3).sqrt();
        let vowel_start = t + onset.min(0.5 * dur);
        segs.push(Seg {
            syl: *s,
            start: t,
            vowel_start,
            end: t + dur,
            prev_end,
        });
        prev_end = s.end;
        t += dur;
        // Phrase pause after the verb ("talking" / "sitting"), and short gaps elsewhere.
        if i == 3 {
            t += emo.pause * rng.uniform(0.04, 0.13);
        } else if !last {
            t += (emo.pause - 1.0).max(0.0) * rng.uniform(0.0, 0.04);
        }
    }
    let speech_start = lead;
    let speech_end = t;
    let trail = rng.uniform(0.45, 0.85);
    // Keep clip lengths in RAVDESS's range (~2.5-4.5 s).
    let total = (speech_end + trail).clamp(2.5, 4.6).max(speech_end + 0.15);
    let n = (total * srf).round() as usize;

    // ---- F0 contour parameters ----
    let accent = spk.accent_st * range;
    let drift: [(f64, f64, f64); 2] = [
        (
            rng.uniform(0.5, 1.2),
            rng.uniform(0.0, 2.0 * PI),
            0.35 * range,
        ),
        (
            rng.uniform(1.3, 2.2),
            rng.uniform(0.0, 2.0 * PI),
            0.2 * range,
        ),
    ];
    let tremor_hz = rng.uniform(5.0, 7.0);
    let tremor_phase = rng.uniform(0.0, 2.0 * PI);
    let final_start = segs
        .len()
        .checked_sub(2)
        .and_then(|i| segs.get(i))
        .map_or(speech_start, |s| s.vowel_start);
    let base_st = emo.f0_st + f0_utt_st;
    let speech_len = (speech_end - speech_start).max(1e-3);
    let f0_st_at = |t: f64| -> f64 {
        let mut st = base_st - 1.5 * range.sqrt() * (t - speech_start) / speech_len;
        for s in &segs {
            let mid = 0.5 * (s.vowel_start + s.end);
            let w = 0.4 * (s.end - s.vowel_start);
            let amp = if s.syl.stressed { accent } else { 0.3 * accent };
            st += amp * (-0.5 * ((t - mid) / w).powi(2)).exp();
        }
        st += emo.final_st * smoothstep((t - final_start) / (speech_end - final_start).max(1e-3));
        for (f, ph, a) in drift {
            st += a * (2.0 * PI * f * t + ph).sin();
        }
        st + emo.tremor_st * (2.0 * PI * tremor_hz * t + tremor_phase).sin()
    };

    // Open quotient and closing phase: breathy voices open longer, tense (flat-tilt) voices
    // close faster, which is what raises their high-frequency energy.
    let oq = (0.6 + 0.1 * (breath / 0.05 - 1.0).clamp(-1.0, 2.0) - 0.1 * tilt).clamp(0.4, 0.8);
    let tp = 0.68 * oq;
    let tn = (0.32 * oq * (1.0 - 0.55 * tilt)).max(0.03);

    let mut tract = [Resonator::default(); 5];
    let mut cons = Resonator::default();
    let mut out = vec![0.0f64; n];
    let mut voiced_energy = 0.0f64;
    let mut voiced_count = 0usize;

    let mut phase = 0.0f64;
    let mut prev_flow = 0.0f64;
    let mut period_amp = 1.0f64;
    let mut period_mult = 1.0f64;
    let mut period_index = 0u64;
    let mut tilt_state = 0.0f64;
    let mut prev_src = 0.0f64;
    let mut seg_i = 0usize;
    let mut f0 = 0.0f64;
    let fscale = spk.formant_scale;

    for (i, y) in out.iter_mut().enumerate() {
        let t = i as f64 / srf;
        while seg_i + 1 < segs.len() && t >= segs[seg_i].end {
            seg_i += 1;
        }
        let Some(seg) = segs.get(seg_i) else { break };
        if t < speech_start || t >= speech_end {
            continue;
        }
        let in_seg = t >= seg.start && t < seg.end;
        let in_vowel = in_seg && t >= seg.vowel_start;

        // Formants, updated every COEF_BLOCK samples with coarticulation from the previous
        // vowel over the first quarter of the nucleus.
        if i % COEF_BLOCK == 0 {
            let vd = (seg.end - seg.vowel_start).max(1e-3);
            let p = ((t - seg.vowel_start) / vd).clamp(0.0, 1.0);
            let mut f = [0.0; 5];
            for (k, fk) in f.iter_mut().enumerate() {
                let target = seg.syl.start[k] + (seg.syl.end[k] - seg.syl.start[k]) * smoothstep(p);
                let v = seg.prev_end[k] + (target - seg.prev_end[k]) * smoothstep(p / 0.25);
                let e = if k < 2 { emo.formant } else { 1.0 };
                *fk = v * fscale * e;
            }
            for (k, r) in tract.iter_mut().enumerate() {
                let bw = BANDWIDTHS[k] * if k == 0 { 1.0 + 3.0 * breath } else { 1.0 };
                r.set(f[k], bw, srf);
            }
        }

        // ---- amplitude envelope ----
        let attack = 0.015 * emo.attack;
        let release = 0.04 * emo.attack.sqrt();
        let mut env = 0.0;
        if in_vowel {
            let a = smoothstep((t - seg.vowel_start) / attack);
            let r = smoothstep((seg.end - t) / release);
            let stress = if seg.syl.stressed {
                db(2.5 * range.sqrt())
            } else {
                1.0
            };
            env = a * r * stress;
        }

        // ---- glottal source ----
        // F0 changes slowly (fastest component: 7 Hz tremor), so one value per 2 ms block.
        if i % COEF_BLOCK == 0 || f0 == 0.0 {
            f0 = spk.f0_hz * 2f64.powf(f0_st_at(t) / 12.0);
        }
        phase += f0 / srf / period_mult;
        if phase >= 1.0 {
            phase -= 1.0;
            period_index += 1;
            period_mult = (1.0 + jitter * rng.normal()).clamp(0.8, 1.25);
            period_amp = (1.0 + shimmer * rng.normal()).max(0.2);
            // Creak (vocal fry): irregular long, weak alternate periods, more towards the
            // phrase end where creak typically occurs.
            let progress = ((t - speech_start) / speech_len).clamp(0.0, 1.0);
            if emo.creak > 0.0 && rng.next_f64() < emo.creak * (0.35 + 0.65 * progress) {
                if period_index.is_multiple_of(2) {
                    period_amp *= 0.3;
                }
                period_mult *= 1.0 + 0.6 * emo.creak * rng.next_f64();
            }
        }
        let flow = rosenberg(phase, tp, tn);
        let dflow = (flow - prev_flow) * srf / f0.max(50.0) * 0.1;
        prev_flow = flow;
        let open = if phase < tp + tn { 1.0 } else { 0.25 };
        let noise = uniform_noise(rng);
        let mut src = (dflow * period_amp + breath * 2.0 * open * noise) * env;

        // Spectral tilt: one-pole low-pass (steeper) or first difference (flatter).
        if tilt < 0.0 {
            let a = (-tilt * 0.85).min(0.9);
            tilt_state = (1.0 - a) * src + a * tilt_state;
            src = tilt_state / (1.0 - a).sqrt();
        } else {
            let b = (tilt * 0.8).min(0.9);
            let x = src;
            src = (x - b * prev_src) / (1.0 - 0.5 * b);
            prev_src = x;
        }
        let mut v = src;
        for r in tract.iter_mut() {
            v = r.tick(v);
        }

        // ---- onset consonant noise ----
        let mut c = 0.0;
        if in_seg && !in_vowel {
            let od = (seg.vowel_start - seg.start).max(1e-3);
            let q = (t - seg.start) / od;
            match seg.syl.onset {
                Onset::Stop { burst_hz, voiced } => {
                    cons.set(burst_hz * fscale, 0.6 * burst_hz, srf);
                    if q > 0.7 {
                        let decay = (-(q - 0.7) * od / 0.006).exp();
                        c = 0.35 * decay * cons.tick(uniform_noise(rng));
                    } else {
                        cons.tick(0.0);
                        if voiced {
                            c = 0.01 * (2.0 * PI * f0 * t).sin();
                        }
                    }
                }
                Onset::Fricative { hz, level } => {
                    cons.set(hz * fscale, 0.35 * hz, srf);
                    let e = smoothstep(q / 0.3) * smoothstep((1.0 - q) / 0.2);
                    c = level * 0.25 * e * cons.tick(uniform_noise(rng));
                }
                Onset::None => {}
            }
        }
        *y = v + c;
        if env > 0.5 {
            voiced_energy += v * v;
            voiced_count += 1;
        }
    }

    // ---- level, background noise, limiter ----
    let rms = (voiced_energy / voiced_count.max(1) as f64)
        .sqrt()
        .max(1e-9);
    let gain = db(BASE_LEVEL_DBFS + loud_db) / rms;
    // The noise floor is a property of the recording (speaker/session), not of the emotion,
    // so louder emotions have a higher SNR, as in real recordings.
    let noise_amp = db(BASE_LEVEL_DBFS + spk.loud_db + spk.noise_db);
    let mut lp = 0.0;
    let mut peak = 0.0f64;
    for y in out.iter_mut() {
        lp = 0.7 * lp + 0.3 * uniform_noise(rng);
        *y = *y * gain + noise_amp * lp * 1.9;
        peak = peak.max(y.abs());
    }
    let limit = if peak > 0.98 { 0.98 / peak } else { 1.0 };
    out.into_iter().map(|y| (y * limit) as f32).collect()
}
