//! [`ChannelSimulator`]: draws a recording chain per call and applies it.

use std::fmt;

use super::chain::{ChannelChain, draw};
use super::config::ChannelConfig;
use super::fft::FftCache;
use crate::Audio;
use crate::checks::{MAX_SAMPLE_RATE, check_finite, check_samples};
use crate::error::{Error, Result};
use crate::resample::RESAMPLE_MIN_RATE;
use crate::rng::SplitMix64;

/// Simulates recording chains other than the one a clip was recorded through (module docs of
/// [`super`]). Built once from a validated [`ChannelConfig`]; `Send + Sync`, so one simulator
/// can serve every thread of a data loader (its FFT plans are shared).
#[derive(Debug)]
pub struct ChannelSimulator {
    config: ChannelConfig,
    fft: FftCache,
}

/// The result of one simulation: the degraded audio, the chain that made it, and the final
/// peak renormalisation.
#[derive(Debug, Clone, PartialEq)]
pub struct Simulated {
    /// The degraded clip: finite samples within [-1, 1].
    pub audio: Audio,
    /// The chain drawn (replay it with [`ChannelSimulator::replay`]).
    pub chain: ChannelChain,
    /// The gain (dB, negative) applied at the end to bring a peak above 1.0 back to 1.0, if
    /// one was needed.
    pub peak_gain_db: Option<f32>,
}

impl ChannelSimulator {
    /// A simulator for `config`, after [`ChannelConfig::validate`].
    pub fn new(config: ChannelConfig) -> Result<Self> {
        config.validate()?;
        Ok(Self {
            config,
            fft: FftCache::default(),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &ChannelConfig {
        &self.config
    }

    /// Draws a chain for audio at `sample_rate` without applying it.
    pub fn draw(&self, sample_rate: u32, rng: &mut SplitMix64) -> ChannelChain {
        draw(&self.config, sample_rate, rng)
    }

    /// Draws one recording chain from `rng` and applies it to `audio`: the degraded copy.
    /// Deterministic: the same config, audio and generator state give the same samples.
    ///
    /// Errors when the rate is outside 1-192 kHz (what the resampler takes) or a sample is not
    /// finite or beyond [`crate::MAX_SAMPLE_MAGNITUDE`]. An empty clip comes back empty.
    pub fn apply(&self, audio: &Audio, rng: &mut SplitMix64) -> Result<Audio> {
        Ok(self.simulate(audio, rng)?.audio)
    }

    /// [`apply`](Self::apply), also returning the chain drawn (its `Display` is one line for a
    /// log, its JSON replays it) and the final peak gain.
    pub fn simulate(&self, audio: &Audio, rng: &mut SplitMix64) -> Result<Simulated> {
        check_input(audio)?;
        let chain = self.draw(audio.sample_rate, rng);
        self.replay(&chain, audio)
    }

    /// Applies a given chain (drawn before, possibly by another simulator, or read back
    /// from a log) to `audio`, which must be at the chain's sample rate.
    pub fn replay(&self, chain: &ChannelChain, audio: &Audio) -> Result<Simulated> {
        check_input(audio)?;
        chain.check_rate(audio)?;
        let mut out = audio.clone();
        for step in &chain.steps {
            step.apply(&mut out, &self.fft)?;
        }
        let peak_gain_db = limit_peak(&mut out.samples);
        check_finite(&out.samples).map_err(|e| Error::Dsp {
            stage: "channel simulation",
            reason: format!("{e} after {chain}"),
        })?;
        Ok(Simulated {
            audio: out,
            chain: chain.clone(),
            peak_gain_db,
        })
    }
}

/// Rate within the resampler's range, samples finite and within the magnitude limit.
fn check_input(audio: &Audio) -> Result<()> {
    let rate = audio.sample_rate;
    if !(RESAMPLE_MIN_RATE..=MAX_SAMPLE_RATE).contains(&rate) {
        return Err(Error::SampleRate {
            rate,
            min: RESAMPLE_MIN_RATE,
            max: MAX_SAMPLE_RATE,
        });
    }
    check_samples(&audio.samples, rate)
}

/// Scales the clip down so its peak is 1.0 when it is above (gain, dB), else leaves it.
///
/// Why at the end and only then: every step may raise the peak (an EQ boost, a room's
/// reflections adding up, noise), and the output must stay a valid [`Audio`] in [-1, 1]; but
/// a clip that is within full scale keeps the level the chain gave it (a quiet recording is
/// part of the simulation). Clipping instead would add distortion no step asked for.
fn limit_peak(x: &mut [f32]) -> Option<f32> {
    let peak = x.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    if peak <= 1.0 || !peak.is_finite() {
        return None;
    }
    let g = 1.0 / f64::from(peak);
    for v in x.iter_mut() {
        // The product may round a hair above 1.0.
        *v = (f64::from(*v) * g).clamp(-1.0, 1.0) as f32;
    }
    Some((20.0 * g.log10()) as f32)
}

impl fmt::Display for Simulated {
    /// The chain, and the peak renormalisation when there was one.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.chain)?;
        if let Some(g) = self.peak_gain_db {
            write!(f, " -> peak limited {g:+.1} dB")?;
        }
        Ok(())
    }
}
