//! `ser-eval cv`: cross-validation by actor.

use std::process::ExitCode;

use anyhow::bail;

use super::args::CvArgs;

/// Runs the cross-validation command.
pub fn run(args: &CvArgs) -> anyhow::Result<ExitCode> {
    bail!(
        "`ser-eval cv --model-type {}` needs ser-train's library API (`ser_train::train`), which \
         this build does not have yet",
        args.model_type
    )
}
