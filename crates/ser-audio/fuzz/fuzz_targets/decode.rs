//! Any bytes through `ser_audio::decode` (sniffing, the WAV reader, symphonia's FLAC, MP3 and
//! Ogg/Vorbis decoders) and the WAV-only readers, under a 30 s / 2^22-sample limit; what
//! decodes must be within the limits and must resample.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ser_audio::{DecodeLimits, MAX_CHANNELS, MAX_SAMPLE_MAGNITUDE, decode, resample};

const LIMITS: DecodeLimits = DecodeLimits {
    max_secs: Some(30.0),
    max_samples: 1 << 22,
};

fuzz_target!(|data: &[u8]| {
    match decode(data, &LIMITS) {
        Ok(d) => {
            let a = &d.audio;
            assert!((8_000..=192_000).contains(&a.sample_rate));
            assert!((1..=MAX_CHANNELS).contains(&d.channels));
            assert!(!a.samples.is_empty() && a.duration_secs() <= 30.0);
            let n = a.samples.len() as u64 * d.channels as u64;
            assert!(n <= LIMITS.sample_cap(d.channels));
            assert!(a.samples.iter().all(|x| x.abs() <= MAX_SAMPLE_MAGNITUDE));
            assert!(d.damaged_packets <= d.packets);
            let out = resample(a, 16_000).expect("valid audio resamples");
            assert!(out.samples.iter().all(|x| x.is_finite()));
        }
        Err(e) => assert!(!e.code().is_empty() && !e.to_string().contains("<bytes>")),
    }
    if data.starts_with(b"RIFF") {
        let _ = ser_audio::probe_wav_bytes(data);
        if let Ok(a) = ser_audio::read_wav_bytes(data) {
            assert!(a.samples.iter().all(|x| x.abs() <= MAX_SAMPLE_MAGNITUDE));
        }
    }
});
