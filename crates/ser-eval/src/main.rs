//! `ser-eval`: evaluate a speech-emotion model speaker-independently.
//! Thin glue over the `ser_eval` library; see `ser-eval --help`.

use std::process::ExitCode;

use clap::Parser;

mod cli;

fn main() -> ExitCode {
    let args = cli::args::Cli::parse();
    match cli::run(args) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
