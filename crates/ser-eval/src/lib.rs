//! Precision/recall/F1 metrics and the ser-eval report for speech-emotion models.
