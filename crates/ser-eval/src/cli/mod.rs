//! The `ser-eval` command line: argument parsing, the evaluation command, and the notice
//! for the cross-validation commands that moved to `ser-train`.

pub mod args;
pub mod eval_cmd;
pub mod progress;

use std::process::ExitCode;

use anyhow::bail;

/// Dispatches to the evaluation command, or names the new home of a moved one.
pub fn run(cli: args::Cli) -> anyhow::Result<ExitCode> {
    let (name, moved) = match cli.command {
        Some(args::Command::Cv(m)) => ("cv", m),
        Some(args::Command::CvCombine(m)) => ("cv-combine", m),
        None => return eval_cmd::run(&cli.eval),
    };
    bail!(
        "`ser-eval {name}` has moved to ser-train, since it trains models: run\n  ser-train \
         {name} {}\n(the same flags; from the workspace, `cargo run --release -p ser-train -- \
         {name} ...`). ser-eval scores and reports the folds as before.",
        moved.args.join(" ")
    )
}
