//! The `ser-train` command line: arguments, the commands, and the progress display.

pub mod args;
pub mod choice;
pub mod cv_cmd;
pub mod data_args;
pub mod init_args;
pub mod progress;
pub mod recipe_args;
pub mod train_cmd;

use std::process::ExitCode;

/// Dispatches to training, `cv`, `cv-combine` or `cv-attach`.
pub fn run(cli: args::Cli) -> anyhow::Result<ExitCode> {
    // Ctrl-C: the training loop checkpoints after its current batch and returns. A second
    // Ctrl-C is not special: the checkpoint is already being written.
    ctrlc::set_handler(|| {
        eprintln!("\ninterrupted: saving a checkpoint after this batch (resume with --resume)");
        ser_train::request_stop();
    })?;
    match cli.command {
        Some(args::Command::Cv(cv)) => cv_cmd::run(&cv),
        Some(args::Command::CvCombine(c)) => cv_cmd::combine(&c),
        Some(args::Command::CvAttach(a)) => cv_cmd::attach(&a),
        None => train_cmd::run(&cli.train),
    }
}
