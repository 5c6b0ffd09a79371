//! The `ser-train` command line: arguments, the commands, and the progress display.

pub mod args;
pub mod choice;
pub mod cv_cmd;
pub mod progress;
pub mod train_cmd;

use std::process::ExitCode;

/// Dispatches to training, `cv` or `cv-combine`.
pub fn run(cli: args::Cli) -> anyhow::Result<ExitCode> {
    ser_train::install_ctrlc_handler()?;
    match cli.command {
        Some(args::Command::Cv(cv)) => cv_cmd::run(&cv),
        Some(args::Command::CvCombine(c)) => cv_cmd::combine(&c),
        None => train_cmd::run(&cli.train),
    }
}
