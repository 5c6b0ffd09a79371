//! `ser-train`: train a speech-emotion model with speaker-independent validation, or
//! cross-validate a recipe by actor (`ser-train cv`). Thin glue over the `ser_train` library;
//! see `ser-train --help`.

use std::process::ExitCode;

use clap::Parser;

mod cli;

fn main() -> ExitCode {
    match cli::run(cli::args::Cli::parse()) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
