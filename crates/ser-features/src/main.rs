//! ser-features: extract librosa-compatible STFT, log-mel and MFCC features to .npy or .csv.

fn main() {}
