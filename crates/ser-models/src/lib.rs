//! CNN, RNN and CRNN speech-emotion models in burn, and the model artifact every tool loads.
