//! TEMPORARY: stand-ins for `ravdess_loader::read_wav_bytes` and `ravdess_loader::resample`
//! until that crate ships them; removed as soon as it does.

use ravdess_loader::Audio;

/// Error of the stand-ins.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct CompatError(String);

/// Not yet available: resampling is done by ravdess-loader.
pub fn resample(audio: &Audio, rate: u32) -> Result<Audio, CompatError> {
    Err(CompatError(format!(
        "resampling {} -> {rate} Hz is not available until ravdess_loader::resample lands",
        audio.sample_rate
    )))
}
