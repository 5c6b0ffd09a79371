//! `ser-data inspect`: counts, formats, durations, duplicates and problems of a corpus.

use std::process::ExitCode;

use anyhow::Context;
use ravdess_loader::{
    CorporaOptions, CorpusSpec, Layout, LoadOptions, Summary, load_audio, open_corpora_with,
};

use crate::progress;

/// Scans the corpora of `specs` (combined when several), optionally decodes everything,
/// prints text or JSON.
pub fn run(
    specs: &[CorpusSpec],
    options: &CorporaOptions,
    json: bool,
    decode: bool,
) -> anyhow::Result<ExitCode> {
    let start = std::time::Instant::now();
    let what = specs
        .iter()
        .map(|s| s.root.display().to_string())
        .collect::<Vec<_>>()
        .join(", ");
    let corpus =
        open_corpora_with(specs, options).with_context(|| format!("opening corpus {what}"))?;
    // One corpus: its path as given (unchanged output); several: their common folder.
    let root = match specs {
        [one] => one.root.display().to_string(),
        _ => corpus.root.display().to_string(),
    };
    let scan_secs = start.elapsed().as_secs_f64();
    let mut summary = corpus.summary();
    let mut decode_secs = None;
    if decode {
        let start = std::time::Instant::now();
        let bar = progress::bar(corpus.utterances.len() as u64, "decode");
        if json {
            bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
        }
        let loaded = load_audio(corpus.utterances, &LoadOptions::default(), |done, _| {
            bar.set_position(done as u64)
        })?;
        bar.finish_and_clear();
        decode_secs = Some(start.elapsed().as_secs_f64());
        summary.clips = loaded.utterances.len();
        summary.problems.extend(loaded.problems);
    }
    if json {
        let mut v = serde_json::to_value(&summary)?;
        if let Some(obj) = v.as_object_mut() {
            obj.insert("root".into(), root.clone().into());
            obj.insert("scan_secs".into(), scan_secs.into());
            if let Some(d) = decode_secs {
                obj.insert("decode_secs".into(), d.into());
            }
        }
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        print_text(&root, &summary, scan_secs, decode_secs);
    }
    Ok(ExitCode::SUCCESS)
}

fn counts(map: &std::collections::BTreeMap<String, usize>) -> String {
    map.iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn print_text(root: &str, s: &Summary, scan_secs: f64, decode_secs: Option<f64>) {
    match &s.layout {
        Layout::Combined { corpora } => {
            println!("corpora:      {} under {root}", corpora.len());
            for p in corpora {
                println!(
                    "  {}: {} ({:?}), {} clips, {} speakers",
                    p.name,
                    p.root.display(),
                    p.layout,
                    p.clips,
                    p.speakers
                );
            }
        }
        layout => println!("corpus:       {root} ({layout:?})"),
    }
    println!("clips:        {}", s.clips);
    let actors: Vec<String> = s.actors.iter().map(u32::to_string).collect();
    // Combined corpora have only namespaced speakers (`emodb:03`), no actor numbers.
    if !actors.is_empty() || s.speakers.is_empty() {
        println!("actors:       {} [{}]", s.actors.len(), actors.join(" "));
    }
    if s.actors.len() != s.speakers.len() {
        println!("speakers:     {}", s.speakers.len());
    }
    println!("per emotion:  {}", counts(&s.per_emotion));
    println!(
        "per intensity:{}",
        if s.per_intensity.is_empty() {
            String::new()
        } else {
            format!(" {}", counts(&s.per_intensity))
        }
    );
    println!("per gender:   {}", counts(&s.per_gender));
    println!("per actor:    {}", counts(&s.per_actor));
    println!("sample rates: {}", counts(&s.sample_rates));
    println!("channels:     {}", counts(&s.channels));
    let d = &s.duration_secs;
    println!(
        "durations:    min {:.2} s, mean {:.2} s, max {:.2} s, total {:.1} min",
        d.min,
        d.mean,
        d.max,
        d.total / 60.0
    );
    print!("timing:       scan {scan_secs:.2} s");
    match decode_secs {
        Some(t) => println!(", decode+resample+trim {t:.2} s"),
        None => println!(" (add --decode to decode every clip)"),
    }
    for l in &s.left_out {
        println!("left out:     {l}");
    }
    for dup in &s.duplicates {
        println!("warning: byte-identical files: {}", dup.ids.join(" = "));
    }
    if s.problems.is_empty() {
        println!("problems:     none");
    } else {
        println!("problems:     {} file(s) skipped", s.problems.len());
        for p in &s.problems {
            println!("  {}: {}", p.path.display(), p.reason);
        }
    }
}
