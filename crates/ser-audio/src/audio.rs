//! The in-memory audio type every layer of the workspace passes around.

/// Mono audio as `f32` samples in `[-1.0, 1.0]` at a known sample rate.
///
/// Every reader in this crate downmixes to mono and converts to `f32`, so later layers
/// (features, models, the web server) only ever see this one shape.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Audio {
    /// Mono samples, nominally in `[-1.0, 1.0]`.
    pub samples: Vec<f32>,
    /// Samples per second (Hz).
    pub sample_rate: u32,
}

impl Audio {
    /// Wraps mono samples at `sample_rate` Hz.
    pub fn new(samples: Vec<f32>, sample_rate: u32) -> Self {
        Self {
            samples,
            sample_rate,
        }
    }

    /// Adds white Gaussian noise `snr_db` dB below the RMS of the whole clip (silences
    /// included), drawn from `rng`: what a noisy recording looks like before any
    /// preprocessing. Shared by ser-train's waveform-noise augmentation and ser-eval's
    /// `--noise-snr` so that training and evaluation mean the same thing by "20 dB SNR".
    /// A silent clip stays silent (its RMS is 0).
    pub fn add_white_noise(&mut self, snr_db: f64, rng: &mut crate::rng::SplitMix64) {
        let n = self.samples.len().max(1) as f64;
        let rms = (self
            .samples
            .iter()
            .map(|&x| f64::from(x).powi(2))
            .sum::<f64>()
            / n)
            .sqrt();
        let sigma = rms / 10f64.powf(snr_db / 20.0);
        for x in &mut self.samples {
            *x += (sigma * rng.normal()) as f32;
        }
    }

    /// Duration in seconds (0 for an empty clip or a zero rate).
    pub fn duration_secs(&self) -> f64 {
        if self.sample_rate == 0 {
            0.0
        } else {
            self.samples.len() as f64 / f64::from(self.sample_rate)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::SplitMix64;

    #[test]
    fn white_noise_lands_at_the_requested_snr() {
        // A 440 Hz tone of amplitude 0.5 (RMS 0.354) for 2 s at 16 kHz.
        let clean: Vec<f32> = (0..32_000)
            .map(|i| 0.5 * (2.0 * std::f32::consts::PI * 440.0 * i as f32 / 16_000.0).sin())
            .collect();
        let power =
            |x: &[f32]| x.iter().map(|&v| f64::from(v).powi(2)).sum::<f64>() / x.len() as f64;
        for snr in [0.0, 10.0, 20.0] {
            let mut a = Audio::new(clean.clone(), 16_000);
            a.add_white_noise(snr, &mut SplitMix64::new(1));
            let noise: Vec<f32> = a.samples.iter().zip(&clean).map(|(n, c)| n - c).collect();
            let measured = 10.0 * (power(&clean) / power(&noise)).log10();
            // 32k Gaussian samples: the noise power is within ~2% (0.1 dB) of its target.
            assert!(
                (measured - snr).abs() < 0.2,
                "asked {snr} dB, got {measured:.2}"
            );
        }
        let mut silent = Audio::new(vec![0.0; 100], 16_000);
        silent.add_white_noise(20.0, &mut SplitMix64::new(1));
        assert!(silent.samples.iter().all(|&x| x == 0.0));
    }
}
