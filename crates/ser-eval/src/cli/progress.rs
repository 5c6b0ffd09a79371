//! Progress bars (indicatif) on standard error.

use indicatif::{ProgressBar, ProgressStyle};

/// A progress bar counting `unit` (hidden automatically when stderr is not a terminal).
pub fn bar(message: &str, unit: &str) -> ProgressBar {
    let pb = ProgressBar::new(0);
    let template =
        format!("{{msg}} [{{bar:40}}] {{pos}}/{{len}} {unit} ({{elapsed}}, eta {{eta}})");
    if let Ok(style) = ProgressStyle::with_template(&template) {
        pb.set_style(style.progress_chars("=> "));
    }
    pb.set_message(message.to_string());
    pb
}
