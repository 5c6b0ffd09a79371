//! Channel simulation: random recording chains (talker, room, noise, microphone, band limits,
//! level, transmission) applied to a clip, so that a model trained on one studio hears other
//! rooms, microphones and lines (issue 27, "Robust to the channel").
//!
//! A [`ChannelSimulator`] is built from a serde [`ChannelConfig`] (each transform's
//! probability and parameter ranges; `Default` documents its values and sources). Each call of
//! [`ChannelSimulator::apply`] draws one [`ChannelChain`] from a
//! [`SplitMix64`](crate::rng::SplitMix64) and applies it; [`ChannelSimulator::simulate`] also
//! returns the chain, whose `Display` is one line for a log and whose JSON replays it exactly
//! ([`ChannelSimulator::replay`]).
//!
//! The steps a chain may hold, each drawn independently with its probability, apply in the
//! order a recording goes through them:
//!
//! | order | step | what | source |
//! |---|---|---|---|
//! | 1 | speed | resample: tempo and pitch x factor, length / factor | Ko et al., Interspeech 2015 |
//! | 2 | pitch | WSOLA stretch + resample: pitch only, length kept | Verhelst & Roelands, ICASSP 1993 |
//! | 3 | reverb | synthetic RIR (RT60, DRR, early reflections), FFT convolution | Polack 1993; Ko et al., ICASSP 2017 |
//! | 4 | noise | pink, brown, white or babble at an SNR | Krishnamurthy & Hansen 2009 |
//! | 5 | eq | 1-3 random peaking/shelving biquads | RBJ Audio EQ Cookbook |
//! | 6 | high-pass, low-pass | Butterworth, random cut-off and order | RBJ cookbook sections, Butterworth Qs |
//! | 7 | gain | random level | |
//! | 8 | telephone | 300-3400 Hz band-pass | ITU-T G.712 |
//! | 9 | bit depth | uniform requantisation | |
//! | 10 | mu-law | 8 kHz, G.711 mu-law 8-bit, back to the clip's rate | ITU-T G.711 |
//! | 11 | dropouts | 20 ms packets lost at random | RFC 3551 |
//!
//! **Length**: every step keeps the clip's length except speed, which makes it
//! `ceil(n / factor)` (pitch shift keeps it exactly; reverberation drops the tail that rings
//! past the end).
//!
//! **Level**: bit depth and mu-law clip their input to [-1, 1], as a converter would; at the
//! end of the chain a clip whose peak is above 1.0 is scaled down to a peak of exactly 1.0
//! ([`Simulated::peak_gain_db`]), and one within full scale is left at the level the chain
//! gave it. The output is always finite and within [-1, 1].
//!
//! ```
//! use ser_audio::Audio;
//! use ser_audio::channel::{ChannelConfig, ChannelSimulator};
//! use ser_audio::rng::SplitMix64;
//!
//! let sim = ChannelSimulator::new(ChannelConfig::default())?;
//! let clip = Audio::new(
//!     (0..16_000).map(|i| 0.3 * (i as f32 * 0.07).sin()).collect(),
//!     16_000,
//! );
//! // One degraded copy per call; a per-clip stream keeps copies reproducible.
//! let mut rng = SplitMix64::derive(42, 7);
//! let out = sim.simulate(&clip, &mut rng)?;
//! println!("{out}"); // e.g. "room RT60 0.43 s DRR +4.1 dB -> pink noise at 17.2 dB SNR"
//! assert!(out.audio.samples.iter().all(|v| v.is_finite() && v.abs() <= 1.0));
//!
//! // The same chain again, from its JSON.
//! let json = serde_json::to_string(&out.chain)?;
//! let again = sim.replay(&serde_json::from_str(&json)?, &clip)?;
//! assert_eq!(again.audio, out.audio);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod chain;
pub mod codec;
mod config;
mod fft;
pub mod noise;
pub mod reverb;
mod simulator;
pub mod timescale;

pub use chain::{ChannelChain, ChannelStep, EqBand, EqShape};
pub use config::{
    BitDepthConfig, ChannelConfig, DropoutConfig, EqConfig, GainConfig, HighPassConfig,
    LowPassConfig, MuLawConfig, NoiseConfig, PitchConfig, ReverbConfig, SpeedConfig,
    TelephoneConfig,
};
pub use noise::NoiseKind;
pub use simulator::{ChannelSimulator, Simulated};
