//! ser-features: extract librosa-compatible STFT, log-mel and MFCC features to .npy or .csv.
//!
//! A thin binary over [`dsp_features`]: arguments in `cli`, file handling in `run`, writers in
//! `output`. See `ser-features --help` and the crate README.

use std::process::ExitCode;

use clap::Parser;

mod cli;
mod output;
mod run;

fn main() -> ExitCode {
    let args = cli::Args::parse();
    match run::run(&args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
