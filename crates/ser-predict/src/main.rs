//! ser-predict: predict the emotion of audio files with a trained model.

fn main() {}
