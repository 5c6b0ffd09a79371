//! Resampling parity with soxr's very-high-quality resampler (the reference used to make
//! the 16 kHz RAVDESS copy). Fixtures: `tests/fixtures/make_resample_fixtures.py`.

#![allow(clippy::unwrap_used)] // tests: a panic is a failed test

use ser_audio::{Audio, resample};

/// Minimum signal-to-error ratio against soxr VHQ, in dB.
const MIN_SNR_DB: f64 = 60.0;
/// Samples ignored at each edge (filter start-up differs between implementations).
const EDGE: usize = 400;

fn read_f32(name: &str) -> Vec<f32> {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path)
        .unwrap()
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

#[test]
fn matches_soxr_vhq_48k_to_16k() {
    let input = Audio::new(read_f32("resample_in_48k.f32"), 48_000);
    let reference = read_f32("resample_out_16k.f32");
    let ours = resample(&input, 16_000).unwrap();
    assert_eq!(ours.samples.len(), reference.len());
    let range = EDGE..reference.len() - EDGE;
    let sig: f64 = range.clone().map(|i| f64::from(reference[i]).powi(2)).sum();
    let err: f64 = range
        .map(|i| f64::from(ours.samples[i] - reference[i]).powi(2))
        .sum();
    let snr = 10.0 * (sig / err).log10();
    eprintln!("SNR vs soxr VHQ: {snr:.1} dB");
    assert!(snr >= MIN_SNR_DB, "SNR {snr:.1} dB < {MIN_SNR_DB} dB");
}
