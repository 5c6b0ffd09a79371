//! Confusion-matrix images (PNG and SVG) drawn with plotters.
//!
//! Text in the PNG is rasterised by plotters' pure-Rust `ab_glyph` backend from an embedded
//! DejaVu Sans ([`FONT`], `assets/DejaVuSans.ttf`, Bitstream Vera licence, redistributable:
//! see `assets/DejaVu-LICENSE.txt`), so no system font library (fontconfig/freetype) is needed
//! and the image looks the same on every machine.

use std::path::Path;
use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::error::{EvalError, Result};
use crate::report::ConfusionReport;

/// DejaVu Sans 2.37 as shipped by Debian's `fonts-dejavu-core`: the one embedded font of the
/// workspace (ser-train's learning curves use it too).
pub static FONT: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");
/// The font family name we register the embedded font under.
const FAMILY: &str = "sans-serif";

/// Cell edge in pixels; wide enough for "surprised" at the label font size.
const CELL: u32 = 78;
/// Space for the row labels on the left.
const LEFT: u32 = 120;
/// Space for the title and column labels above the grid.
const TOP: u32 = 90;
/// Margin right and below.
const MARGIN: u32 = 30;

fn register_font() -> Result<()> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED
        .get_or_init(|| plotters::style::register_font(FAMILY, FontStyle::Normal, FONT).is_ok());
    if ok {
        Ok(())
    } else {
        Err(EvalError::Plot {
            path: "ser-eval/assets/DejaVuSans.ttf".into(),
            message: "the embedded font could not be parsed".into(),
        })
    }
}

/// Size in pixels of the image for `n` classes.
fn size(n: usize) -> (u32, u32) {
    let n = u32::try_from(n).unwrap_or(u32::MAX / CELL / 2);
    (LEFT + n * CELL + MARGIN, TOP + n * CELL + MARGIN)
}

/// Matplotlib's "Blues" end points (#f7fbff to #08306b), linearly interpolated.
fn blues(v: f64) -> RGBColor {
    let v = v.clamp(0.0, 1.0);
    let lerp = |a: f64, b: f64| (a + (b - a) * v).round() as u8;
    RGBColor(lerp(247.0, 8.0), lerp(251.0, 48.0), lerp(255.0, 107.0))
}

fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    cm: &ConfusionReport,
    title: &str,
) -> std::result::Result<(), String> {
    let e = |err: DrawingAreaErrorKind<DB::ErrorType>| err.to_string();
    root.fill(&WHITE).map_err(e)?;
    let center = Pos::new(HPos::Center, VPos::Center);
    let title_style =
        TextStyle::from((FAMILY, 18).into_font()).pos(Pos::new(HPos::Left, VPos::Top));
    let small = TextStyle::from((FAMILY, 12).into_font()).pos(Pos::new(HPos::Left, VPos::Top));
    root.draw(&Text::new(title.to_string(), (10, 8), title_style))
        .map_err(e)?;
    root.draw(&Text::new(
        "rows: true class, columns: predicted class; cell: row fraction (count)".to_string(),
        (10, 34),
        small,
    ))
    .map_err(e)?;

    let label_font = TextStyle::from((FAMILY, 13).into_font());
    let (left, top, cell) = (LEFT as i32, TOP as i32, CELL as i32);
    for (j, label) in cm.labels.iter().enumerate() {
        let x = left + j as i32 * cell + cell / 2;
        root.draw(&Text::new(
            label.clone(),
            (x, top - 14),
            label_font.pos(center),
        ))
        .map_err(e)?;
    }
    for (i, (label, row)) in cm.labels.iter().zip(&cm.counts).enumerate() {
        let y = top + i as i32 * cell;
        root.draw(&Text::new(
            label.clone(),
            (left - 8, y + cell / 2),
            label_font.pos(Pos::new(HPos::Right, VPos::Center)),
        ))
        .map_err(e)?;
        for (j, &count) in row.iter().enumerate() {
            let rate = cm
                .normalized
                .get(i)
                .and_then(|r| r.get(j))
                .copied()
                .unwrap_or(0.0);
            let x = left + j as i32 * cell;
            root.draw(&Rectangle::new(
                [(x, y), (x + cell, y + cell)],
                blues(rate).filled(),
            ))
            .map_err(e)?;
            root.draw(&Rectangle::new(
                [(x, y), (x + cell, y + cell)],
                RGBColor(200, 200, 200).stroke_width(1),
            ))
            .map_err(e)?;
            // White text on dark cells, as matplotlib's ConfusionMatrixDisplay does.
            let color = if rate > 0.5 { WHITE } else { BLACK };
            let text = TextStyle::from((FAMILY, 14).into_font())
                .color(&color)
                .pos(center);
            root.draw(&Text::new(
                format!("{rate:.2}"),
                (x + cell / 2, y + cell / 2 - 9),
                text.clone(),
            ))
            .map_err(e)?;
            root.draw(&Text::new(
                format!("({count})"),
                (x + cell / 2, y + cell / 2 + 10),
                text,
            ))
            .map_err(e)?;
        }
    }
    root.present().map_err(e)
}

/// Writes the confusion matrix as an SVG file (atomically).
///
/// # Errors
///
/// [`EvalError::Plot`] if drawing fails, [`EvalError::Io`] if writing fails.
pub fn confusion_svg(path: &Path, cm: &ConfusionReport, title: &str) -> Result<()> {
    register_font()?;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size(cm.labels.len())).into_drawing_area();
        draw(&root, cm, title).map_err(|message| EvalError::Plot {
            path: path.to_path_buf(),
            message,
        })?;
    }
    crate::fsutil::write_atomic(path, svg.as_bytes())
}

/// Writes the confusion matrix as a PNG file (drawn to a temporary file, then renamed).
///
/// # Errors
///
/// [`EvalError::Plot`] if drawing or encoding fails, [`EvalError::Io`] if renaming fails.
pub fn confusion_png(path: &Path, cm: &ConfusionReport, title: &str) -> Result<()> {
    register_font()?;
    let plot_err = |message| EvalError::Plot {
        path: path.to_path_buf(),
        message,
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|source| EvalError::Io {
            action: "creating the directory of",
            path: path.to_path_buf(),
            source,
        })?;
    }
    // BitMapBackend picks the encoder from the extension, which the staged name keeps.
    let staged = ser_fs::StagedFile::new(path);
    {
        let root = BitMapBackend::new(staged.path(), size(cm.labels.len())).into_drawing_area();
        draw(&root, cm, title).map_err(plot_err)?;
    }
    staged.commit().map_err(|source| EvalError::Io {
        action: "renaming a temporary file onto",
        path: path.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cm() -> ConfusionReport {
        ConfusionReport {
            labels: vec!["neutral".into(), "surprised".into(), "angry".into()],
            counts: vec![vec![3, 1, 0], vec![0, 4, 0], vec![1, 0, 0]],
            normalized: vec![
                vec![0.75, 0.25, 0.0],
                vec![0.0, 1.0, 0.0],
                vec![1.0, 0.0, 0.0],
            ],
        }
    }

    #[test]
    fn writes_png_with_text_and_svg() {
        let dir = tempfile::tempdir().unwrap();
        let png = dir.path().join("confusion.png");
        let svg = dir.path().join("confusion.svg");
        confusion_png(&png, &cm(), "test").unwrap();
        confusion_svg(&svg, &cm(), "test").unwrap();
        let bytes = std::fs::read(&png).unwrap();
        assert_eq!(&bytes[1..4], b"PNG");
        let text = std::fs::read_to_string(&svg).unwrap();
        assert!(text.contains("surprised") && text.contains("(4)"));
        // Only the two images remain (the temporary PNG was renamed).
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
    }

    #[test]
    fn colour_scale_endpoints() {
        assert_eq!(blues(0.0), RGBColor(247, 251, 255));
        assert_eq!(blues(1.0), RGBColor(8, 48, 107));
    }
}
