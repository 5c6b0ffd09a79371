//! `ser_audio::resample` on any rates and samples (NaN, infinities, huge values included):
//! an error or audio of the promised length, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ser_audio::{Audio, resample};

fuzz_target!(|data: &[u8]| {
    if data.len() < 8 {
        return;
    }
    let from = u32::from_le_bytes([data[0], data[1], data[2], data[3]]);
    let to = u32::from_le_bytes([data[4], data[5], data[6], data[7]]);
    let samples: Vec<f32> = data[8..]
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    let len = samples.len();
    if let Ok(out) = resample(&Audio::new(samples, from), to) {
        let want = (len as f64 * f64::from(to) / f64::from(from)).ceil() as usize;
        assert!(out.samples.len().abs_diff(want) <= 1);
        assert!(out.samples.iter().all(|x| x.is_finite()));
    }
});
