//! Fitting a [`LinearHead`]: class-balanced, L2-regularised multinomial logistic regression on
//! standardised utterance functionals, with the regularisation strength chosen by an inner
//! cross-validation *by speaker* among the training speakers only.
//!
//! The objective is scikit-learn's `LogisticRegression(class_weight="balanced")` with the
//! lbfgs solver (the exploration that motivated the heads used it, docs/results.md):
//! `min_{W,b} C Σ_i s_i CE_i(W, b) + ½‖W‖²` with `s_i = n / (k n_{y_i})` and the intercept
//! not penalised. It is strictly convex in `W`, so any solver that converges finds the same
//! minimum; we use L-BFGS (Nocedal & Wright 2006, algorithm 7.4) in f64 with an Armijo
//! backtracking line search. Everything is deterministic: no random initialisation (zeros),
//! speakers assigned to inner folds in sorted order.

use std::collections::HashMap;

use dsp_features::functionals::{FunctionalsConfig, FunctionalsExtractor};
use ravdess_loader::{LoadOptions, Utterance, load_audio};
use rayon::prelude::*;
use ser_audio::{Audio, Preprocess, resample};
use ser_eval::metrics::ClassificationReport;
use ser_models::LinearHead;
use serde_json::json;

use ser_audio::channel::ChannelSimulator;

use crate::config::{ChannelAugment, TrainConfig, WaveNoise};
use crate::data::{channel_copy, clip_rng, noisy_copy};
use crate::error::{Result, TrainError};

/// Clips decoded at a time by [`corpus_functionals`] (bounds memory: one chunk of audio is
/// held at once; 64 RAVDESS clips are ~15 MB).
const CHUNK: usize = 64;

/// How a head's training rows are made from a clip: the augmentation of the network it is
/// fused with, in the waveform (the networks' low-pass acts on log-mel bands; the head's
/// spectral statistics need it in the signal).
#[derive(Debug, Clone, PartialEq)]
pub struct HeadAugment {
    /// The networks' waveform noise (`--wave-noise`): the same noisy copies, weighted as the
    /// networks draw them (a copy with probability `prob`, else the clean clip).
    pub wave_noise: Option<WaveNoise>,
    /// The networks' channel copies (`--channel-augment`): the same chains (drawn with
    /// `seed`), weighted as the networks draw them (a channel copy with probability `prob`,
    /// the noise rule for the rest; [`ChannelAugment`]).
    pub channel: Option<ChannelAugment>,
    /// The run's seed, which seeds the channel copies (`TrainConfig::seed`).
    pub seed: u64,
    /// Weight of a band-limited version of every row (the networks' `lowpass_prob`): the clip
    /// resampled to twice a cut-off drawn from [`LOWPASS_CUTOFF_HZ`] and back, as a telephone
    /// line or an 8 kHz recording leaves it. 0 = no band-limited rows.
    pub lowpass_prob: f32,
}

impl HeadAugment {
    /// The waveform augmentation of the networks trained with `cfg`, as head rows.
    pub fn of(cfg: &TrainConfig) -> Self {
        Self {
            wave_noise: cfg.augment.wave_noise,
            lowpass_prob: cfg.augment.lowpass_prob,
            channel: cfg.augment.channel.clone(),
            seed: cfg.seed,
        }
    }

    /// No augmentation: one row per clip, the clean clip (validation and test clips).
    pub fn clean() -> Self {
        Self {
            wave_noise: None,
            lowpass_prob: 0.0,
            channel: None,
            seed: 0,
        }
    }
}

/// Cut-off range of the band-limited rows, Hz: the networks' low-pass draws its cut-off band
/// from ~3 kHz to the top band (`augment::train_batch`), i.e. up to 8 kHz at 16 kHz.
pub const LOWPASS_CUTOFF_HZ: (f64, f64) = (3_000.0, 8_000.0);

/// Augmentation key of the band-limited copy of row `k` (row 0 = the clean clip), kept apart
/// from the noise keys `0..copies` of [`noisy_copy`].
const LOWPASS_KEY: u64 = 1 << 32;

/// The training rows of one clip for a head, with their weights: the clean clip, its noisy
/// copies, its channel copies, and band-limited versions of those, as [`HeadAugment`] says.
/// Each clip's weights add up to its number of unlimited rows (1 + noisy copies + channel
/// copies).
#[derive(Debug, Clone, PartialEq)]
pub struct ClipRows {
    /// One functionals vector per row.
    pub rows: Vec<Vec<f32>>,
    /// One weight per row.
    pub weights: Vec<f64>,
}

/// The functionals of every utterance, keyed by [`Utterance::id`]: each clip is decoded,
/// resampled to `cfg.sample_rate`, augmented as `augment` says, and preprocessed with
/// `preprocess` exactly as [`ser_models::Classifier::prepare`] does for a model trained with
/// it, then passed to [`FunctionalsExtractor::extract`]. The noisy copies are the networks'
/// own (same seeds, noise added before preprocessing). `progress(done, total)` is called
/// after each chunk.
///
/// # Errors
///
/// An unusable config; a clip that fails to decode or whose functionals fail names the
/// utterance (a head must see every training clip the network saw).
pub fn corpus_functionals(
    utts: &[&Utterance],
    preprocess: &Preprocess,
    cfg: &FunctionalsConfig,
    augment: &HeadAugment,
    mut progress: impl FnMut(usize, usize),
) -> Result<HashMap<String, ClipRows>> {
    let extractor = FunctionalsExtractor::new(cfg.clone())?;
    // One simulator for every clip and thread (its FFT plans are shared).
    let simulator = match &augment.channel {
        Some(c) => Some(
            ChannelSimulator::new(c.config.clone())
                .map_err(|e| TrainError::config("--channel-config", e.to_string()))?,
        ),
        None => None,
    };
    // Raw audio at the functionals' rate; each version is preprocessed below.
    let opts = LoadOptions {
        target_rate: cfg.sample_rate,
        preprocess: None,
    };
    let mut out = HashMap::with_capacity(utts.len());
    for chunk in utts.chunks(CHUNK) {
        let chunk: Vec<Utterance> = chunk.iter().map(|&u| u.clone()).collect();
        let loaded = load_audio(chunk, &opts, |_, _| {})?;
        if let Some(p) = loaded.problems.first() {
            return Err(TrainError::Data {
                path: p.path.clone(),
                reason: format!("cannot compute its functionals: {}", p.reason),
            });
        }
        let rows: Vec<(String, ClipRows)> = loaded
            .utterances
            .par_iter()
            .map(|u| {
                let path = || u.path.clone().unwrap_or_else(|| u.id.clone().into());
                let fail = |reason: String| TrainError::Data {
                    path: path(),
                    reason,
                };
                let Some(raw) = u.audio.as_ref() else {
                    return Err(fail("no audio after loading".into()));
                };
                let (versions, weights) = augmented(&u.id, raw, augment, simulator.as_ref())
                    .map_err(|e| fail(format!("augmenting for the functionals: {e}")))?;
                let rows = versions
                    .into_iter()
                    .map(|mut a| {
                        preprocess.apply(&mut a);
                        extractor.extract(&a.samples)
                    })
                    .collect::<std::result::Result<Vec<_>, _>>()
                    .map_err(|e| fail(format!("functionals: {e}")))?;
                Ok((u.id.clone(), ClipRows { rows, weights }))
            })
            .collect::<Result<_>>()?;
        out.extend(rows);
        progress(out.len(), utts.len());
    }
    Ok(out)
}

/// The raw versions of clip `id` a head trains on, with their weights (see [`ClipRows`]):
/// the clean clip, the noisy copies, the channel copies (drawn by `simulator`, which
/// [`corpus_functionals`] builds from `augment.channel`), then band-limited versions of each.
///
/// The weights are the networks' draw (`ChannelAugment`): a channel copy with probability
/// `pc`, else a noisy copy with `pn`, else the clean clip, times the number of unlimited rows.
/// Without channel copies they are, bit for bit, those of earlier versions.
fn augmented(
    id: &str,
    raw: &Audio,
    augment: &HeadAugment,
    simulator: Option<&ChannelSimulator>,
) -> std::result::Result<(Vec<Audio>, Vec<f64>), String> {
    let noise = augment.wave_noise.filter(|w| w.copies > 0);
    let channel = augment
        .channel
        .as_ref()
        .filter(|c| c.copies > 0)
        .zip(simulator);
    let noise_copies = noise.map_or(0, |w| w.copies);
    let channel_copies = channel.map_or(0, |(c, _)| c.copies);
    let n = (1 + noise_copies + channel_copies) as f64;
    let pn = noise.map_or(0.0, |w| f64::from(w.prob).clamp(0.0, 1.0));
    let pc = channel.map_or(0.0, |(c, _)| f64::from(c.prob).clamp(0.0, 1.0));
    // `x * (1 - pc)` with pc = 0 is exactly x: without channel copies the weights are those
    // of earlier versions (clean `n (1 - pn)`, each noisy copy `n pn / copies`, or 1 alone).
    let mut versions = vec![raw.clone()];
    let mut weights = vec![if noise.is_some() {
        n * (1.0 - pn) * (1.0 - pc)
    } else {
        1.0 - pc
    }];
    if let Some(w) = &noise {
        for k in 0..w.copies {
            versions.push(noisy_copy(id, raw, k, w));
            weights.push(n * pn / w.copies as f64 * (1.0 - pc));
        }
    }
    if let Some((c, sim)) = channel {
        for k in 0..c.copies {
            let copy = channel_copy(sim, augment.seed, id, raw, k).map_err(|e| e.to_string())?;
            versions.push(copy);
            weights.push(n * pc / c.copies as f64);
        }
    }
    let lp = f64::from(augment.lowpass_prob).clamp(0.0, 1.0);
    if lp > 0.0 {
        let unlimited = versions.len();
        for k in 0..unlimited {
            let mut rng = clip_rng(id, LOWPASS_KEY + k as u64);
            let cutoff = rng.uniform(LOWPASS_CUTOFF_HZ.0, LOWPASS_CUTOFF_HZ.1);
            let band = |a: &Audio| {
                let low = resample(a, (2.0 * cutoff) as u32)?;
                resample(&low, raw.sample_rate)
            };
            let limited = band(&versions[k]).map_err(|e| format!("band-limiting: {e}"))?;
            versions.push(limited);
            weights.push(weights[k] * lp);
            weights[k] *= 1.0 - lp;
        }
    }
    // A version the networks never draw (p = 0 or 1) is not a row.
    Ok(versions
        .into_iter()
        .zip(weights)
        .filter(|&(_, w)| w > 0.0)
        .unzip())
}

/// Settings of [`fit_head`].
#[derive(Debug, Clone, PartialEq)]
pub struct HeadFit {
    /// Candidate inverse L2 strengths `C`, tried in order; ties go to the earlier one. The
    /// default spans 0.01-1, where the exploration's inner CV picked 0.03-0.1 on every fold.
    pub c_grid: Vec<f64>,
    /// Inner folds by speaker (capped at the number of training speakers).
    pub inner_folds: usize,
    /// L-BFGS iterations at most per fit.
    pub max_iter: usize,
    /// Stop when the gradient's max-norm falls below this (the objective is divided by the
    /// summed sample weights, so this is per example; sklearn's lbfgs default `tol` is 1e-4).
    pub tol: f64,
}

impl Default for HeadFit {
    fn default() -> Self {
        Self {
            c_grid: vec![0.01, 0.03, 0.1, 0.3, 1.0],
            inner_folds: 4,
            max_iter: 1000,
            tol: 1e-6,
        }
    }
}

/// Smallest standard deviation a functional is divided by; a constant functional (std 0 on
/// the training clips) is then left at 0 after centring instead of blowing up.
const STD_FLOOR: f64 = 1e-6;

/// Fits a head on `x` (one row of functionals per example), labels `y` (< `n_classes`), the
/// examples' speakers `groups` (the inner CV never splits a speaker) and their `weights` (as
/// scikit-learn's `sample_weight`: weight 2 counts like the row twice; the class balancing
/// uses the weighted class totals). The inner CV scores every row once, unweighted.
///
/// # Errors
///
/// [`TrainError::Config`] for empty or ragged input, non-finite values, a label out of range,
/// a weight that is not finite and > 0, an empty `c_grid` or fewer than 2
/// speakers.
pub fn fit_head(
    x: &[Vec<f32>],
    y: &[usize],
    groups: &[String],
    weights: &[f64],
    n_classes: usize,
    cfg: &HeadFit,
) -> Result<LinearHead> {
    let dim = x.first().map_or(0, Vec::len);
    if x.is_empty()
        || dim == 0
        || y.len() != x.len()
        || groups.len() != x.len()
        || weights.len() != x.len()
    {
        return Err(TrainError::config(
            "functionals",
            format!(
                "{} rows of {dim} functionals, {} labels, {} speakers, {} weights: need as many of each, at least one",
                x.len(),
                y.len(),
                groups.len(),
                weights.len()
            ),
        ));
    }
    if let Some(i) = weights.iter().position(|w| !(w.is_finite() && *w > 0.0)) {
        return Err(TrainError::config(
            "weights",
            format!(
                "row {i} has weight {}; weights must be finite and > 0",
                weights[i]
            ),
        ));
    }
    if let Some(i) = x.iter().position(|r| r.len() != dim) {
        return Err(TrainError::config(
            "functionals",
            format!("row {i} has {} values, row 0 has {dim}", x[i].len()),
        ));
    }
    if let Some(i) = x.iter().position(|r| r.iter().any(|v| !v.is_finite())) {
        return Err(TrainError::config(
            "functionals",
            format!("row {i} has a value that is not finite"),
        ));
    }
    if let Some(&bad) = y.iter().find(|&&c| c >= n_classes) {
        return Err(TrainError::config(
            "labels",
            format!("label index {bad} with {n_classes} classes"),
        ));
    }
    if cfg.c_grid.is_empty() || cfg.c_grid.iter().any(|c| !(*c > 0.0 && c.is_finite())) {
        return Err(TrainError::config(
            "c_grid",
            "needs at least one positive, finite C",
        ));
    }
    let mut speakers: Vec<&String> = groups.iter().collect();
    speakers.sort();
    speakers.dedup();
    if speakers.len() < 2 {
        return Err(TrainError::config(
            "speakers",
            "the inner cross-validation needs at least 2 speakers",
        ));
    }
    let k_inner = cfg.inner_folds.clamp(2, speakers.len());
    let fold_of: Vec<usize> = groups
        .iter()
        .map(|g| speakers.iter().position(|s| *s == g).unwrap_or(0) % k_inner)
        .collect();

    // Inner CV: balanced accuracy of the pooled inner held-out predictions for each C.
    let mut scores = Vec::with_capacity(cfg.c_grid.len());
    for &c in &cfg.c_grid {
        let mut pred = vec![0usize; x.len()];
        for f in 0..k_inner {
            let train: Vec<usize> = (0..x.len()).filter(|&i| fold_of[i] != f).collect();
            let test: Vec<usize> = (0..x.len()).filter(|&i| fold_of[i] == f).collect();
            let (head, _) = fit_rows(x, y, weights, &train, n_classes, c, cfg);
            for &i in &test {
                pred[i] = argmax(&head.log_probs(&x[i]));
            }
        }
        scores.push(ClassificationReport::new(y, &pred, n_classes)?.balanced_accuracy);
    }
    // First best (the grid's order breaks ties).
    let best = scores
        .iter()
        .enumerate()
        .fold(0, |b, (i, s)| if *s > scores[b] { i } else { b });
    let c = cfg.c_grid[best];
    let all: Vec<usize> = (0..x.len()).collect();
    let (head, iterations) = fit_rows(x, y, weights, &all, n_classes, c, cfg);
    Ok(LinearHead {
        fit: json!({
            "model": "multinomial logistic regression, class-balanced, L2 on weights (sklearn's objective)",
            "c": c,
            "c_grid": cfg.c_grid,
            "inner_cv_ua": scores,
            "inner_folds": k_inner,
            "train_rows": x.len(),
            "train_speakers": speakers.len(),
            "iterations": iterations,
        }),
        ..head
    })
}

/// Index of the largest value (the first on ties).
fn argmax(v: &[f32]) -> usize {
    v.iter()
        .enumerate()
        .fold(0, |best, (k, &l)| if l > v[best] { k } else { best })
}

/// Fits on the rows `rows` of `x` with inverse L2 strength `c`: the head (standardisation
/// fitted on those rows; parameters solved in f64, stored as f32, `fit` left empty) and the
/// L-BFGS iterations used.
fn fit_rows(
    x: &[Vec<f32>],
    y: &[usize],
    weights: &[f64],
    rows: &[usize],
    n_classes: usize,
    c: f64,
    cfg: &HeadFit,
) -> (LinearHead, usize) {
    let dim = x[0].len();
    let n = rows.len() as f64;
    let mut mean = vec![0.0f64; dim];
    for &i in rows {
        for (m, &v) in mean.iter_mut().zip(&x[i]) {
            *m += f64::from(v) / n;
        }
    }
    let mut var = vec![0.0f64; dim];
    for &i in rows {
        for ((s, &v), m) in var.iter_mut().zip(&x[i]).zip(&mean) {
            *s += (f64::from(v) - m).powi(2) / n;
        }
    }
    let std: Vec<f64> = var.iter().map(|v| v.sqrt().max(STD_FLOOR)).collect();
    let z: Vec<Vec<f64>> = rows
        .iter()
        .map(|&i| {
            x[i].iter()
                .zip(mean.iter().zip(&std))
                .map(|(&v, (m, s))| (f64::from(v) - m) / s)
                .collect()
        })
        .collect();
    let labels: Vec<usize> = rows.iter().map(|&i| y[i]).collect();
    // Balanced class weights n / (k n_c) over the classes present, with n and n_c the weighted
    // totals, times each row's own weight (sklearn: class_weight="balanced" with
    // sample_weight); the data term is then divided by their sum (the minimiser is unchanged).
    let mut count = vec![0.0f64; n_classes];
    for &i in rows {
        count[y[i]] += weights[i];
    }
    let total: f64 = count.iter().sum();
    let present = count.iter().filter(|&&c| c > 0.0).count() as f64;
    let sw: Vec<f64> = rows
        .iter()
        .map(|&i| {
            let c = count[y[i]];
            if c > 0.0 {
                weights[i] * total / (present * c)
            } else {
                0.0
            }
        })
        .collect();
    let sw_sum: f64 = sw.iter().sum();
    let problem = Problem {
        z: &z,
        labels: &labels,
        sw: &sw,
        sw_sum,
        n_classes,
        dim,
        // C Σ s_i CE_i + ½‖W‖², divided by C Σ s_i.
        l2: 1.0 / (c * sw_sum),
    };
    let (theta, iterations) = lbfgs(&problem, cfg.max_iter, cfg.tol);
    let to_f32 = |v: &[f64]| v.iter().map(|&x| x as f32).collect::<Vec<f32>>();
    let (w, b) = theta.split_at(n_classes * dim);
    let head = LinearHead {
        mean: to_f32(&mean),
        std: to_f32(&std),
        weights: w.chunks(dim).map(to_f32).collect(),
        bias: to_f32(b),
        fit: serde_json::Value::Null,
    };
    (head, iterations)
}

/// The weighted, regularised cross-entropy over parameters `θ = [W (row-major), b]`.
struct Problem<'a> {
    z: &'a [Vec<f64>],
    labels: &'a [usize],
    sw: &'a [f64],
    sw_sum: f64,
    n_classes: usize,
    dim: usize,
    l2: f64,
}

impl Problem<'_> {
    /// Objective and gradient at `theta`.
    fn eval(&self, theta: &[f64], grad: &mut [f64]) -> f64 {
        let (k, d) = (self.n_classes, self.dim);
        let (w, b) = theta.split_at(k * d);
        grad.fill(0.0);
        let mut loss = 0.0;
        let mut logits = vec![0.0f64; k];
        for ((zi, &t), &s) in self.z.iter().zip(self.labels).zip(self.sw) {
            for (c, l) in logits.iter_mut().enumerate() {
                *l = b[c]
                    + w[c * d..(c + 1) * d]
                        .iter()
                        .zip(zi)
                        .map(|(a, b)| a * b)
                        .sum::<f64>();
            }
            let max = logits.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let sum: f64 = logits.iter().map(|l| (l - max).exp()).sum();
            let lse = max + sum.ln();
            let a = s / self.sw_sum;
            loss += a * (lse - logits[t]);
            for (c, &l) in logits.iter().enumerate() {
                let r = a * ((l - lse).exp() - f64::from(u8::from(c == t)));
                for (g, &v) in grad[c * d..(c + 1) * d].iter_mut().zip(zi) {
                    *g += r * v;
                }
                grad[k * d + c] += r;
            }
        }
        for (g, &v) in grad[..k * d].iter_mut().zip(w) {
            *g += self.l2 * v;
        }
        loss + 0.5 * self.l2 * w.iter().map(|v| v * v).sum::<f64>()
    }
}

/// L-BFGS with 10 correction pairs from θ = 0; returns the parameters and the iterations used.
fn lbfgs(p: &Problem<'_>, max_iter: usize, tol: f64) -> (Vec<f64>, usize) {
    const MEMORY: usize = 10;
    let n = p.n_classes * (p.dim + 1);
    let mut x = vec![0.0f64; n];
    let mut g = vec![0.0f64; n];
    let mut f = p.eval(&x, &mut g);
    let mut s_hist: Vec<Vec<f64>> = Vec::new();
    let mut y_hist: Vec<Vec<f64>> = Vec::new();
    let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>();
    let mut xn = vec![0.0f64; n];
    let mut gn = vec![0.0f64; n];
    for it in 0..max_iter {
        if g.iter().fold(0.0f64, |m, v| m.max(v.abs())) < tol {
            return (x, it);
        }
        // Two-loop recursion: d = -H g.
        let mut q = g.clone();
        let mut alpha = vec![0.0; s_hist.len()];
        for j in (0..s_hist.len()).rev() {
            let rho = 1.0 / dot(&y_hist[j], &s_hist[j]);
            alpha[j] = rho * dot(&s_hist[j], &q);
            for (qi, yi) in q.iter_mut().zip(&y_hist[j]) {
                *qi -= alpha[j] * yi;
            }
        }
        let gamma = match (s_hist.last(), y_hist.last()) {
            (Some(s), Some(y)) => dot(s, y) / dot(y, y),
            _ => 1.0 / g.iter().map(|v| v * v).sum::<f64>().sqrt().max(1.0),
        };
        for qi in &mut q {
            *qi *= gamma;
        }
        for j in 0..s_hist.len() {
            let rho = 1.0 / dot(&y_hist[j], &s_hist[j]);
            let beta = rho * dot(&y_hist[j], &q);
            for (qi, si) in q.iter_mut().zip(&s_hist[j]) {
                *qi += (alpha[j] - beta) * si;
            }
        }
        let mut d: Vec<f64> = q.into_iter().map(|v| -v).collect();
        let mut slope = dot(&g, &d);
        if slope >= 0.0 {
            // Not a descent direction (numerical trouble): restart from steepest descent.
            s_hist.clear();
            y_hist.clear();
            d = g.iter().map(|v| -v).collect();
            slope = dot(&g, &d);
        }
        // Armijo backtracking (c1 = 1e-4, halving).
        let mut step = 1.0;
        let mut fnew;
        loop {
            for ((xn, x), d) in xn.iter_mut().zip(&x).zip(&d) {
                *xn = x + step * d;
            }
            fnew = p.eval(&xn, &mut gn);
            if fnew <= f + 1e-4 * step * slope || step < 1e-12 {
                break;
            }
            step *= 0.5;
        }
        if step < 1e-12 {
            return (x, it);
        }
        let s: Vec<f64> = xn.iter().zip(&x).map(|(a, b)| a - b).collect();
        let yv: Vec<f64> = gn.iter().zip(&g).map(|(a, b)| a - b).collect();
        if dot(&s, &yv) > 1e-12 {
            if s_hist.len() == MEMORY {
                s_hist.remove(0);
                y_hist.remove(0);
            }
            s_hist.push(s);
            y_hist.push(yv);
        }
        std::mem::swap(&mut x, &mut xn);
        std::mem::swap(&mut g, &mut gn);
        f = fnew;
    }
    (x, max_iter)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ones(x: &[Vec<f32>]) -> Vec<f64> {
        vec![1.0; x.len()]
    }

    /// Three noisy blobs in 2-D plus a constant third functional, 4 speakers; deterministic
    /// LCG noise.
    fn blobs() -> (Vec<Vec<f32>>, Vec<usize>, Vec<String>) {
        let mut state = 12345u64;
        let mut noise = move || {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            ((state >> 33) as f32 / (1u64 << 31) as f32) - 0.5
        };
        let centres = [[2.0, 0.0], [0.0, 2.0], [-2.0, -2.0]];
        let (mut x, mut y, mut g) = (Vec::new(), Vec::new(), Vec::new());
        for spk in 0..4 {
            for (c, centre) in centres.iter().enumerate() {
                for _ in 0..10 {
                    // The third functional is constant, as some are on real clips.
                    x.push(vec![
                        centre[0] + 2.0 * noise(),
                        centre[1] + 2.0 * noise(),
                        5.0,
                    ]);
                    y.push(c);
                    g.push(format!("{spk:02}"));
                }
            }
        }
        (x, y, g)
    }

    #[test]
    fn separable_blobs_are_learned_and_the_fit_is_recorded() {
        let (x, y, g) = blobs();
        let head = fit_head(&x, &y, &g, &ones(&x), 3, &HeadFit::default()).unwrap();
        head.validate("head", 3, 3).unwrap();
        let acc = x
            .iter()
            .zip(&y)
            .filter(|&(xi, &t)| {
                let lp = head.log_probs(xi);
                lp.iter()
                    .enumerate()
                    .max_by(|a, b| a.1.total_cmp(b.1))
                    .unwrap()
                    .0
                    == t
            })
            .count() as f64
            / x.len() as f64;
        assert!(acc > 0.9, "training accuracy {acc}");
        // The constant third functional is left alone: std floored, not divided by zero.
        assert!(head.std[2] > 0.0 && head.weights.iter().all(|r| r[2].abs() < 1e-3));
        assert_eq!(head.fit["inner_folds"], 4);
        assert!(head.fit["c"].as_f64().unwrap() > 0.0);
    }

    #[test]
    fn the_solver_reaches_the_stationary_point_of_the_objective() {
        // At the optimum the gradient of C Σ s_i CE_i + ½‖W‖² is zero: check it by finite
        // differences of the objective at the fitted parameters.
        let (x, y, g) = blobs();
        let cfg = HeadFit {
            c_grid: vec![0.1],
            ..HeadFit::default()
        };
        let head = fit_head(&x, &y, &g, &ones(&x), 3, &cfg).unwrap();
        let obj = |w: &[Vec<f32>], b: &[f32]| -> f64 {
            let h = LinearHead {
                weights: w.to_vec(),
                bias: b.to_vec(),
                ..head.clone()
            };
            let mut count = [0usize; 3];
            for &t in &y {
                count[t] += 1;
            }
            let n = y.len() as f64;
            let data: f64 = x
                .iter()
                .zip(&y)
                .map(|(xi, &t)| {
                    let s = n / (3.0 * count[t] as f64);
                    -s * f64::from(h.log_probs(xi)[t])
                })
                .sum();
            // The head stores W for standardised inputs: ½‖W‖² is in those units.
            0.1 * data
                + 0.5
                    * w.iter()
                        .flatten()
                        .map(|v| f64::from(*v).powi(2))
                        .sum::<f64>()
        };
        let base = obj(&head.weights, &head.bias);
        let eps = 1e-2f32;
        for (k, j) in [(0, 0), (1, 1), (2, 0)] {
            let mut w = head.weights.clone();
            w[k][j] += eps;
            let up = obj(&w, &head.bias);
            w[k][j] -= 2.0 * eps;
            let down = obj(&w, &head.bias);
            // A minimum: both directions go up (to rounding of the f32-stored parameters).
            assert!(
                up >= base - 1e-6 && down >= base - 1e-6,
                "{up} {base} {down}"
            );
            // And the slope there is ~0: a central difference of the objective (whose data
            // term is ~10 here) far below what a point short of the optimum would show.
            let slope = (up - down) / (2.0 * f64::from(eps));
            assert!(slope.abs() < 1e-3, "slope {slope} at ({k}, {j})");
        }
    }

    #[test]
    fn bad_input_is_named() {
        let (x, y, g) = blobs();
        let e = fit_head(&x[..3], &y, &g, &ones(&x), 3, &HeadFit::default()).unwrap_err();
        assert!(e.to_string().contains("functionals"), "{e}");
        let mut nan = x.clone();
        nan[5][1] = f32::NAN;
        let e = fit_head(&nan, &y, &g, &ones(&x), 3, &HeadFit::default()).unwrap_err();
        assert!(e.to_string().contains("row 5"), "{e}");
        let e = fit_head(&x, &y, &g, &ones(&x), 2, &HeadFit::default()).unwrap_err();
        assert!(e.to_string().contains("label index 2"), "{e}");
        let one: Vec<String> = g.iter().map(|_| "01".to_string()).collect();
        let e = fit_head(&x, &y, &one, &ones(&x), 3, &HeadFit::default()).unwrap_err();
        assert!(e.to_string().contains("2 speakers"), "{e}");
    }

    #[test]
    fn a_row_of_weight_two_counts_like_the_row_twice() {
        let (x, y, g) = blobs();
        let cfg = HeadFit {
            c_grid: vec![0.1],
            ..HeadFit::default()
        };
        let mut w = ones(&x);
        w[7] = 2.0;
        let weighted = fit_head(&x, &y, &g, &w, 3, &cfg).unwrap();
        let (mut xd, mut yd, mut gd) = (x.clone(), y.clone(), g.clone());
        xd.push(x[7].clone());
        yd.push(y[7]);
        gd.push(g[7].clone());
        let doubled = fit_head(&xd, &yd, &gd, &ones(&xd), 3, &cfg).unwrap();
        // Same objective; only the standardisation (unweighted over rows) differs, by the
        // one extra row's share, so compare the decisions and the logits loosely.
        for xi in &x {
            let (a, b) = (weighted.log_probs(xi), doubled.log_probs(xi));
            for (p, q) in a.iter().zip(&b) {
                assert!((p - q).abs() < 0.05, "{a:?} vs {b:?}");
            }
        }
        let mut bad = ones(&x);
        bad[3] = 0.0;
        let e = fit_head(&x, &y, &g, &bad, 3, &cfg).unwrap_err();
        assert!(e.to_string().contains("row 3 has weight 0"), "{e}");
    }

    #[test]
    fn augmented_rows_weigh_as_the_networks_draw_them() {
        let sr = 16_000u32;
        let raw = Audio::new(
            (0..sr)
                .map(|i| (i as f32 * 0.37).sin() * 0.3 + (i as f32 * 2.9).sin() * 0.2)
                .collect(),
            sr,
        );
        let noise = WaveNoise::new(2);
        let plain = HeadAugment::clean();
        let (v, w) = augmented("a.wav", &raw, &plain, None).unwrap();
        assert_eq!((v.len(), w), (1, vec![1.0]));
        let full = HeadAugment {
            wave_noise: Some(noise),
            lowpass_prob: 0.2,
            ..HeadAugment::clean()
        };
        let (v, w) = augmented("a.wav", &raw, &full, None).unwrap();
        // clean, 2 noisy, then a band-limited version of each.
        assert_eq!(v.len(), 6);
        let expect = [1.2, 0.6, 0.6, 0.3, 0.15, 0.15];
        // The probabilities are f32 in the config (0.2f32 = 0.2 + 3e-9): compare to that.
        for (a, b) in w.iter().zip(expect) {
            assert!((a - b).abs() < 1e-7, "{w:?}");
        }
        assert!((w.iter().sum::<f64>() - 3.0).abs() < 1e-12);
        // The noisy copies are the networks' own; the band-limited ones keep the rate and lose
        // most of the 7.4 kHz component (2.9 rad/sample), above any cut-off below 7.4 kHz.
        assert_eq!(v[1].samples, noisy_copy("a.wav", &raw, 0, &noise).samples);
        let band = &v[3];
        assert_eq!(band.sample_rate, sr);
        let hf = |a: &Audio| {
            a.samples
                .windows(2)
                .map(|p| f64::from(p[1] - p[0]).powi(2))
                .sum::<f64>()
        };
        assert!(hf(band) < 0.5 * hf(&raw), "{} vs {}", hf(band), hf(&raw));
        // Deterministic: the same clip gives the same rows.
        let (again, _) = augmented("a.wav", &raw, &full, None).unwrap();
        assert_eq!(again[3].samples, v[3].samples);
    }

    /// Issue 27, item 3: the head's rows include the networks' channel copies (the same
    /// chains, from the run's seed), weighted as the networks draw them: a channel copy with
    /// its probability, the noise rule for the rest.
    #[test]
    fn channel_copies_are_head_rows_weighted_as_the_networks_draw_them() {
        let sr = 16_000u32;
        let raw = Audio::new((0..sr).map(|i| (i as f32 * 0.37).sin() * 0.3).collect(), sr);
        let mut chain = ser_audio::channel::ChannelConfig::none();
        chain.reverb.prob = 1.0;
        let channel = ChannelAugment {
            copies: 2,
            prob: 0.5,
            config: chain,
        };
        let both = HeadAugment {
            wave_noise: Some(WaveNoise::new(2)),
            channel: Some(channel.clone()),
            seed: 3,
            lowpass_prob: 0.0,
        };
        let sim = ChannelSimulator::new(channel.config.clone()).unwrap();
        let (v, w) = augmented("a.wav", &raw, &both, Some(&sim)).unwrap();
        // clean, 2 noisy, 2 channel; 5 rows: 5 * (0.25, 0.125, 0.125, 0.25, 0.25).
        assert_eq!(w, vec![1.25, 0.625, 0.625, 1.25, 1.25]);
        assert_eq!(
            v[3].samples,
            channel_copy(&sim, 3, "a.wav", &raw, 0).unwrap().samples
        );
        assert_ne!(v[3].samples, v[4].samples);
        assert_ne!(v[3].samples, raw.samples);
        // Another seed, another room.
        let other = HeadAugment { seed: 4, ..both };
        let (v4, _) = augmented("a.wav", &raw, &other, Some(&sim)).unwrap();
        assert_ne!(v4[3].samples, v[3].samples);
        // HeadAugment::of carries the run's channel augmentation and seed.
        let mut cfg = TrainConfig::default();
        cfg.augment.channel = Some(channel);
        cfg.seed = 3;
        let of = HeadAugment::of(&cfg);
        assert_eq!((of.channel, of.seed), (cfg.augment.channel.clone(), 3));
    }
}
