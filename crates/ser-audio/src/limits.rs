//! Bounds on what decoding may produce, so that no input, however small or malicious, makes a
//! decoder allocate without limit (issue 25: a 438 KB Ogg/Vorbis file whose header claims a
//! 4 GHz rate drove the old decoder to 743 MiB before any check ran).
//!
//! Every decoder path checks, in this order and before decoding a sample: the sample rate
//! ([`crate::checks::MIN_SAMPLE_RATE`]..=[`crate::checks::MAX_SAMPLE_RATE`]) and the channel
//! count ([`MAX_CHANNELS`]) from the header; the duration the header promises, where it is
//! exact (WAV data size, FLAC STREAMINFO, Ogg granule position); then, while decoding, the
//! samples produced so far against [`DecodeLimits::sample_cap`], refusing as soon as the cap
//! is passed and before the samples are stored.

use crate::checks::MAX_SAMPLE_RATE;
use crate::error::{Error, Result};

/// Most channels a stream may have.
///
/// 64 is the channel count of a 7th-order ambisonic recording ((7 + 1)^2 channels), the largest
/// layout in common production use; nothing anyone speaks into has more, and every channel
/// multiplies the work and memory per frame. WAV allows 65,535 (a 16-bit field) and Vorbis 255
/// (Vorbis I spec, section 4.2.2, `audio_channels` is 8 bits).
pub const MAX_CHANNELS: usize = 64;

/// Default cap on decoded samples, all channels together, when the caller sets no duration
/// limit: 2^28 = 268,435,456 samples, 1 GiB as `f32`; 93 minutes of 48 kHz mono.
///
/// Generous for one recording (ser-predict classifies long interviews as a timeline), and it
/// bounds every path: a few kilobytes of FLAC constant subframes or Vorbis floor-only packets
/// can otherwise claim hours of audio.
pub const DEFAULT_MAX_SAMPLES: u64 = 1 << 28;

/// Limits a decoder enforces. [`Default`]: no duration limit, [`DEFAULT_MAX_SAMPLES`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DecodeLimits {
    /// Refuse audio longer than this many seconds ([`Error::TooLong`]); `None`: no duration
    /// limit (the sample cap still applies).
    pub max_secs: Option<f64>,
    /// Refuse streams that decode to more samples than this, all channels together
    /// ([`Error::TooManySamples`]).
    pub max_samples: u64,
}

impl Default for DecodeLimits {
    fn default() -> Self {
        Self {
            max_secs: None,
            max_samples: DEFAULT_MAX_SAMPLES,
        }
    }
}

impl DecodeLimits {
    /// The default limits with a duration limit of `max_secs` seconds (`None`: none).
    pub fn with_max_secs(max_secs: Option<f64>) -> Self {
        Self {
            max_secs,
            ..Self::default()
        }
    }

    /// Checks the fields: `max_secs` must be a non-negative number.
    pub fn validate(&self) -> Result<()> {
        match self.max_secs {
            Some(s) if s.is_nan() || s < 0.0 => Err(Error::InvalidConfig {
                field: "max_secs",
                reason: format!("must be >= 0 seconds, got {s}"),
            }),
            _ => Ok(()),
        }
    }

    /// The most samples (all channels together) a stream of `channels` channels may decode
    /// to: [`Self::max_samples`], and with a duration limit `max_secs x 192 kHz x channels`,
    /// the most any stream within the limit holds at any accepted rate. Bounding by the
    /// highest accepted rate, not the stream's, keeps the cap valid when a damaged stream's
    /// frames disagree about the rate.
    pub fn sample_cap(&self, channels: usize) -> u64 {
        match self.max_secs {
            Some(secs) => {
                // A float-to-int `as` cast saturates, so an infinite limit gives u64::MAX.
                let by_time = (secs * f64::from(MAX_SAMPLE_RATE) * channels as f64).ceil() as u64;
                self.max_samples.min(by_time)
            }
            None => self.max_samples,
        }
    }

    /// The error for `frames` frames at `rate` Hz against the duration limit, if any:
    /// `exact` when `frames` is the stream's length, not where decoding stopped.
    pub(crate) fn check_duration(&self, frames: u64, rate: u32, exact: bool) -> Result<()> {
        let secs = frames as f64 / f64::from(rate.max(1));
        match self.max_secs {
            Some(max) if secs > max => Err(Error::TooLong {
                duration_secs: secs,
                max_secs: max,
                at_least: !exact,
            }),
            _ => Ok(()),
        }
    }

    /// The error once `samples` samples (all channels; `frames` frames at `rate` Hz) pass the
    /// cap for `channels`: `exact` when that is the stream's length, not where decoding
    /// stopped.
    pub(crate) fn check_samples(
        &self,
        samples: u64,
        channels: usize,
        frames: u64,
        rate: u32,
        exact: bool,
    ) -> Result<()> {
        let cap = self.sample_cap(channels);
        if samples <= cap {
            return Ok(());
        }
        let duration_secs = frames as f64 / f64::from(rate.max(1));
        Err(match self.max_secs {
            Some(max) => Error::TooLong {
                duration_secs,
                max_secs: max,
                at_least: !exact,
            },
            None => Error::TooManySamples {
                max_samples: cap,
                duration_secs,
                at_least: !exact,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_follows_the_duration_limit_and_the_channels() {
        assert_eq!(DecodeLimits::default().sample_cap(2), DEFAULT_MAX_SAMPLES);
        let l = DecodeLimits::with_max_secs(Some(60.0));
        assert_eq!(l.sample_cap(1), 60 * 192_000);
        assert_eq!(l.sample_cap(2), 2 * 60 * 192_000);
        assert_eq!(
            DecodeLimits::with_max_secs(Some(f64::INFINITY)).sample_cap(1),
            DEFAULT_MAX_SAMPLES
        );
        assert!(
            DecodeLimits::with_max_secs(Some(f64::NAN))
                .validate()
                .is_err()
        );
        assert!(DecodeLimits::with_max_secs(Some(-1.0)).validate().is_err());
    }
}
