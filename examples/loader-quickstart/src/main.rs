//! Example: use ravdess-loader from another Rust project.

fn main() {}
