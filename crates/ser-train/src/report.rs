//! The per-epoch CSV log and the learning-curve plot (PNG and SVG).
//!
//! PNG text is rasterised by plotters' pure-Rust `ab_glyph` backend from the workspace's
//! embedded DejaVu Sans ([`ser_eval::plot::FONT`]), so no system font library is needed.

use std::path::Path;
use std::sync::OnceLock;

use plotters::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{Result, TrainError};

/// One epoch of the log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochRow {
    /// 1-based epoch.
    pub epoch: usize,
    /// Mean training loss.
    pub train_loss: f64,
    /// Training accuracy (on augmented crops).
    pub train_acc: f64,
    /// Validation loss (whole clips); `None` (an empty CSV field) when the run has no
    /// validation speakers (`--no-val`).
    pub val_loss: Option<f64>,
    /// Validation unweighted accuracy (`None` without validation speakers).
    pub val_ua: Option<f64>,
    /// Validation weighted accuracy (`None` without validation speakers).
    pub val_wa: Option<f64>,
    /// Learning rate at the end of the epoch.
    pub lr: f64,
    /// Wall-clock seconds of the epoch (training + validation).
    pub seconds: f64,
}

/// Writes the log as CSV (atomically).
pub fn write_csv(path: &Path, rows: &[EpochRow]) -> Result<()> {
    let err = |reason: String| TrainError::Output {
        path: path.to_path_buf(),
        reason,
    };
    let mut w = csv::Writer::from_writer(Vec::new());
    for r in rows {
        w.serialize(r).map_err(|e| err(e.to_string()))?;
    }
    if rows.is_empty() {
        w.write_record([
            "epoch",
            "train_loss",
            "train_acc",
            "val_loss",
            "val_ua",
            "val_wa",
            "lr",
            "seconds",
        ])
        .map_err(|e| err(e.to_string()))?;
    }
    let bytes = w.into_inner().map_err(|e| err(e.to_string()))?;
    ser_fs::write_atomic(path, &bytes).map_err(|e| TrainError::io(path, e))
}

fn register_font() -> bool {
    static OK: OnceLock<bool> = OnceLock::new();
    *OK.get_or_init(|| {
        plotters::style::register_font("sans-serif", FontStyle::Normal, ser_eval::plot::FONT)
            .is_ok()
    })
}

/// Draws loss (left) and validation UA / training accuracy (right) per epoch.
pub fn plot(png: &Path, svg: &Path, rows: &[EpochRow]) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    if !register_font() {
        return Err(TrainError::Output {
            path: png.to_path_buf(),
            reason: "embedded font could not be parsed".into(),
        });
    }
    let size = (960, 400);
    draw(&BitMapBackend::new(png, size).into_drawing_area(), rows).map_err(|e| {
        TrainError::Output {
            path: png.to_path_buf(),
            reason: e,
        }
    })?;
    draw(&SVGBackend::new(svg, size).into_drawing_area(), rows).map_err(|e| TrainError::Output {
        path: svg.to_path_buf(),
        reason: e,
    })
}

fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, plotters::coord::Shift>,
    rows: &[EpochRow],
) -> std::result::Result<(), String> {
    let e = |x: DrawingAreaErrorKind<DB::ErrorType>| x.to_string();
    root.fill(&WHITE).map_err(e)?;
    let (left, right) = root.split_horizontally(480);
    let n = rows.len() as f64 + 0.5;
    let max_loss = rows
        .iter()
        .flat_map(|r| [Some(r.train_loss), r.val_loss])
        .flatten()
        .filter(|v| v.is_finite())
        .fold(0.1, f64::max);
    let mut c = ChartBuilder::on(&left)
        .caption("loss", ("sans-serif", 18))
        .margin(10)
        .x_label_area_size(30)
        .y_label_area_size(45)
        .build_cartesian_2d(0.5..n, 0.0..max_loss * 1.05)
        .map_err(e)?;
    c.configure_mesh().x_desc("epoch").draw().map_err(e)?;
    // Epochs without a value (no validation speakers) are left out of a series.
    let series = |f: fn(&EpochRow) -> Option<f64>| {
        rows.iter()
            .filter_map(move |r| f(r).map(|v| (r.epoch as f64, v)))
            .collect::<Vec<_>>()
    };
    c.draw_series(LineSeries::new(series(|r| Some(r.train_loss)), &BLUE))
        .map_err(e)?
        .label("train")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 15, y)], BLUE));
    c.draw_series(LineSeries::new(series(|r| r.val_loss), &RED))
        .map_err(e)?
        .label("validation")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 15, y)], RED));
    c.configure_series_labels()
        .border_style(BLACK)
        .background_style(WHITE)
        .draw()
        .map_err(e)?;
    let mut c = ChartBuilder::on(&right)
        .caption("accuracy", ("sans-serif", 18))
        .margin(10)
        .x_label_area_size(30)
        .y_label_area_size(45)
        .build_cartesian_2d(0.5..n, 0.0..1.0)
        .map_err(e)?;
    c.configure_mesh().x_desc("epoch").draw().map_err(e)?;
    c.draw_series(LineSeries::new(series(|r| Some(r.train_acc)), &BLUE))
        .map_err(e)?
        .label("train acc (augmented)")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 15, y)], BLUE));
    c.draw_series(LineSeries::new(series(|r| r.val_ua), &RED))
        .map_err(e)?
        .label("validation UA")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 15, y)], RED));
    c.configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .border_style(BLACK)
        .background_style(WHITE)
        .draw()
        .map_err(e)?;
    root.present().map_err(e)
}
