//! End-to-end tests of the real `ser-features` binary on generated WAV files.
#![allow(clippy::unwrap_used)] // tests may unwrap (brief)

use std::path::Path;
use std::process::Command;

use dsp_features::npy::read_npy;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_ser-features"))
}

/// Write a mono 16-bit WAV of `seconds` of a 440 Hz tone plus a harmonic.
fn write_wav(path: &Path, rate: u32, seconds: f32) {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    let n = (rate as f32 * seconds) as usize;
    for i in 0..n {
        let t = i as f32 / rate as f32;
        let v = 0.4 * (2.0 * std::f32::consts::PI * 440.0 * t).sin()
            + 0.1 * (2.0 * std::f32::consts::PI * 1320.0 * t).sin();
        w.write_sample((v * i16::MAX as f32) as i16).unwrap();
    }
    w.finalize().unwrap();
}

fn npy_header(path: &Path) -> String {
    let bytes = std::fs::read(path).unwrap();
    assert_eq!(&bytes[..8], b"\x93NUMPY\x01\x00");
    let len = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
    assert_eq!((10 + len) % 64, 0, "header padded to 64 bytes");
    String::from_utf8(bytes[10..10 + len].to_vec()).unwrap()
}

#[test]
fn default_logmel_npy_has_librosa_orientation() {
    let dir = tempfile::tempdir().unwrap();
    let wav = dir.path().join("tone.wav");
    write_wav(&wav, 16_000, 1.0);
    let out = dir.path().join("tone.npy");
    let st = bin().arg(&wav).arg("--out").arg(&out).output().unwrap();
    assert!(
        st.status.success(),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );
    let header = npy_header(&out);
    assert!(
        header.starts_with("{'descr': '<f4', 'fortran_order': False, 'shape': (64, 101), }"),
        "{header}"
    );
    let (shape, v) = read_npy(std::fs::File::open(&out).unwrap()).unwrap();
    assert_eq!(shape, vec![64, 101]);
    assert!(v.iter().all(|x| x.is_finite()));
    // The 440 Hz tone is loud: the top of the log-mel is above 0 dB, far from the -100 dB floor.
    assert!(v.iter().cloned().fold(f32::MIN, f32::max) > 0.0);

    // If numpy is around, np.load must agree on the shape.
    let py = Command::new("python3")
        .arg("-c")
        .arg(format!(
            "import numpy as np; a = np.load(r'{}'); print(a.shape, a.dtype)",
            out.display()
        ))
        .output();
    match py {
        Ok(o) if o.status.success() => assert_eq!(
            String::from_utf8_lossy(&o.stdout).trim(),
            "(64, 101) float32"
        ),
        _ => eprintln!("python3 with numpy not available: skipped np.load check"),
    }
}

#[test]
fn mfcc_csv_and_options() {
    let dir = tempfile::tempdir().unwrap();
    let wav = dir.path().join("tone.wav");
    write_wav(&wav, 16_000, 0.5);
    let out = dir.path().join("mfcc.csv");
    let st = bin()
        .args([
            "--kind",
            "mfcc",
            "--n-mfcc",
            "13",
            "--deltas",
            "2",
            "--format",
            "csv",
            "--htk",
            "--n-mels",
            "40",
            "--pad-mode",
            "reflect",
        ])
        .arg(&wav)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        st.status.success(),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );
    let text = std::fs::read_to_string(&out).unwrap();
    let rows: Vec<&str> = text.lines().collect();
    assert_eq!(rows.len(), 39);
    assert!(rows.iter().all(|r| r.split(',').count() == 51));
    assert!(rows[0].split(',').all(|v| v.parse::<f32>().is_ok()));

    let out = dir.path().join("stft.npy");
    let st = bin()
        .args([
            "--kind",
            "stft",
            "--n-fft",
            "1024",
            "--win-length",
            "1024",
            "--hop-length",
            "256",
            "--no-center",
        ])
        .arg(&wav)
        .arg("-o")
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        st.status.success(),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );
    assert!(
        npy_header(&out).contains("'shape': (513, 28)"),
        "1 + (8000 - 1024) / 256 = 28 frames"
    );
}

#[test]
fn folder_in_folder_out_resamples() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    std::fs::create_dir_all(input.join("actor_01")).unwrap();
    write_wav(&input.join("a.wav"), 16_000, 1.0);
    write_wav(&input.join("actor_01/b.WAV"), 48_000, 1.0);
    std::fs::write(input.join("notes.txt"), "not audio").unwrap();
    let out = dir.path().join("out");
    let st = bin().arg(&input).arg("--out").arg(&out).output().unwrap();
    assert!(
        st.status.success(),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );
    assert!(npy_header(&out.join("a.npy")).contains("(64, 101)"));
    // 48 kHz input is resampled to 16 kHz first: same frame count.
    assert!(npy_header(&out.join("actor_01/b.npy")).contains("(64, 101)"));
    let cfg: dsp_features::FeatureConfig =
        serde_json::from_slice(&std::fs::read(out.join("feature_config.json")).unwrap()).unwrap();
    assert_eq!(cfg, dsp_features::FeatureConfig::default());
}

#[test]
fn bad_input_gives_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let missing = bin()
        .arg(dir.path().join("nope.wav"))
        .arg("-o")
        .arg(dir.path().join("x.npy"))
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("does not exist"));

    let wav = dir.path().join("tone.wav");
    write_wav(&wav, 16_000, 0.2);
    let bad = bin()
        .args(["--n-mels", "300"])
        .arg(&wav)
        .arg("-o")
        .arg(dir.path().join("x.npy"))
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    let msg = String::from_utf8_lossy(&bad.stderr);
    assert!(msg.contains("n_mels") && msg.contains("300"), "{msg}");

    let garbage = dir.path().join("garbage.wav");
    std::fs::write(&garbage, b"RIFF nonsense").unwrap();
    let g = bin()
        .arg(&garbage)
        .arg("-o")
        .arg(dir.path().join("g.npy"))
        .output()
        .unwrap();
    assert_eq!(g.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&g.stderr).contains("garbage.wav"));

    // A folder with one bad file: the good one is written, exit code 1, the bad one is named.
    let input = dir.path().join("mixed");
    std::fs::create_dir_all(&input).unwrap();
    write_wav(&input.join("good.wav"), 16_000, 0.3);
    std::fs::write(input.join("bad.wav"), b"RIFF nonsense").unwrap();
    let out = dir.path().join("mixed_out");
    let m = bin().arg(&input).arg("-o").arg(&out).output().unwrap();
    assert_eq!(m.status.code(), Some(1));
    assert!(out.join("good.npy").exists());
    assert!(String::from_utf8_lossy(&m.stderr).contains("bad.wav"));
}

/// Issue 25, finding 3: a float WAV with two samples of 3.4e38 in a folder panicked the
/// resampler and aborted the whole folder (exit 101). Now it is skipped with one named error,
/// the other files are written and the exit status is 1, as for any bad file.
#[test]
fn issue25_huge_float_samples_skip_one_file_not_the_folder() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    std::fs::create_dir_all(&input).unwrap();
    write_wav(&input.join("a.wav"), 48_000, 0.5);
    write_wav(&input.join("c.wav"), 48_000, 0.5);
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 48_000,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let mut w = hound::WavWriter::create(input.join("b_huge.wav"), spec).unwrap();
    for i in 0..48_000 {
        w.write_sample(if i == 1000 { 3.4e38_f32 } else { 0.1 })
            .unwrap();
    }
    w.finalize().unwrap();
    let out = dir.path().join("out");
    let r = bin().arg(&input).arg("-o").arg(&out).output().unwrap();
    let stderr = String::from_utf8_lossy(&r.stderr);
    assert_eq!(r.status.code(), Some(1), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(out.join("a.npy").exists() && out.join("c.npy").exists());
    assert!(!out.join("b_huge.npy").exists());
    assert!(
        stderr.contains("b_huge.wav") && stderr.contains("sample 1000"),
        "{stderr}"
    );
}
