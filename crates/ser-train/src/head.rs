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
use ravdess_loader::{Audio, LoadOptions, Preprocess, Utterance, load_audio};
use rayon::prelude::*;
use ser_models::LinearHead;
use serde_json::json;

use crate::config::WaveNoise;
use crate::data::noisy_copy;
use crate::error::{Result, TrainError};

/// Clips decoded at a time by [`corpus_functionals`] (bounds memory: one chunk of audio is
/// held at once; 64 RAVDESS clips are ~15 MB).
const CHUNK: usize = 64;

/// The functionals of every utterance, keyed by [`Utterance::id`]: each clip is decoded,
/// resampled to `cfg.sample_rate` and preprocessed with `preprocess` exactly as
/// [`ser_models::Classifier::prepare`] does for a model trained with it, then passed to
/// [`FunctionalsExtractor::extract`]. The first row of each clip is the clean clip; with
/// `wave_noise`, `copies` more rows follow, one per noisy copy, made exactly as the networks'
/// noisy training copies (same seeds, noise added before preprocessing). `progress(done,
/// total)` is called after each chunk.
///
/// # Errors
///
/// An unusable config; a clip that fails to decode or whose functionals fail names the
/// utterance (a head must see every training clip the network saw).
pub fn corpus_functionals(
    utts: &[Utterance],
    preprocess: &Preprocess,
    cfg: &FunctionalsConfig,
    wave_noise: Option<&WaveNoise>,
    progress: impl Fn(usize, usize),
) -> Result<HashMap<String, Vec<Vec<f32>>>> {
    let extractor = FunctionalsExtractor::new(cfg.clone())?;
    // Raw audio at the functionals' rate; each copy is preprocessed below.
    let opts = LoadOptions {
        target_rate: cfg.sample_rate,
        preprocess: None,
    };
    let mut out = HashMap::with_capacity(utts.len());
    for chunk in utts.chunks(CHUNK) {
        let loaded = load_audio(chunk.to_vec(), &opts, |_, _| {})?;
        if let Some(p) = loaded.problems.first() {
            return Err(TrainError::Data {
                path: p.path.clone(),
                reason: format!("cannot compute its functionals: {}", p.reason),
            });
        }
        let rows: Vec<(String, Vec<Vec<f32>>)> = loaded
            .utterances
            .par_iter()
            .map(|u| {
                let raw = u
                    .audio
                    .clone()
                    .unwrap_or_else(|| Audio::new(Vec::new(), cfg.sample_rate));
                let mut clean = raw.clone();
                preprocess.apply(&mut clean);
                let mut clips = vec![clean];
                if let Some(w) = wave_noise {
                    clips.extend((0..w.copies).map(|k| noisy_copy(&u.id, &raw, k, w, preprocess)));
                }
                let rows = clips
                    .iter()
                    .map(|a| extractor.extract(&a.samples))
                    .collect::<std::result::Result<Vec<_>, _>>()
                    .map_err(|e| TrainError::Data {
                        path: u.path.clone().unwrap_or_else(|| u.id.clone().into()),
                        reason: format!("functionals: {e}"),
                    })?;
                Ok((u.id.clone(), rows))
            })
            .collect::<Result<_>>()?;
        out.extend(rows);
        progress(out.len(), utts.len());
    }
    Ok(out)
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

/// Fits a head on `x` (one row of functionals per clip), labels `y` (< `n_classes`) and the
/// clips' speakers `groups` (the inner CV never splits a speaker).
///
/// # Errors
///
/// [`TrainError::Config`] for empty or ragged input, non-finite values, a label out of range,
/// an empty `c_grid` or fewer than 2 speakers.
pub fn fit_head(
    x: &[Vec<f32>],
    y: &[usize],
    groups: &[String],
    n_classes: usize,
    cfg: &HeadFit,
) -> Result<LinearHead> {
    let dim = x.first().map_or(0, Vec::len);
    if x.is_empty() || dim == 0 || y.len() != x.len() || groups.len() != x.len() {
        return Err(TrainError::config(
            "functionals",
            format!(
                "{} rows of {dim} functionals, {} labels, {} speakers: need as many of each, at least one",
                x.len(),
                y.len(),
                groups.len()
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
            let model = Fitted::fit(x, y, &train, n_classes, c, cfg);
            for &i in &test {
                pred[i] = model.argmax(&x[i]);
            }
        }
        scores.push(balanced_accuracy(y, &pred, n_classes));
    }
    // First best (the grid's order breaks ties).
    let best = scores
        .iter()
        .enumerate()
        .fold(0, |b, (i, s)| if *s > scores[b] { i } else { b });
    let c = cfg.c_grid[best];
    let all: Vec<usize> = (0..x.len()).collect();
    let model = Fitted::fit(x, y, &all, n_classes, c, cfg);
    Ok(LinearHead {
        mean: model.mean.iter().map(|&v| v as f32).collect(),
        std: model.std.iter().map(|&v| v as f32).collect(),
        weights: (0..n_classes)
            .map(|k| {
                model.w[k * dim..(k + 1) * dim]
                    .iter()
                    .map(|&v| v as f32)
                    .collect()
            })
            .collect(),
        bias: model.b.iter().map(|&v| v as f32).collect(),
        fit: json!({
            "model": "multinomial logistic regression, class-balanced, L2 on weights (sklearn's objective)",
            "c": c,
            "c_grid": cfg.c_grid,
            "inner_cv_ua": scores,
            "inner_folds": k_inner,
            "train_clips": x.len(),
            "train_speakers": speakers.len(),
            "iterations": model.iterations,
        }),
    })
}

/// Balanced accuracy (mean per-class recall over the classes present in `y`).
fn balanced_accuracy(y: &[usize], pred: &[usize], n_classes: usize) -> f64 {
    let mut hit = vec![0usize; n_classes];
    let mut n = vec![0usize; n_classes];
    for (&t, &p) in y.iter().zip(pred) {
        n[t] += 1;
        hit[t] += usize::from(t == p);
    }
    let present: Vec<f64> = (0..n_classes)
        .filter(|&k| n[k] > 0)
        .map(|k| hit[k] as f64 / n[k] as f64)
        .collect();
    present.iter().sum::<f64>() / present.len().max(1) as f64
}

/// One fitted model in f64 (standardisation fitted on its own training rows).
struct Fitted {
    mean: Vec<f64>,
    std: Vec<f64>,
    /// Row-major `[n_classes][dim]`.
    w: Vec<f64>,
    b: Vec<f64>,
    iterations: usize,
}

impl Fitted {
    fn fit(
        x: &[Vec<f32>],
        y: &[usize],
        rows: &[usize],
        n_classes: usize,
        c: f64,
        cfg: &HeadFit,
    ) -> Self {
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
        // Balanced class weights n / (k n_c) over the classes present, normalised so that the
        // data term is a weighted mean (the minimiser is unchanged).
        let mut count = vec![0usize; n_classes];
        for &t in &labels {
            count[t] += 1;
        }
        let present = count.iter().filter(|&&c| c > 0).count() as f64;
        let sw: Vec<f64> = labels
            .iter()
            .map(|&t| n / (present * count[t] as f64))
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
        let nw = n_classes * dim;
        Self {
            mean,
            std,
            w: theta[..nw].to_vec(),
            b: theta[nw..].to_vec(),
            iterations,
        }
    }

    fn argmax(&self, x: &[f32]) -> usize {
        let dim = self.mean.len();
        let z: Vec<f64> = x
            .iter()
            .zip(self.mean.iter().zip(&self.std))
            .map(|(&v, (m, s))| (f64::from(v) - m) / s)
            .collect();
        (0..self.b.len())
            .map(|k| {
                self.b[k]
                    + self.w[k * dim..(k + 1) * dim]
                        .iter()
                        .zip(&z)
                        .map(|(w, z)| w * z)
                        .sum::<f64>()
            })
            .enumerate()
            .fold((0, f64::NEG_INFINITY), |best, (k, l)| {
                if l > best.1 { (k, l) } else { best }
            })
            .0
    }
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
        let head = fit_head(&x, &y, &g, 3, &HeadFit::default()).unwrap();
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
        let head = fit_head(&x, &y, &g, 3, &cfg).unwrap();
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
        }
    }

    #[test]
    fn bad_input_is_named() {
        let (x, y, g) = blobs();
        let e = fit_head(&x[..3], &y, &g, 3, &HeadFit::default()).unwrap_err();
        assert!(e.to_string().contains("functionals"), "{e}");
        let mut nan = x.clone();
        nan[5][1] = f32::NAN;
        let e = fit_head(&nan, &y, &g, 3, &HeadFit::default()).unwrap_err();
        assert!(e.to_string().contains("row 5"), "{e}");
        let e = fit_head(&x, &y, &g, 2, &HeadFit::default()).unwrap_err();
        assert!(e.to_string().contains("label index 2"), "{e}");
        let one: Vec<String> = g.iter().map(|_| "01".to_string()).collect();
        let e = fit_head(&x, &y, &one, 3, &HeadFit::default()).unwrap_err();
        assert!(e.to_string().contains("2 speakers"), "{e}");
    }
}
