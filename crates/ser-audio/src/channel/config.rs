//! [`ChannelConfig`]: which recording-chain transforms the simulator may draw, how often, and
//! over which parameter ranges. A serde struct meant to be saved beside a training run.
//!
//! Every transform has a probability `prob` (0 turns it off) and is drawn independently of the
//! others; ranges are `(lo, hi)` pairs (JSON `[lo, hi]`) drawn uniformly unless said
//! otherwise. Unknown fields are refused (a misspelt field would otherwise be silently
//! ignored); missing ones take their default.

use serde::{Deserialize, Serialize};

use super::noise::NoiseKind;
use super::reverb::EARLY_SECS;
use super::timescale::SPEED_RANGE;
use crate::error::{Error, Result};

/// Speed perturbation: tempo and pitch together (Ko et al. 2015).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SpeedConfig {
    /// Probability of a speed change. Default 0.3.
    pub prob: f32,
    /// Speed factor range (1.1 = 10 % faster and higher), within 0.5-2. Default (0.9, 1.1):
    /// the span of Ko et al., "Audio augmentation for speech recognition", Interspeech 2015,
    /// drawn continuously (quantised to 0.001) instead of from {0.9, 1.0, 1.1}.
    pub factor: (f32, f32),
}

impl Default for SpeedConfig {
    fn default() -> Self {
        Self {
            prob: 0.3,
            factor: (0.9, 1.1),
        }
    }
}

/// Pitch shift with the tempo kept (WSOLA time stretch, then a speed change).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PitchConfig {
    /// Probability of a pitch shift. Default 0.15: pitch carries emotion, so it is shifted
    /// less often than the channel is changed.
    pub prob: f32,
    /// Shift range in semitones, within +-12. Default (-2, 2): less than the spread of mean F0
    /// between speakers of one sex, so a shifted voice is still a plausible voice.
    pub semitones: (f32, f32),
}

impl Default for PitchConfig {
    fn default() -> Self {
        Self {
            prob: 0.15,
            semitones: (-2.0, 2.0),
        }
    }
}

/// Room reverberation by a synthetic impulse response ([`super::reverb`]).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReverbConfig {
    /// Probability of a room. Default 0.3.
    pub prob: f32,
    /// RT60 range, seconds, within 0.05-3. Default (0.2, 0.8): from a furnished office or
    /// living room to a large classroom.
    pub rt60_secs: (f32, f32),
    /// Direct-to-reverberant ratio range, dB, within -30..40. Default (-3, 12) (our choice):
    /// from a talker a few metres away in a live room to a near-field microphone.
    pub drr_db: (f32, f32),
    /// Range of the number of discrete early reflections (at most 64). Default (3, 8).
    pub reflections: (usize, usize),
    /// Range of the delay of the first reflection after the direct sound, milliseconds, within
    /// (0, 50). Default (2, 8): a reflected path 0.7-2.7 m longer than the direct one.
    pub onset_ms: (f32, f32),
}

impl Default for ReverbConfig {
    fn default() -> Self {
        Self {
            prob: 0.3,
            rt60_secs: (0.2, 0.8),
            drr_db: (-3.0, 12.0),
            reflections: (3, 8),
            onset_ms: (2.0, 8.0),
        }
    }
}

/// Additive noise ([`super::noise`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NoiseConfig {
    /// Probability of noise. Default 0.3.
    pub prob: f32,
    /// SNR range, dB, relative to the whole clip's RMS (as [`crate::Audio::add_white_noise`]).
    /// Default (10, 30): the range of ser-train's waveform noise, centred on the 20 dB of its
    /// robustness test.
    pub snr_db: (f32, f32),
    /// Kinds to draw from, uniformly. Default pink, brown, babble (white noise is already
    /// ser-train's `wave_noise`).
    pub kinds: Vec<NoiseKind>,
    /// Range of the number of babble talkers (1-16). Default (3, 6) (Krishnamurthy & Hansen
    /// 2009: the hardest babble).
    pub babble_talkers: (usize, usize),
}

impl Default for NoiseConfig {
    fn default() -> Self {
        Self {
            prob: 0.3,
            snr_db: (10.0, 30.0),
            kinds: vec![NoiseKind::Pink, NoiseKind::Brown, NoiseKind::Babble],
            babble_talkers: (3, 6),
        }
    }
}

/// Microphone colouration: a few random peaking or shelving biquads (RBJ cookbook).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EqConfig {
    /// Probability of an equaliser. Default 0.4.
    pub prob: f32,
    /// Range of the number of bands (1-8). Default (1, 3).
    pub bands: (usize, usize),
    /// Largest band gain, dB; each band draws uniformly in `[-gain_db, gain_db]`, at most 20.
    /// Default 8 (our choice, within the +-6-10 dB by which cheap and studio microphones,
    /// headsets and laptop arrays colour the speech band differently).
    pub gain_db: f32,
    /// Centre/corner frequency range, Hz, drawn log-uniformly (equal odds per octave) and
    /// capped at 0.45 x the sample rate. Default (100, 6000).
    pub freq_hz: (f32, f32),
    /// Q range of peaking bands (shelves use the cookbook's S = 1). Default (0.5, 2): one to
    /// three octaves wide, the broad bumps of a microphone response, not narrow resonances.
    pub q: (f32, f32),
}

impl Default for EqConfig {
    fn default() -> Self {
        Self {
            prob: 0.4,
            bands: (1, 3),
            gain_db: 8.0,
            freq_hz: (100.0, 6000.0),
            q: (0.5, 2.0),
        }
    }
}

/// A random Butterworth high-pass (the low-frequency limit of a microphone, or a voice
/// application's "low cut").
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HighPassConfig {
    /// Probability. Default 0.2.
    pub prob: f32,
    /// Cut-off range, Hz, drawn log-uniformly and capped at 0.45 x the sample rate. Default
    /// (50, 400): from a plain microphone's roll-off to a voice-call low cut.
    pub cutoff_hz: (f32, f32),
    /// Range of the filter order, 2-8; an even order is drawn (12 dB per octave per two).
    /// Default (2, 4).
    pub order: (usize, usize),
}

impl Default for HighPassConfig {
    fn default() -> Self {
        Self {
            prob: 0.2,
            cutoff_hz: (50.0, 400.0),
            order: (2, 4),
        }
    }
}

/// A random Butterworth low-pass (a band-limited recording: a low sample rate's anti-alias
/// filter, a lossy codec's bandwidth, a muffled microphone).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LowPassConfig {
    /// Probability. Default 0.2.
    pub prob: f32,
    /// Cut-off range, Hz, drawn log-uniformly and capped at 0.45 x the sample rate. Default
    /// (2500, 7000): from AM-radio-like to the anti-alias filter of a 16 kHz converter.
    pub cutoff_hz: (f32, f32),
    /// Range of the filter order, 2-8; an even order is drawn. Default (2, 4).
    pub order: (usize, usize),
}

impl Default for LowPassConfig {
    fn default() -> Self {
        Self {
            prob: 0.2,
            cutoff_hz: (2500.0, 7000.0),
            order: (2, 4),
        }
    }
}

/// The telephone channel's band-pass: ITU-T G.712's 300-3400 Hz pass band.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TelephoneConfig {
    /// Probability. Default 0.1.
    pub prob: f32,
    /// Lower edge, Hz. Default 300 (ITU-T G.712).
    pub low_hz: f32,
    /// Upper edge, Hz. Default 3400 (ITU-T G.712).
    pub high_hz: f32,
    /// Butterworth order of each edge (even, 2-8). Default 4: 24 dB per octave, 38 dB down at
    /// 100 Hz; G.712's mask asks for more attenuation only close to the 4 kHz Nyquist frequency
    /// of the 8 kHz line, which the mu-law codec's resampling provides.
    pub order: usize,
}

impl Default for TelephoneConfig {
    fn default() -> Self {
        Self {
            prob: 0.1,
            low_hz: 300.0,
            high_hz: 3400.0,
            order: 4,
        }
    }
}

/// Random gain (recording level).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GainConfig {
    /// Probability. Default 0.5.
    pub prob: f32,
    /// Gain range, dB, within +-40. Default (-12, 6): quiet recordings are far more common than
    /// hot ones; a positive gain that drives the clip over full scale is clipped by a codec
    /// later in the chain, or undone by the final peak renormalisation.
    pub gain_db: (f32, f32),
}

impl Default for GainConfig {
    fn default() -> Self {
        Self {
            prob: 0.5,
            gain_db: (-12.0, 6.0),
        }
    }
}

/// Plain bit-depth reduction.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BitDepthConfig {
    /// Probability. Default 0.05.
    pub prob: f32,
    /// Range of bits, 2-24. Default (8, 12): from 8-bit PCM to a poor 16-bit converter's
    /// effective resolution.
    pub bits: (u32, u32),
}

impl Default for BitDepthConfig {
    fn default() -> Self {
        Self {
            prob: 0.05,
            bits: (8, 12),
        }
    }
}

/// G.711 mu-law at 8 kHz.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MuLawConfig {
    /// Probability. Default 0.1.
    pub prob: f32,
}

impl Default for MuLawConfig {
    fn default() -> Self {
        Self { prob: 0.1 }
    }
}

/// Packet-loss dropouts.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DropoutConfig {
    /// Probability. Default 0.05.
    pub prob: f32,
    /// Packet length, milliseconds (1-200). Default 20 (RFC 3551, section 4.2).
    pub packet_ms: f32,
    /// Range of the packet loss rate, within 0-0.5. Default (0.02, 0.1): from an acceptable to
    /// a poor voice-over-IP call.
    pub loss: (f32, f32),
}

impl Default for DropoutConfig {
    fn default() -> Self {
        Self {
            prob: 0.05,
            packet_ms: 20.0,
            loss: (0.02, 0.1),
        }
    }
}

/// Everything the channel simulator may draw (see the module docs of [`super`] for the order
/// in which a drawn chain applies them). `Default` is each transform's documented default.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ChannelConfig {
    /// Speed perturbation.
    pub speed: SpeedConfig,
    /// Pitch shift.
    pub pitch: PitchConfig,
    /// Room reverberation.
    pub reverb: ReverbConfig,
    /// Additive noise.
    pub noise: NoiseConfig,
    /// Microphone colouration.
    pub eq: EqConfig,
    /// Random high-pass.
    pub high_pass: HighPassConfig,
    /// Random low-pass.
    pub low_pass: LowPassConfig,
    /// Random gain.
    pub gain: GainConfig,
    /// Telephone band-pass (ITU-T G.712).
    pub telephone: TelephoneConfig,
    /// Bit-depth reduction.
    pub bit_depth: BitDepthConfig,
    /// G.711 mu-law at 8 kHz.
    pub mu_law: MuLawConfig,
    /// Packet-loss dropouts.
    pub dropouts: DropoutConfig,
}

impl ChannelConfig {
    /// Every transform off (a drawn chain is empty; the simulator only limits the peak).
    pub fn none() -> Self {
        let mut c = Self::default();
        for p in c.probs_mut() {
            *p = 0.0;
        }
        c
    }

    fn probs_mut(&mut self) -> [&mut f32; 12] {
        [
            &mut self.speed.prob,
            &mut self.pitch.prob,
            &mut self.reverb.prob,
            &mut self.noise.prob,
            &mut self.eq.prob,
            &mut self.high_pass.prob,
            &mut self.low_pass.prob,
            &mut self.gain.prob,
            &mut self.telephone.prob,
            &mut self.bit_depth.prob,
            &mut self.mu_law.prob,
            &mut self.dropouts.prob,
        ]
    }

    /// Checks every probability (0-1) and range (finite, `lo <= hi`, within the bounds each
    /// field documents), naming the first bad field.
    pub fn validate(&self) -> Result<()> {
        let probs = [
            ("speed.prob", self.speed.prob),
            ("pitch.prob", self.pitch.prob),
            ("reverb.prob", self.reverb.prob),
            ("noise.prob", self.noise.prob),
            ("eq.prob", self.eq.prob),
            ("high_pass.prob", self.high_pass.prob),
            ("low_pass.prob", self.low_pass.prob),
            ("gain.prob", self.gain.prob),
            ("telephone.prob", self.telephone.prob),
            ("bit_depth.prob", self.bit_depth.prob),
            ("mu_law.prob", self.mu_law.prob),
            ("dropouts.prob", self.dropouts.prob),
        ];
        for (field, p) in probs {
            check_range(field, (p, p), (0.0, 1.0))?;
        }
        let (lo, hi) = (SPEED_RANGE.0 as f32, SPEED_RANGE.1 as f32);
        check_range("speed.factor", self.speed.factor, (lo, hi))?;
        check_range("pitch.semitones", self.pitch.semitones, (-12.0, 12.0))?;
        let r = &self.reverb;
        check_range("reverb.rt60_secs", r.rt60_secs, (0.05, 3.0))?;
        check_range("reverb.drr_db", r.drr_db, (-30.0, 40.0))?;
        check_count("reverb.reflections", r.reflections, (0, 64))?;
        let early_ms = (EARLY_SECS * 1000.0) as f32;
        check_range("reverb.onset_ms", r.onset_ms, (0.1, early_ms - 0.1))?;
        check_range("noise.snr_db", self.noise.snr_db, (-20.0, 100.0))?;
        check_count("noise.babble_talkers", self.noise.babble_talkers, (1, 16))?;
        if self.noise.prob > 0.0 && self.noise.kinds.is_empty() {
            return Err(invalid(
                "noise.kinds",
                "is empty while noise.prob > 0".into(),
            ));
        }
        check_count("eq.bands", self.eq.bands, (1, 8))?;
        check_range(
            "eq.gain_db",
            (self.eq.gain_db, self.eq.gain_db),
            (0.0, 20.0),
        )?;
        check_range("eq.freq_hz", self.eq.freq_hz, (20.0, 96_000.0))?;
        check_range("eq.q", self.eq.q, (0.1, 10.0))?;
        let (hp, lp) = (&self.high_pass, &self.low_pass);
        check_range("high_pass.cutoff_hz", hp.cutoff_hz, (20.0, 96_000.0))?;
        check_count("high_pass.order", hp.order, (2, 8))?;
        check_range("low_pass.cutoff_hz", lp.cutoff_hz, (20.0, 96_000.0))?;
        check_count("low_pass.order", lp.order, (2, 8))?;
        let t = &self.telephone;
        check_range(
            "telephone.low_hz/high_hz",
            (t.low_hz, t.high_hz),
            (20.0, 96_000.0),
        )?;
        if t.low_hz >= t.high_hz {
            return Err(invalid(
                "telephone.low_hz/high_hz",
                "low_hz must be < high_hz".into(),
            ));
        }
        check_count("telephone.order", (t.order, t.order), (2, 8))?;
        check_range("gain.gain_db", self.gain.gain_db, (-40.0, 40.0))?;
        let bits = self.bit_depth.bits;
        check_count(
            "bit_depth.bits",
            (bits.0 as usize, bits.1 as usize),
            (2, 24),
        )?;
        let d = &self.dropouts;
        check_range(
            "dropouts.packet_ms",
            (d.packet_ms, d.packet_ms),
            (1.0, 200.0),
        )?;
        check_range("dropouts.loss", d.loss, (0.0, 0.5))
    }
}

fn invalid(field: &'static str, reason: String) -> Error {
    Error::InvalidConfig { field, reason }
}

/// `lo <= hi`, both finite and within `bounds`.
fn check_range(field: &'static str, (lo, hi): (f32, f32), bounds: (f32, f32)) -> Result<()> {
    if lo.is_finite() && hi.is_finite() && bounds.0 <= lo && lo <= hi && hi <= bounds.1 {
        Ok(())
    } else {
        Err(invalid(
            field,
            format!(
                "({lo}, {hi}) must be finite with lo <= hi, within {} to {}",
                bounds.0, bounds.1
            ),
        ))
    }
}

/// `lo <= hi` within `bounds`.
fn check_count(
    field: &'static str,
    (lo, hi): (usize, usize),
    bounds: (usize, usize),
) -> Result<()> {
    if bounds.0 <= lo && lo <= hi && hi <= bounds.1 {
        Ok(())
    } else {
        Err(invalid(
            field,
            format!(
                "({lo}, {hi}) must have lo <= hi, within {} to {}",
                bounds.0, bounds.1
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn defaults_and_none_are_valid_and_round_trip_through_json() {
        for c in [ChannelConfig::default(), ChannelConfig::none()] {
            c.validate().unwrap();
            let json = serde_json::to_string(&c).unwrap();
            assert_eq!(serde_json::from_str::<ChannelConfig>(&json).unwrap(), c);
        }
        // A partial config takes the defaults for everything it does not name.
        let c: ChannelConfig =
            serde_json::from_str(r#"{"reverb": {"prob": 1.0}, "noise": {"kinds": ["white"]}}"#)
                .unwrap();
        assert_eq!(c.reverb.prob, 1.0);
        assert_eq!(c.reverb.rt60_secs, (0.2, 0.8));
        assert_eq!(c.noise.kinds, vec![NoiseKind::White]);
        assert_eq!(c.speed, SpeedConfig::default());
        // A misspelt field is an error, not silently ignored.
        assert!(serde_json::from_str::<ChannelConfig>(r#"{"reverb": {"rt60": [1, 2]}}"#).is_err());
    }

    #[test]
    fn validate_names_the_bad_field() {
        let field = |c: &ChannelConfig| match c.validate() {
            Err(Error::InvalidConfig { field, .. }) => field,
            other => panic!("expected InvalidConfig, got {other:?}"),
        };
        let mut c = ChannelConfig::default();
        c.speed.prob = 1.5;
        assert_eq!(field(&c), "speed.prob");
        let mut c = ChannelConfig::default();
        c.reverb.rt60_secs = (0.8, 0.2);
        assert_eq!(field(&c), "reverb.rt60_secs");
        let mut c = ChannelConfig::default();
        c.noise.snr_db = (f32::NAN, 10.0);
        assert_eq!(field(&c), "noise.snr_db");
        let mut c = ChannelConfig::default();
        c.noise.kinds.clear();
        assert_eq!(field(&c), "noise.kinds");
        c.noise.prob = 0.0;
        c.validate().unwrap();
        let mut c = ChannelConfig::default();
        c.telephone.low_hz = 4000.0;
        assert_eq!(field(&c), "telephone.low_hz/high_hz");
        let mut c = ChannelConfig::default();
        c.low_pass.order = (2, 10);
        assert_eq!(field(&c), "low_pass.order");
        let mut c = ChannelConfig::default();
        c.bit_depth.bits = (1, 8);
        assert_eq!(field(&c), "bit_depth.bits");
    }
}
