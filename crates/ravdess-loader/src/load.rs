//! [`load_audio`]: decode, resample and preprocess many utterances in parallel.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use ser_audio::{Preprocess, read_wav, resample};

use crate::Utterance;
use crate::corpus::Problem;
use crate::error::{Error, Result};

/// Options for [`load_audio`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LoadOptions {
    /// Resample everything to this rate (Hz). Default 16 000, the rate of the feature config.
    pub target_rate: u32,
    /// Preprocessing after resampling. Default `Some(Preprocess::default())` (DC removal,
    /// 40 dB silence trim, peak normalisation to 0.95); `None` keeps the raw waveform.
    pub preprocess: Option<Preprocess>,
}

impl Default for LoadOptions {
    fn default() -> Self {
        Self {
            target_rate: 16_000,
            preprocess: Some(Preprocess::default()),
        }
    }
}

/// What [`load_audio`] produced.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The utterances that loaded, in input order, with `audio` set.
    pub utterances: Vec<Utterance>,
    /// Utterances that failed (decode errors), with reasons. They are not in `utterances`.
    pub problems: Vec<Problem>,
}

/// Loads audio for every utterance in parallel (rayon): decodes the file (or takes the
/// in-memory `audio` if already set), resamples to `opts.target_rate` and applies
/// `opts.preprocess`. `progress(done, total)` is called once after each utterance, from
/// worker threads.
///
/// Errors only for invalid options; per-file failures go to [`Loaded::problems`].
pub fn load_audio<F>(utterances: Vec<Utterance>, opts: &LoadOptions, progress: F) -> Result<Loaded>
where
    F: Fn(usize, usize) + Sync,
{
    if opts.target_rate == 0 {
        return Err(Error::InvalidConfig {
            field: "target_rate",
            reason: "must be > 0 Hz".into(),
        });
    }
    if let Some(p) = &opts.preprocess {
        p.validate()?;
    }
    let total = utterances.len();
    let done = AtomicUsize::new(0);
    let results: Vec<std::result::Result<Utterance, Problem>> = utterances
        .into_par_iter()
        .map(|mut u| {
            let r = load_one(&mut u, opts);
            let n = done.fetch_add(1, Ordering::Relaxed) + 1;
            progress(n, total);
            r.map(|()| u)
        })
        .collect();
    let mut loaded = Loaded {
        utterances: Vec::with_capacity(total),
        problems: Vec::new(),
    };
    for r in results {
        match r {
            Ok(u) => loaded.utterances.push(u),
            Err(p) => loaded.problems.push(p),
        }
    }
    Ok(loaded)
}

fn load_one(u: &mut Utterance, opts: &LoadOptions) -> std::result::Result<(), Problem> {
    // The problem names the file; the reason need not name it again.
    let problem = |e: ser_audio::Error| Problem {
        path: u.path.clone().unwrap_or_else(|| PathBuf::from(&u.id)),
        reason: e.without_path().to_string(),
    };
    let audio = match (u.audio.take(), &u.path) {
        (Some(a), _) => a,
        (None, Some(p)) => read_wav(p).map_err(problem)?,
        (None, None) => {
            return Err(Problem {
                path: PathBuf::from(&u.id),
                reason: "utterance has neither audio nor a file path".into(),
            });
        }
    };
    let mut audio = resample(&audio, opts.target_rate).map_err(problem)?;
    if let Some(p) = &opts.preprocess {
        p.apply(&mut audio);
    }
    u.audio = Some(audio);
    Ok(())
}
