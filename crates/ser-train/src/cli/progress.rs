//! Progress bars (indicatif, on standard error; hidden when it is not a terminal or with
//! `--quiet`) for the events the library reports.

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// The bars of one command.
pub struct Bars {
    multi: MultiProgress,
    /// The bar of the clip-counting step in progress, with its name.
    clips: Option<(String, ProgressBar)>,
}

impl Bars {
    /// Bars drawn on standard error, or none at all when `show` is false.
    pub fn new(show: bool) -> Self {
        let multi = MultiProgress::new();
        if !show {
            multi.set_draw_target(ProgressDrawTarget::hidden());
        }
        Self { multi, clips: None }
    }

    /// `done` of `total` clips of the step `what` (a new bar when the step changes; cleared
    /// when the step is done).
    pub fn clips(&mut self, what: impl std::fmt::Debug, done: usize, total: usize) {
        let what = format!("{what:?}").to_lowercase();
        if self.clips.as_ref().is_none_or(|(w, _)| *w != what) {
            self.finish_clips();
            let bar = self.multi.add(ProgressBar::new(total as u64));
            bar.set_style(style(&format!(
                "{what} {{bar:30}} {{pos}}/{{len}} clips {{elapsed}} (ETA {{eta}})"
            )));
            self.clips = Some((what, bar));
        }
        if let Some((_, bar)) = &self.clips {
            bar.set_length(total as u64);
            bar.set_position(done as u64);
            if done >= total {
                self.finish_clips();
            }
        }
    }

    fn finish_clips(&mut self) {
        if let Some((_, bar)) = self.clips.take() {
            bar.finish_and_clear();
            self.multi.remove(&bar);
        }
    }

    /// Runs `f` (which prints) with the bars out of the way.
    pub fn suspend<R>(&self, f: impl FnOnce() -> R) -> R {
        self.multi.suspend(f)
    }
}

/// A style from `template` (the default bar if the template does not parse).
pub fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar())
}
