//! Progress bars (indicatif, on standard error; hidden when it is not a terminal) and log
//! lines for the events the library reports.

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use ser_train::{Kept, Stage, TrainEvent};

/// The display of one command: a bar for a clip-counting step, an epoch bar and a batch bar,
/// and one line per epoch.
pub struct TrainBars {
    /// `--quiet`: no bars; epoch lines go to standard output instead.
    quiet: bool,
    multi: MultiProgress,
    clips: Option<(Stage, ProgressBar)>,
    epochs: Option<(ProgressBar, ProgressBar)>,
}

impl TrainBars {
    /// Bars on standard error, or (`quiet`) none at all.
    pub fn new(quiet: bool) -> Self {
        let multi = MultiProgress::new();
        if quiet {
            multi.set_draw_target(ProgressDrawTarget::hidden());
        }
        Self {
            quiet,
            multi,
            clips: None,
            epochs: None,
        }
    }

    /// Shows one training event.
    pub fn show(&mut self, e: TrainEvent) {
        match e {
            TrainEvent::Progress { stage, done, total } => self.clips(stage, done, total),
            TrainEvent::Warning(w) => self.suspend(|| eprintln!("warning: {w}")),
            TrainEvent::Note(n) => self.suspend(|| eprintln!("note: {n}")),
            TrainEvent::EpochStart {
                epoch,
                epochs,
                batches,
                done,
            } => {
                let (epoch_bar, batch_bar) = self.epoch_bars(epochs, batches);
                epoch_bar.set_position((epoch - 1) as u64);
                batch_bar.reset();
                batch_bar.set_position(done as u64);
            }
            TrainEvent::Batch {
                done,
                loss,
                accuracy,
                lr,
                ..
            } => {
                if let Some((_, batch_bar)) = &self.epochs {
                    batch_bar.set_position(done as u64);
                    batch_bar.set_message(format!("loss {loss:.3} acc {accuracy:.3} lr {lr:.1e}"));
                }
            }
            TrainEvent::EpochEnd { row, best, kept } => {
                let val = match (row.val_loss, row.val_ua, row.val_wa) {
                    (Some(l), Some(ua), Some(wa)) => {
                        format!("val loss {l:.3} UA {ua:.3} WA {wa:.3}")
                    }
                    _ => "no validation actors".to_string(),
                };
                let line = format!(
                    "epoch {:>3}: train loss {:.3} acc {:.3} | {val} | {:.1}s{}",
                    row.epoch,
                    row.train_loss,
                    row.train_acc,
                    row.seconds,
                    if best { " *best" } else { "" }
                );
                if self.quiet {
                    println!("{line}");
                } else {
                    self.multi.println(line).ok();
                }
                if let Some((epoch_bar, _)) = &self.epochs {
                    epoch_bar.set_position(row.epoch as u64);
                    epoch_bar.set_message(match kept {
                        Kept::Best { ua, epoch } => format!("best val UA {ua:.3} (epoch {epoch})"),
                        Kept::Last => "no validation actors: last epoch kept".to_string(),
                    });
                }
            }
            // The run is over: the next one (a fold) gets fresh bars.
            TrainEvent::Interrupted { .. } | TrainEvent::Saved { .. } => {
                self.epochs = None;
                self.multi.clear().ok();
            }
            _ => {}
        }
    }

    /// The epoch and batch bars, made at a run's first epoch.
    fn epoch_bars(&mut self, epochs: usize, batches: usize) -> &(ProgressBar, ProgressBar) {
        let multi = &self.multi;
        self.epochs.get_or_insert_with(|| {
            let epoch_bar = multi.add(ProgressBar::new(epochs as u64));
            epoch_bar.set_style(style(
                "epoch {pos}/{len} {bar:20} {msg} [{elapsed} / ETA {eta}]",
            ));
            let batch_bar = multi.add(ProgressBar::new(batches as u64));
            batch_bar.set_style(style(
                "  batch {pos}/{len} {bar:30} {msg} ({per_sec}, ETA {eta})",
            ));
            (epoch_bar, batch_bar)
        })
    }

    /// `done` of `total` clips of `stage` (a new bar when the step changes; cleared when the
    /// step is done).
    fn clips(&mut self, stage: Stage, done: usize, total: usize) {
        if self.clips.as_ref().is_none_or(|(s, _)| *s != stage) {
            self.finish_clips();
            let bar = self.multi.add(ProgressBar::new(total as u64));
            bar.set_style(style(&format!(
                "{} {{bar:30}} {{pos}}/{{len}} clips {{elapsed}} (ETA {{eta}})",
                stage.name()
            )));
            self.clips = Some((stage, bar));
        }
        if let Some((_, bar)) = &self.clips {
            bar.set_length(total as u64);
            bar.set_position(done as u64);
        }
        if done >= total {
            self.finish_clips();
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
fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar())
}
