//! Transmission and storage degradations: G.711 mu-law companding at 8 kHz, bit-depth
//! reduction, and packet-loss dropouts.
//!
//! **mu-law** (ITU-T Recommendation G.711, "Pulse code modulation (PCM) of voice
//! frequencies", 1988, Table 2a): the telephone network's 8-bit codec at 8 kHz. It
//! approximates the continuous companding law `F(x) = sgn(x) ln(1 + mu |x|) / ln(1 + mu)`,
//! `mu = 255`, by 8 segments of 16 uniform steps each, the step doubling from one segment to
//! the next, on 14-bit linear samples. [`mulaw_encode`] / [`mulaw_decode`] implement that table
//! bit-exactly in the classic formulation of Sun Microsystems' public-domain `g711.c` (bias
//! 0x84 = 132, clip at 8159 in 14-bit units, codes stored inverted), decoding to the middle of
//! each step. Round trip error: at most half a step, `2^(s+2)` 16-bit units in segment `s`,
//! i.e. about `|x| / 32 + 4/32768` (see the tests); the largest decoded magnitude is
//! 32124/32768.
//!
//! **Bit depth**: uniform mid-tread quantisation to `b` bits, error at most half a step
//! `2^-b`; no dither, as a cheap recorder or a badly configured converter would do.
//!
//! **Dropouts**: the clip is cut into packets of 20 ms (RFC 3551, section 4.2: the default
//! packetisation interval of RTP audio) and each is lost independently with a given
//! probability and replaced by silence, as a receiver without packet-loss concealment plays
//! it. Losses in real networks come in bursts (a Gilbert-Elliott model would draw them so);
//! independent losses are the simpler first approximation.

use crate::Audio;
use crate::error::Result;
use crate::resample::resample;
use crate::rng::SplitMix64;

/// Sample rate of the telephone network (G.711), Hz.
pub const TELEPHONE_RATE: u32 = 8_000;

/// The G.711 bias, in 16-bit units (`g711.c`: `BIAS = 0x84`).
const BIAS: i32 = 0x84;

/// The largest 14-bit magnitude coded (`g711.c`: `CLIP = 8159`).
const CLIP: i32 = 8159;

/// The last biased 14-bit magnitude of each segment (`g711.c`: `seg_uend`).
const SEG_END: [i32; 8] = [0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF];

/// Encodes a 16-bit linear sample as a G.711 mu-law byte.
pub fn mulaw_encode(pcm: i16) -> u8 {
    // G.711 mu-law works on 14 bits: drop the two lowest (arithmetic shift, as g711.c).
    let mut v = i32::from(pcm) >> 2;
    let mask = if v < 0 {
        v = -v;
        0x7F
    } else {
        0xFF
    };
    v = v.min(CLIP) + (BIAS >> 2);
    let code = match SEG_END.iter().position(|&end| v <= end) {
        Some(seg) => ((seg as i32) << 4) | ((v >> (seg + 1)) & 0x0F),
        None => 0x7F,
    };
    (code ^ mask) as u8
}

/// Decodes a G.711 mu-law byte to a 16-bit linear sample (the middle of its step).
pub fn mulaw_decode(code: u8) -> i16 {
    let u = i32::from(!code);
    let t = (((u & 0x0F) << 3) + BIAS) << ((u & 0x70) >> 4);
    // |t - BIAS| <= 32124: always an i16.
    (if u & 0x80 != 0 { BIAS - t } else { t - BIAS }) as i16
}

/// A float sample in [-1, 1] as 16-bit PCM (`x 32768`, rounded, saturated).
fn to_pcm16(x: f32) -> i16 {
    (f64::from(x) * 32768.0).round().clamp(-32768.0, 32767.0) as i16
}

/// Every sample through the mu-law encoder and decoder, at whatever rate it is.
pub fn mulaw_round_trip(samples: &mut [f32]) {
    for v in samples {
        *v = f32::from(mulaw_decode(mulaw_encode(to_pcm16(*v)))) / 32768.0;
    }
}

/// A telephone line's codec: the clip is resampled to 8 kHz (band-limited, so everything above
/// 4 kHz is gone), mu-law coded and decoded, and resampled back to its rate with its length
/// kept. A clip already at or below 8 kHz is coded at its own rate.
pub fn telephone_codec(audio: &Audio) -> Result<Audio> {
    let mut clipped = audio.clone();
    clip(&mut clipped.samples);
    if audio.sample_rate <= TELEPHONE_RATE {
        mulaw_round_trip(&mut clipped.samples);
        return Ok(clipped);
    }
    let mut narrow = resample(&clipped, TELEPHONE_RATE)?;
    mulaw_round_trip(&mut narrow.samples);
    let mut back = resample(&narrow, audio.sample_rate)?;
    back.samples.resize(audio.samples.len(), 0.0);
    Ok(back)
}

/// Saturates to [-1, 1], as every converter and codec input does.
pub(crate) fn clip(samples: &mut [f32]) {
    samples.iter_mut().for_each(|v| *v = v.clamp(-1.0, 1.0));
}

/// Quantises to `bits` bits (2-24): `round(x 2^(b-1)) / 2^(b-1)`, saturated to the codes that
/// exist, `[-1, 1 - 2^(1-b)]`.
pub fn reduce_bit_depth(samples: &mut [f32], bits: u32) {
    let bits = bits.clamp(2, 24);
    let q = f64::from(1u32 << (bits - 1));
    let (lo, hi) = (-1.0, (q - 1.0) / q);
    for v in samples {
        *v = ((f64::from(*v) * q).round() / q).clamp(lo, hi) as f32;
    }
}

/// Silences each packet of `packet_secs` with probability `loss` (see the module docs) and
/// returns how many were lost.
pub fn drop_packets(
    samples: &mut [f32],
    sample_rate: u32,
    packet_secs: f64,
    loss: f64,
    rng: &mut SplitMix64,
) -> usize {
    let packet = ((packet_secs * f64::from(sample_rate)).round() as usize).max(1);
    let mut lost = 0;
    for chunk in samples.chunks_mut(packet) {
        if rng.next_f64() < loss {
            chunk.fill(0.0);
            lost += 1;
        }
    }
    lost
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn mulaw_reference_codes() {
        // g711.c / the G.711 table: zero is 0xFF (and 0x7F, "negative zero"), full scale
        // saturates to 0x80 / 0x00, which decode to +-32124.
        assert_eq!(mulaw_encode(0), 0xFF);
        assert_eq!(mulaw_decode(0xFF), 0);
        assert_eq!(mulaw_decode(0x7F), 0);
        assert_eq!(mulaw_encode(i16::MAX), 0x80);
        assert_eq!(mulaw_encode(i16::MIN), 0x00);
        assert_eq!(mulaw_decode(0x80), 32124);
        assert_eq!(mulaw_decode(0x00), -32124);
        // Every code decodes to a value that encodes back to it (negative zero aside), and the
        // decoded values increase with the magnitude bits.
        for code in 0..=255u8 {
            if code != 0x7F {
                assert_eq!(mulaw_encode(mulaw_decode(code)), code, "{code:#04x}");
            }
        }
        let positive: Vec<i16> = (0x80..=0xFFu8).rev().map(mulaw_decode).collect();
        assert!(positive.windows(2).all(|w| w[0] < w[1]), "{positive:?}");
    }

    #[test]
    fn mulaw_round_trip_error_is_at_most_half_a_step() {
        // Half a step in segment s is 2^(s+2) 16-bit units. A sample lands in segment s when
        // its 14-bit magnitude m (at most (|x| + 3) / 4, the shift rounding negatives down)
        // has m + 33 >= 2^(s+5), so half a step is at most (|x| + 3 + 132) / 32; the 14-bit
        // truncation adds up to 3 units more, integer division 1.
        for x in -32124i32..=32124 {
            let y = i32::from(mulaw_decode(mulaw_encode(x as i16)));
            let bound = (x.abs() + 3 + BIAS) / 32 + 4;
            assert!((x - y).abs() <= bound, "{x} -> {y}");
        }
        // And the classic figure: 8-bit mu-law keeps a signal-to-quantisation noise ratio of
        // about 38 dB on a tone 10 dB under full scale (about what uniform 7-bit coding gives
        // at full scale, but nearly independent of the level).
        let x: Vec<f32> = (0..8000).map(|i| 0.316 * (i as f32 * 0.1).sin()).collect();
        let mut y = x.clone();
        mulaw_round_trip(&mut y);
        let noise: f32 = x.iter().zip(&y).map(|(a, b)| (a - b).powi(2)).sum();
        let signal: f32 = x.iter().map(|a| a * a).sum();
        let snr = 10.0 * (signal / noise).log10();
        assert!((35.0..42.0).contains(&snr), "{snr}");
    }

    #[test]
    fn telephone_codec_keeps_length_and_band() {
        let rate = 16_000;
        let sine = |f: f32| -> Vec<f32> {
            (0..16_000)
                .map(|i| 0.5 * (std::f32::consts::TAU * f * i as f32 / rate as f32).sin())
                .collect()
        };
        let rms = |x: &[f32]| (x[2000..14000].iter().map(|v| v * v).sum::<f32>() / 12000.0).sqrt();
        let kept = telephone_codec(&Audio::new(sine(1000.0), rate)).unwrap();
        assert_eq!(kept.samples.len(), 16_000);
        assert!((rms(&kept.samples) / rms(&sine(1000.0)) - 1.0).abs() < 0.05);
        // 6 kHz is above the 4 kHz Nyquist frequency of the 8 kHz line: gone.
        let gone = telephone_codec(&Audio::new(sine(6000.0), rate)).unwrap();
        assert!(rms(&gone.samples) < 0.01 * rms(&sine(6000.0)));
        for n in [0, 1, 3] {
            let a = telephone_codec(&Audio::new(vec![0.2; n], rate)).unwrap();
            assert_eq!(a.samples.len(), n);
        }
    }

    #[test]
    fn bit_depth_error_is_half_a_step_and_dropouts_silence_whole_packets() {
        let x: Vec<f32> = (0..1000).map(|i| (i as f32 / 500.0) - 1.0).collect();
        for bits in [4, 8, 12] {
            let mut y = x.clone();
            reduce_bit_depth(&mut y, bits);
            let step = 2f32.powi(1 - bits as i32);
            for (a, b) in x.iter().zip(&y) {
                assert!(
                    (a - b).abs() <= step / 2.0 + 1e-6 || *a > 1.0 - step,
                    "{a} {b}"
                );
            }
        }
        let mut s = vec![1.0f32; 16_000];
        let lost = drop_packets(&mut s, 16_000, 0.020, 0.3, &mut SplitMix64::new(1));
        assert!(lost > 0 && lost < 50);
        let zeros = s.iter().filter(|&&v| v == 0.0).count();
        assert_eq!(zeros, lost * 320);
    }
}
