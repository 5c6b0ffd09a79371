//! Bounded property test (issue 25): mutated WAV, FLAC, MP3 and OGG bytes never panic the
//! decoders or the resampler, and whatever decodes stays within the limits.
//!
//! Deterministic: iteration `i` draws its mutations from `SplitMix64::derive(SEED, i)`. The
//! default [`DEFAULT_ITERS`] runs in seconds in `cargo test --release`; `SER_FUZZ_ITERS=N`
//! runs longer (docs/fuzzing.md records a long run). A failure prints the iteration, so
//! `SER_FUZZ_FROM=i SER_FUZZ_ITERS=1` replays it alone.

#![allow(clippy::unwrap_used)] // tests: a panic is a failed test

use std::collections::BTreeMap;

use ser_audio::rng::SplitMix64;
use ser_audio::{
    Audio, DecodeLimits, MAX_CHANNELS, MAX_SAMPLE_MAGNITUDE, decode, encode_wav_16,
    probe_wav_bytes, read_wav_bytes, resample,
};

/// Iterations without `SER_FUZZ_ITERS` (about 5 ms each in release on a 2-core VM).
const DEFAULT_ITERS: u64 = 800;
const SEED: u64 = 0x5E4_A0D10;

/// The limits every mutated input is decoded under: 30 s, and at most 2^22 samples.
const LIMITS: DecodeLimits = DecodeLimits {
    max_secs: Some(30.0),
    max_samples: 1 << 22,
};

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn wav(channels: u16, rate: u32, bits: u16, float: bool, frames: usize) -> Vec<u8> {
    let spec = hound::WavSpec {
        channels,
        sample_rate: rate,
        bits_per_sample: bits,
        sample_format: if float {
            hound::SampleFormat::Float
        } else {
            hound::SampleFormat::Int
        },
    };
    let mut cursor = std::io::Cursor::new(Vec::new());
    let mut w = hound::WavWriter::new(&mut cursor, spec).unwrap();
    let full = ((1i64 << (bits - 1)) - 1) as f64;
    for i in 0..frames * usize::from(channels) {
        let x = 0.5 * (i as f64 * 0.031).sin();
        match (float, bits) {
            (true, _) => w.write_sample(x as f32).unwrap(),
            (false, 8) => w.write_sample((x * full) as i8).unwrap(),
            (false, 16) => w.write_sample((x * full) as i16).unwrap(),
            (false, _) => w.write_sample((x * full) as i32).unwrap(),
        }
    }
    w.finalize().unwrap();
    cursor.into_inner()
}

/// Valid inputs of every container and WAV flavour, to mutate.
fn seeds() -> Vec<Vec<u8>> {
    let mut streamed = encode_wav_16(&Audio::new(vec![0.25; 4_000], 16_000)).unwrap();
    streamed[4..8].fill(0xFF);
    streamed[40..44].fill(0xFF);
    vec![
        fixture("speech_22k_mono.flac"),
        fixture("speech_22k_mono.mp3"),
        fixture("speech_22k_stereo.ogg"),
        wav(1, 16_000, 16, false, 8_000),
        wav(2, 48_000, 32, true, 12_000),
        wav(2, 44_100, 24, false, 4_410),
        wav(1, 8_000, 8, false, 4_000),
        wav(4, 22_050, 32, false, 2_205), // WAVE_FORMAT_EXTENSIBLE
        streamed,
    ]
}

/// Values that break naive parsers: zero, one, all ones, sign bits, sentinels, just outside
/// the accepted rates.
const EXTREMES: [u32; 12] = [
    0,
    1,
    2,
    255,
    0xFFFF,
    0x7FFF_FFFF,
    0x8000_0000,
    0x7FFF_F000,
    u32::MAX,
    7_999,
    192_001,
    4_000_000_000,
];

/// Offsets of header fields worth overwriting, by container (all little-endian except
/// FLAC/MP3, where the bytes are written as they come).
fn header_offsets(b: &[u8]) -> Vec<usize> {
    if b.starts_with(b"RIFF") {
        // RIFF size, format tag, channels, rate, byte rate, block align, bits, data size
        // (canonical 44-byte layout; hound writes extensible fmt chunks longer).
        vec![4, 20, 22, 24, 28, 32, 34, 40, 56, 64]
    } else if b.starts_with(b"fLaC") {
        // STREAMINFO (FLAC format, METADATA_BLOCK_STREAMINFO): block sizes, frame sizes,
        // rate/channels/bits, total samples.
        vec![8, 10, 12, 15, 18, 20, 21, 22, 26]
    } else if b.starts_with(b"OggS") {
        // Page header fields and the Vorbis identification header's channels and rate.
        let v = b.windows(7).position(|w| w == b"\x01vorbis").unwrap_or(28);
        vec![5, 6, 14, 18, 22, 26, v + 11, v + 12, v + 16, v + 20, v + 28]
    } else {
        // MPEG frame header bytes and the Xing tag that follows.
        vec![1, 2, 3, 13, 17, 21, 25]
    }
}

/// The page CRC of the first Ogg page (RFC 3533 section 6), so that header overwrites reach
/// the decoder instead of being dropped as a bad page.
fn fix_first_ogg_crc(b: &mut [u8]) {
    if b.len() < 27 || !b.starts_with(b"OggS") {
        return;
    }
    let nseg = usize::from(b[26]);
    if b.len() < 27 + nseg {
        return;
    }
    let len = 27
        + nseg
        + b[27..27 + nseg]
            .iter()
            .map(|&x| usize::from(x))
            .sum::<usize>();
    if len > b.len() {
        return;
    }
    b[22..26].fill(0);
    let mut crc = 0u32;
    for &byte in &b[..len] {
        crc ^= u32::from(byte) << 24;
        for _ in 0..8 {
            crc = if crc & 0x8000_0000 != 0 {
                (crc << 1) ^ 0x04C1_1DB7
            } else {
                crc << 1
            };
        }
    }
    b[22..26].copy_from_slice(&crc.to_le_bytes());
}

/// One to four random mutations of `b`.
fn mutate(b: &mut Vec<u8>, rng: &mut SplitMix64, seeds: &[Vec<u8>]) {
    for _ in 0..1 + rng.below(4) {
        let n = b.len().max(1);
        match rng.below(9) {
            0 => {
                for _ in 0..1 + rng.below(8) {
                    let i = rng.below(n);
                    if let Some(x) = b.get_mut(i) {
                        *x ^= 1 << rng.below(8);
                    }
                }
            }
            1 => {
                let i = rng.below(n);
                if let Some(x) = b.get_mut(i) {
                    *x = rng.next_u64() as u8;
                }
            }
            2 => b.truncate(rng.below(n)),
            3 | 4 => {
                let offsets = header_offsets(b);
                let at = if rng.below(4) == 0 {
                    rng.below(n)
                } else {
                    offsets[rng.below(offsets.len())]
                };
                let v = EXTREMES[rng.below(EXTREMES.len())].to_le_bytes();
                let width = [1, 2, 4][rng.below(3)];
                for (k, &byte) in v.iter().take(width).enumerate() {
                    if let Some(x) = b.get_mut(at + k) {
                        *x = byte;
                    }
                }
                if rng.below(2) == 0 {
                    fix_first_ogg_crc(b);
                }
            }
            5 => {
                let i = rng.below(n + 1).min(b.len());
                let junk: Vec<u8> = (0..1 + rng.below(64))
                    .map(|_| rng.next_u64() as u8)
                    .collect();
                b.splice(i..i, junk);
            }
            6 => {
                let i = rng.below(n).min(b.len());
                let j = (i + 1 + rng.below(512)).min(b.len());
                b.drain(i..j);
            }
            7 => {
                // Repeat a range: streams that go on longer than their headers say.
                let i = rng.below(n).min(b.len());
                let j = (i + 1 + rng.below(4096)).min(b.len());
                let copy = b[i..j].to_vec();
                for _ in 0..1 + rng.below(8) {
                    b.extend_from_slice(&copy);
                }
            }
            _ => {
                // Splice the tail of another seed.
                let other = &seeds[rng.below(seeds.len())];
                let i = rng.below(n).min(b.len());
                let j = rng.below(other.len());
                b.truncate(i);
                b.extend_from_slice(&other[j..]);
            }
        }
    }
}

/// Everything a successful decode promises.
fn check_decoded(audio: &Audio, channels: usize, limits: &DecodeLimits, what: &str) {
    let rate = audio.sample_rate;
    assert!((8_000..=192_000).contains(&rate), "{what}: rate {rate}");
    assert!(
        (1..=MAX_CHANNELS).contains(&channels),
        "{what}: {channels} ch"
    );
    let n = audio.samples.len() as u64;
    assert!(n > 0, "{what}: empty audio is an error");
    assert!(
        n * channels as u64 <= limits.sample_cap(channels),
        "{what}: {n} frames"
    );
    if let Some(max) = limits.max_secs {
        assert!(
            audio.duration_secs() <= max,
            "{what}: {} s",
            audio.duration_secs()
        );
    }
    if let Some(i) = audio
        .samples
        .iter()
        .position(|x| x.is_nan() || x.abs() > MAX_SAMPLE_MAGNITUDE)
    {
        panic!("{what}: sample {i} is {}", audio.samples[i]);
    }
    // Valid audio always resamples, to ceil(n x to / from) samples (rubato computes it from
    // the rounded ratio, so an exact multiple can come out one longer).
    let out = resample(audio, 16_000).unwrap_or_else(|e| panic!("{what}: {e}"));
    let want = (n as f64 * 16_000.0 / f64::from(rate)).ceil() as usize;
    assert!(out.samples.len().abs_diff(want) <= 1, "{what}");
}

/// The resampler on arbitrary audio: rates from [`EXTREMES`] and valid ones, samples with
/// NaN, infinities and huge values. Errors are fine; panics and overlong output are not.
fn check_resampler(rng: &mut SplitMix64) {
    let rates = [
        8_000, 11_025, 16_000, 22_050, 44_100, 48_000, 96_000, 191_999, 192_000,
    ];
    let pick = |rng: &mut SplitMix64| {
        if rng.below(4) == 0 {
            EXTREMES[rng.below(EXTREMES.len())]
        } else {
            rates[rng.below(rates.len())]
        }
    };
    let (from, to) = (pick(rng), pick(rng));
    let len = rng.below(20_000);
    let mut samples: Vec<f32> = (0..len).map(|_| rng.uniform(-1.0, 1.0) as f32).collect();
    if len > 0 && rng.below(2) == 0 {
        let bad = [f32::NAN, f32::INFINITY, f32::MAX, -3.4e38, 1e36, 129.0];
        samples[rng.below(len)] = bad[rng.below(bad.len())];
    }
    let audio = Audio::new(samples, from);
    if let Ok(out) = resample(&audio, to) {
        let want = (len as f64 * f64::from(to) / f64::from(from)).ceil() as usize;
        assert!(
            out.samples.len().abs_diff(want) <= 1,
            "{from} -> {to}, {len} samples: {}",
            out.samples.len()
        );
        assert!(out.samples.iter().all(|x| x.is_finite()), "{from} -> {to}");
    }
}

#[test]
fn mutated_audio_never_panics_and_stays_within_the_limits() {
    let iters = env_u64("SER_FUZZ_ITERS", DEFAULT_ITERS);
    let from = env_u64("SER_FUZZ_FROM", 0);
    let seeds = seeds();
    let started = std::time::Instant::now();
    let mut outcomes: BTreeMap<&'static str, u64> = BTreeMap::new();
    for i in from..from + iters {
        let mut rng = SplitMix64::derive(SEED, i);
        let mut bytes = seeds[rng.below(seeds.len())].clone();
        mutate(&mut bytes, &mut rng, &seeds);
        let what = format!("iteration {i} ({} bytes)", bytes.len());
        match decode(&bytes, &LIMITS) {
            Ok(d) => {
                check_decoded(&d.audio, d.channels, &LIMITS, &what);
                assert!(d.damaged_packets <= d.packets, "{what}");
                *outcomes.entry("ok").or_default() += 1;
            }
            Err(e) => {
                let msg = e.to_string();
                assert!(!msg.is_empty() && !msg.contains("<bytes>"), "{what}: {msg}");
                *outcomes.entry(e.code()).or_default() += 1;
            }
        }
        if bytes.starts_with(b"RIFF") {
            if let Ok((audio, info)) = ser_audio::read_wav_bytes_with_info(&bytes) {
                check_decoded(
                    &audio,
                    usize::from(info.channels),
                    &DecodeLimits::default(),
                    &what,
                );
            }
            let _ = probe_wav_bytes(&bytes);
            let _ = read_wav_bytes(&bytes);
        }
        check_resampler(&mut rng);
        if iters >= 100_000 && (i - from).is_multiple_of(100_000) {
            eprintln!(
                "{i}: {:.0} s, {outcomes:?}",
                started.elapsed().as_secs_f64()
            );
        }
    }
    eprintln!(
        "{iters} iterations in {:.1} s: {outcomes:?}",
        started.elapsed().as_secs_f64()
    );
    // The mutations must reach the decoders, not just the sniffer.
    assert!(
        outcomes.get("ok").copied().unwrap_or(0) > iters / 10,
        "{outcomes:?}"
    );
    assert!(
        outcomes.get("corrupt_audio").copied().unwrap_or(0) > 0,
        "{outcomes:?}"
    );
}
