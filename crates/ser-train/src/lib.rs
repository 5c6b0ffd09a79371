//! Speaker-independent training of speech-emotion models (the ser-train CLI).
