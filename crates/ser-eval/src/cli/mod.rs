//! The `ser-eval` command line: argument parsing and the two commands.

pub mod args;
pub mod cv_cmd;
pub mod eval_cmd;
pub mod progress;

use std::process::ExitCode;

/// Dispatches to the evaluation, `cv` or `cv-combine` command.
pub fn run(cli: args::Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Some(args::Command::Cv(cv)) => cv_cmd::run(&cv),
        Some(args::Command::CvCombine(c)) => cv_cmd::combine(&c),
        None => eval_cmd::run(&cli.eval),
    }
}
