//! One drawn recording chain: [`ChannelChain`], a list of [`ChannelStep`]s with every random
//! parameter fixed (noise and room responses by a seed), so a chain can be logged, saved as
//! JSON and replayed to the same samples.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::codec::{clip, drop_packets, reduce_bit_depth, telephone_codec};
use super::config::ChannelConfig;
use super::fft::{FftCache, convolve_prefix};
use super::noise::{NoiseKind, add_at_snr, make_noise};
use super::reverb::{RirSpec, synth_rir};
use super::timescale::{change_speed, pitch_shift};
use crate::Audio;
use crate::error::{Error, Result};
use crate::filter::{BUTTERWORTH_Q, Biquad, butterworth_qs, process_cascade};
use crate::rng::SplitMix64;

/// The shape of one equaliser band (RBJ Audio EQ Cookbook).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EqShape {
    /// Peaking EQ (a bump or a dip around the frequency).
    Peaking,
    /// Low shelf (everything below the corner raised or lowered).
    LowShelf,
    /// High shelf (everything above the corner).
    HighShelf,
}

/// One drawn equaliser band.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EqBand {
    /// Shape.
    pub shape: EqShape,
    /// Centre (peaking) or corner (shelves) frequency, Hz.
    pub freq_hz: f32,
    /// Gain, dB.
    pub gain_db: f32,
    /// Q (shelves: the cookbook's S = 1, Q = 1/sqrt 2).
    pub q: f32,
}

/// One transform with its drawn parameters. Serialised with a `"step"` tag, e.g.
/// `{"step": "speed", "factor": 1.05}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum ChannelStep {
    /// Speed perturbation: `factor` times faster and higher; changes the length.
    Speed {
        /// Speed factor (multiple of 0.001).
        factor: f32,
    },
    /// Pitch shift with the tempo and the length kept.
    Pitch {
        /// Shift, semitones.
        semitones: f32,
    },
    /// Room reverberation by a synthetic impulse response.
    Reverb {
        /// Reverberation time, seconds.
        rt60_secs: f32,
        /// Direct-to-reverberant ratio, dB.
        drr_db: f32,
        /// Discrete early reflections.
        reflections: usize,
        /// Delay of the first reflection, milliseconds.
        onset_ms: f32,
        /// Seed of the impulse response's noise.
        seed: u64,
    },
    /// Additive noise.
    Noise {
        /// Kind of noise.
        kind: NoiseKind,
        /// SNR, dB, relative to the whole clip.
        snr_db: f32,
        /// Babble talkers (unused by other kinds).
        talkers: usize,
        /// Seed of the noise.
        seed: u64,
    },
    /// Microphone colouration.
    Eq {
        /// The bands, applied in order.
        bands: Vec<EqBand>,
    },
    /// Butterworth high-pass.
    HighPass {
        /// Cut-off (-3 dB), Hz.
        cutoff_hz: f32,
        /// Order (even).
        order: usize,
    },
    /// Butterworth low-pass.
    LowPass {
        /// Cut-off (-3 dB), Hz.
        cutoff_hz: f32,
        /// Order (even).
        order: usize,
    },
    /// Gain.
    Gain {
        /// Gain, dB.
        db: f32,
    },
    /// Telephone band-pass (ITU-T G.712), Butterworth edges.
    Telephone {
        /// Lower edge, Hz.
        low_hz: f32,
        /// Upper edge, Hz.
        high_hz: f32,
        /// Order of each edge.
        order: usize,
    },
    /// Bit-depth reduction (after clipping to full scale).
    BitDepth {
        /// Bits.
        bits: u32,
    },
    /// G.711 mu-law at 8 kHz (after clipping to full scale).
    MuLaw,
    /// Packet-loss dropouts.
    Dropouts {
        /// Packet length, milliseconds.
        packet_ms: f32,
        /// Probability that a packet is lost.
        loss: f32,
        /// Seed of the losses.
        seed: u64,
    },
}

/// A drawn recording chain for audio at `sample_rate`: the steps in the order they apply.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChannelChain {
    /// The rate the chain was drawn for (filter frequencies are capped below its Nyquist
    /// frequency); it applies to audio at this rate only.
    pub sample_rate: u32,
    /// The steps, in order.
    pub steps: Vec<ChannelStep>,
}

/// True with probability `p` (one draw whatever `p`, so that the draws after it do not
/// depend on it).
fn hit(rng: &mut SplitMix64, p: f32) -> bool {
    rng.next_f64() < f64::from(p)
}

/// Uniform in `[lo, hi]` (the pair comes from a validated config: `lo <= hi`).
fn uniform(rng: &mut SplitMix64, (lo, hi): (f32, f32)) -> f32 {
    rng.uniform(f64::from(lo), f64::from(hi)) as f32
}

/// Log-uniform in `[lo, hi]` after capping both at `cap` (equal odds per octave).
fn log_uniform(rng: &mut SplitMix64, (lo, hi): (f32, f32), cap: f64) -> f32 {
    let hi = f64::from(hi).min(cap);
    let lo = f64::from(lo).min(hi);
    rng.uniform(lo.ln(), hi.ln()).exp() as f32
}

/// Uniform integer in `[lo, hi]`.
fn count(rng: &mut SplitMix64, (lo, hi): (usize, usize)) -> usize {
    lo + rng.below(hi.saturating_sub(lo) + 1)
}

/// A filter order drawn in `[lo, hi]`, rounded up to even and to at most 8.
fn even_order(rng: &mut SplitMix64, range: (usize, usize)) -> usize {
    (count(rng, range).div_ceil(2) * 2).clamp(2, 8)
}

/// Highest filter frequency drawn at `sample_rate`: 0.45 of it, so that every design stays
/// clear of the Nyquist frequency where the bilinear transform squeezes its response.
fn frequency_cap(sample_rate: u32) -> f64 {
    0.45 * f64::from(sample_rate)
}

/// Draws a chain from `config` (validated) for audio at `sample_rate`: each transform is
/// included with its probability, in the physical order of a recording (see [`super`]).
pub(crate) fn draw(config: &ChannelConfig, sample_rate: u32, rng: &mut SplitMix64) -> ChannelChain {
    let mut steps = Vec::new();
    let c = config;
    if hit(rng, c.speed.prob) {
        let factor = (uniform(rng, c.speed.factor) * 1000.0).round() / 1000.0;
        steps.push(ChannelStep::Speed { factor });
    }
    if hit(rng, c.pitch.prob) {
        let semitones = uniform(rng, c.pitch.semitones);
        steps.push(ChannelStep::Pitch { semitones });
    }
    if hit(rng, c.reverb.prob) {
        steps.push(ChannelStep::Reverb {
            rt60_secs: uniform(rng, c.reverb.rt60_secs),
            drr_db: uniform(rng, c.reverb.drr_db),
            reflections: count(rng, c.reverb.reflections),
            onset_ms: uniform(rng, c.reverb.onset_ms),
            seed: rng.next_u64(),
        });
    }
    if hit(rng, c.noise.prob) && !c.noise.kinds.is_empty() {
        let kind = c.noise.kinds[rng.below(c.noise.kinds.len())];
        steps.push(ChannelStep::Noise {
            kind,
            snr_db: uniform(rng, c.noise.snr_db),
            talkers: count(rng, c.noise.babble_talkers),
            seed: rng.next_u64(),
        });
    }
    let cap = frequency_cap(sample_rate);
    if hit(rng, c.eq.prob) {
        let bands = (0..count(rng, c.eq.bands))
            .map(|_| draw_band(c, cap, rng))
            .collect();
        steps.push(ChannelStep::Eq { bands });
    }
    if hit(rng, c.high_pass.prob) {
        let cutoff_hz = log_uniform(rng, c.high_pass.cutoff_hz, cap);
        let order = even_order(rng, c.high_pass.order);
        steps.push(ChannelStep::HighPass { cutoff_hz, order });
    }
    if hit(rng, c.low_pass.prob) {
        let cutoff_hz = log_uniform(rng, c.low_pass.cutoff_hz, cap);
        let order = even_order(rng, c.low_pass.order);
        steps.push(ChannelStep::LowPass { cutoff_hz, order });
    }
    if hit(rng, c.gain.prob) {
        let db = uniform(rng, c.gain.gain_db);
        steps.push(ChannelStep::Gain { db });
    }
    draw_transmission(c, sample_rate, rng, &mut steps);
    ChannelChain { sample_rate, steps }
}

fn draw_band(c: &ChannelConfig, cap: f64, rng: &mut SplitMix64) -> EqBand {
    let shape = match rng.below(3) {
        0 => EqShape::Peaking,
        1 => EqShape::LowShelf,
        _ => EqShape::HighShelf,
    };
    let freq_hz = log_uniform(rng, c.eq.freq_hz, cap);
    let gain_db = uniform(rng, (-c.eq.gain_db, c.eq.gain_db));
    let q = match shape {
        EqShape::Peaking => uniform(rng, c.eq.q),
        _ => BUTTERWORTH_Q as f32,
    };
    EqBand {
        shape,
        freq_hz,
        gain_db,
        q,
    }
}

/// The telephone band, bit depth, mu-law and dropouts: what a transmission does last.
fn draw_transmission(
    c: &ChannelConfig,
    sample_rate: u32,
    rng: &mut SplitMix64,
    steps: &mut Vec<ChannelStep>,
) {
    if hit(rng, c.telephone.prob) {
        let high_hz = (f64::from(c.telephone.high_hz).min(frequency_cap(sample_rate))) as f32;
        let low_hz = c.telephone.low_hz.min(high_hz / 2.0);
        let order = c.telephone.order.div_ceil(2) * 2;
        steps.push(ChannelStep::Telephone {
            low_hz,
            high_hz,
            order,
        });
    }
    if hit(rng, c.bit_depth.prob) {
        let (lo, hi) = c.bit_depth.bits;
        let bits = lo + rng.below((hi.saturating_sub(lo) + 1) as usize) as u32;
        steps.push(ChannelStep::BitDepth { bits });
    }
    if hit(rng, c.mu_law.prob) {
        steps.push(ChannelStep::MuLaw);
    }
    if hit(rng, c.dropouts.prob) {
        steps.push(ChannelStep::Dropouts {
            packet_ms: c.dropouts.packet_ms,
            loss: uniform(rng, c.dropouts.loss),
            seed: rng.next_u64(),
        });
    }
}

/// Butterworth sections of `order` at `cutoff_hz`.
fn butterworth(fs: f64, cutoff_hz: f32, order: usize, high: bool) -> Result<Vec<Biquad>> {
    butterworth_qs(order)
        .into_iter()
        .map(|q| {
            if high {
                Biquad::high_pass(fs, f64::from(cutoff_hz), q)
            } else {
                Biquad::low_pass(fs, f64::from(cutoff_hz), q)
            }
        })
        .collect()
}

fn eq_sections(fs: f64, bands: &[EqBand]) -> Result<Vec<Biquad>> {
    bands
        .iter()
        .map(|b| {
            let (f, q, g) = (f64::from(b.freq_hz), f64::from(b.q), f64::from(b.gain_db));
            match b.shape {
                EqShape::Peaking => Biquad::peaking(fs, f, q, g),
                EqShape::LowShelf => Biquad::low_shelf(fs, f, q, g),
                EqShape::HighShelf => Biquad::high_shelf(fs, f, q, g),
            }
        })
        .collect()
}

impl ChannelStep {
    /// Applies this step to `audio` in place.
    pub(crate) fn apply(&self, audio: &mut Audio, fft: &FftCache) -> Result<()> {
        let fs = f64::from(audio.sample_rate);
        match *self {
            ChannelStep::Speed { factor } => *audio = change_speed(audio, f64::from(factor))?,
            ChannelStep::Pitch { semitones } => *audio = pitch_shift(audio, f64::from(semitones))?,
            ChannelStep::Reverb {
                rt60_secs,
                drr_db,
                reflections,
                onset_ms,
                seed,
            } => {
                let spec = RirSpec {
                    rt60_secs: f64::from(rt60_secs),
                    drr_db: f64::from(drr_db),
                    reflections,
                    onset_secs: f64::from(onset_ms) / 1000.0,
                };
                let rir = synth_rir(audio.sample_rate, &spec, &mut SplitMix64::new(seed))?;
                audio.samples = convolve_prefix(&audio.samples, &rir, fft)?;
            }
            ChannelStep::Noise {
                kind,
                snr_db,
                talkers,
                seed,
            } => {
                let mut rng = SplitMix64::new(seed);
                let noise = make_noise(
                    kind,
                    &audio.samples,
                    audio.sample_rate,
                    talkers,
                    &mut rng,
                    fft,
                )?;
                add_at_snr(&mut audio.samples, &noise, f64::from(snr_db));
            }
            ChannelStep::Eq { ref bands } => {
                process_cascade(&eq_sections(fs, bands)?, &mut audio.samples);
            }
            ChannelStep::HighPass { cutoff_hz, order } => {
                process_cascade(
                    &butterworth(fs, cutoff_hz, order, true)?,
                    &mut audio.samples,
                );
            }
            ChannelStep::LowPass { cutoff_hz, order } => {
                process_cascade(
                    &butterworth(fs, cutoff_hz, order, false)?,
                    &mut audio.samples,
                );
            }
            ChannelStep::Gain { db } => {
                let g = 10f32.powf(db / 20.0);
                audio.samples.iter_mut().for_each(|v| *v *= g);
            }
            ChannelStep::Telephone {
                low_hz,
                high_hz,
                order,
            } => {
                let mut sections = butterworth(fs, low_hz, order, true)?;
                sections.extend(butterworth(fs, high_hz, order, false)?);
                process_cascade(&sections, &mut audio.samples);
            }
            ChannelStep::BitDepth { bits } => {
                clip(&mut audio.samples);
                reduce_bit_depth(&mut audio.samples, bits);
            }
            ChannelStep::MuLaw => *audio = telephone_codec(audio)?,
            ChannelStep::Dropouts {
                packet_ms,
                loss,
                seed,
            } => {
                let secs = f64::from(packet_ms) / 1000.0;
                let mut rng = SplitMix64::new(seed);
                drop_packets(
                    &mut audio.samples,
                    audio.sample_rate,
                    secs,
                    f64::from(loss),
                    &mut rng,
                );
            }
        }
        Ok(())
    }
}

impl ChannelChain {
    /// Checks that `audio` is at the rate this chain was drawn for.
    pub(crate) fn check_rate(&self, audio: &Audio) -> Result<()> {
        if audio.sample_rate == self.sample_rate {
            Ok(())
        } else {
            Err(Error::InvalidConfig {
                field: "chain.sample_rate",
                reason: format!(
                    "the chain was drawn for {} Hz audio, not {} Hz",
                    self.sample_rate, audio.sample_rate
                ),
            })
        }
    }
}

impl fmt::Display for ChannelStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChannelStep::Speed { factor } => write!(f, "speed x{factor:.3}"),
            ChannelStep::Pitch { semitones } => write!(f, "pitch {semitones:+.2} st"),
            ChannelStep::Reverb {
                rt60_secs, drr_db, ..
            } => write!(f, "room RT60 {rt60_secs:.2} s DRR {drr_db:+.1} dB"),
            ChannelStep::Noise {
                kind: NoiseKind::Babble,
                snr_db,
                talkers,
                ..
            } => write!(f, "babble of {talkers} at {snr_db:.1} dB SNR"),
            ChannelStep::Noise { kind, snr_db, .. } => {
                write!(f, "{kind} noise at {snr_db:.1} dB SNR")
            }
            ChannelStep::Eq { bands } => {
                f.write_str("EQ")?;
                for (i, b) in bands.iter().enumerate() {
                    let shape = match b.shape {
                        EqShape::Peaking => "peak",
                        EqShape::LowShelf => "low shelf",
                        EqShape::HighShelf => "high shelf",
                    };
                    let sep = if i == 0 { " " } else { ", " };
                    write!(f, "{sep}{shape} {:.0} Hz {:+.1} dB", b.freq_hz, b.gain_db)?;
                    if b.shape == EqShape::Peaking {
                        write!(f, " Q {:.2}", b.q)?;
                    }
                }
                Ok(())
            }
            ChannelStep::HighPass { cutoff_hz, order } => {
                write!(f, "high-pass {cutoff_hz:.0} Hz order {order}")
            }
            ChannelStep::LowPass { cutoff_hz, order } => {
                write!(f, "low-pass {cutoff_hz:.0} Hz order {order}")
            }
            ChannelStep::Gain { db } => write!(f, "gain {db:+.1} dB"),
            ChannelStep::Telephone {
                low_hz, high_hz, ..
            } => write!(f, "telephone band {low_hz:.0}-{high_hz:.0} Hz"),
            ChannelStep::BitDepth { bits } => write!(f, "{bits}-bit"),
            ChannelStep::MuLaw => f.write_str("G.711 mu-law at 8 kHz"),
            ChannelStep::Dropouts {
                packet_ms, loss, ..
            } => write!(f, "{:.1} % of {packet_ms:.0} ms packets lost", loss * 100.0),
        }
    }
}

impl fmt::Display for ChannelChain {
    /// The steps joined by `" -> "`, or `"clean"` for an empty chain.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.steps.is_empty() {
            return f.write_str("clean");
        }
        for (i, s) in self.steps.iter().enumerate() {
            if i > 0 {
                f.write_str(" -> ")?;
            }
            write!(f, "{s}")?;
        }
        Ok(())
    }
}
