//! WAV decoding: every supported encoding, extra chunks, downmixing, and a typed error that
//! names the file and the reason for every kind of bad file.

#![allow(clippy::unwrap_used)] // tests: a panic is a failed test

use std::path::Path;

use ser_audio::{Error, read_wav, read_wav_bytes, read_wav_with_info};

/// Maximum decode error relative to full scale for `b`-bit PCM (half an LSB plus rounding).
fn lsb(bits: u16) -> f32 {
    1.0 / (1u64 << (bits - 1)) as f32
}

fn signal(n: usize) -> Vec<f32> {
    (0..n).map(|i| 0.6 * (i as f32 * 0.037).sin()).collect()
}

fn write_int(path: &Path, bits: u16, channels: u16, x: &[f32]) {
    let spec = hound::WavSpec {
        channels,
        sample_rate: 22_050,
        bits_per_sample: bits,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    let scale = ((1i64 << (bits - 1)) - 1) as f32;
    for (i, &v) in x.iter().enumerate() {
        for c in 0..channels {
            // Second channel at half amplitude so the downmix is checkable.
            let s = if c == 0 { v } else { 0.5 * v };
            let q = (s * scale).round() as i32;
            match bits {
                8 => w.write_sample(q as i8).unwrap(),
                16 => w.write_sample(q as i16).unwrap(),
                _ => w.write_sample(q).unwrap(),
            }
        }
        let _ = i;
    }
    w.finalize().unwrap();
}

#[test]
fn pcm_8_16_24_32_bit_mono() {
    let dir = tempfile::tempdir().unwrap();
    let x = signal(5000);
    for bits in [8u16, 16, 24, 32] {
        let p = dir.path().join(format!("pcm{bits}.wav"));
        write_int(&p, bits, 1, &x);
        let (a, info) = read_wav_with_info(&p).unwrap();
        assert_eq!(info.bits_per_sample, bits);
        assert_eq!(a.sample_rate, 22_050);
        assert_eq!(a.samples.len(), x.len());
        for (u, v) in a.samples.iter().zip(&x) {
            // Written with scale 2^(b-1)-1, read with 2^(b-1): up to 1.5 LSB apart.
            assert!((u - v).abs() <= 1.5 * lsb(bits), "{bits}-bit: {u} vs {v}");
        }
    }
}

#[test]
fn float_32_and_stereo_downmix() {
    let dir = tempfile::tempdir().unwrap();
    let x = signal(3000);
    let p = dir.path().join("float.wav");
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 48_000,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let mut w = hound::WavWriter::create(&p, spec).unwrap();
    for &v in &x {
        w.write_sample(v).unwrap();
    }
    w.finalize().unwrap();
    let a = read_wav(&p).unwrap();
    assert_eq!(a.samples, x);

    for bits in [16u16, 24] {
        let p = dir.path().join(format!("stereo{bits}.wav"));
        write_int(&p, bits, 2, &x);
        let (a, info) = read_wav_with_info(&p).unwrap();
        assert_eq!(info.channels, 2);
        assert_eq!(a.samples.len(), x.len());
        for (u, v) in a.samples.iter().zip(&x) {
            assert!((u - 0.75 * v).abs() <= 2.0 * lsb(bits));
        }
    }
}

/// Minimal PCM WAV by hand: `chunks_before` go between "WAVE" and "fmt ", `chunks_after`
/// after the data chunk.
fn hand_wav(
    tag: u16,
    bits: u16,
    data: &[u8],
    before: &[(&[u8; 4], Vec<u8>)],
    after: &[(&[u8; 4], Vec<u8>)],
) -> Vec<u8> {
    let mut body = b"WAVE".to_vec();
    let push = |body: &mut Vec<u8>, id: &[u8; 4], payload: &[u8]| {
        body.extend_from_slice(id);
        body.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        body.extend_from_slice(payload);
        if payload.len() % 2 == 1 {
            body.push(0);
        }
    };
    for (id, p) in before {
        push(&mut body, id, p);
    }
    let block = bits / 8;
    let mut fmt = Vec::new();
    fmt.extend_from_slice(&tag.to_le_bytes());
    fmt.extend_from_slice(&1u16.to_le_bytes());
    fmt.extend_from_slice(&8000u32.to_le_bytes());
    fmt.extend_from_slice(&(8000 * u32::from(block)).to_le_bytes());
    fmt.extend_from_slice(&block.to_le_bytes());
    fmt.extend_from_slice(&bits.to_le_bytes());
    push(&mut body, b"fmt ", &fmt);
    push(&mut body, b"data", data);
    for (id, p) in after {
        push(&mut body, id, p);
    }
    let mut out = b"RIFF".to_vec();
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend_from_slice(&body);
    out
}

fn pcm16(x: &[i16]) -> Vec<u8> {
    x.iter().flat_map(|v| v.to_le_bytes()).collect()
}

#[test]
fn extra_chunks_like_ravdess_originals_are_skipped() {
    let data = pcm16(&[0, 1000, -1000, 16384, -16384]);
    // FLLR before fmt/data, LIST/bext/_PMX after data, as in the RAVDESS originals; odd sizes
    // exercise the RIFF pad byte.
    let bytes = hand_wav(
        1,
        16,
        &data,
        &[(b"FLLR", vec![0; 7]), (b"JUNK", vec![1, 2, 3])],
        &[
            (b"LIST", b"INFOISFT\x05\0\0\0Lavf\0".to_vec()),
            (b"bext", vec![0; 603]),
            (b"_PMX", b"<x/>".to_vec()),
        ],
    );
    let a = read_wav_bytes(&bytes).unwrap();
    assert_eq!(a.samples.len(), 5);
    assert!((a.samples[3] - 0.5).abs() < 1e-6);
    // A fact chunk longer than 4 bytes (hound alone reads only 4) is fine too.
    let bytes = hand_wav(1, 16, &data, &[(b"fact", vec![5, 0, 0, 0, 9, 9])], &[]);
    assert_eq!(read_wav_bytes(&bytes).unwrap().samples.len(), 5);
}

/// The error reading `bytes` from a file called `name` (without its file name, which the
/// message must carry), and the message.
fn err_of(name: &str, bytes: &[u8]) -> (Error, String) {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join(name);
    std::fs::write(&p, bytes).unwrap();
    let e = read_wav(&p).unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains(name), "error does not name the file: {msg}");
    let Error::InFile { error, .. } = e else {
        panic!("a file error is Error::InFile: {msg}");
    };
    (*error, msg)
}

#[test]
fn bad_files_give_typed_errors_naming_file_and_reason() {
    let good = hand_wav(1, 16, &pcm16(&[1, 2, 3, 4, 5, 6, 7, 8]), &[], &[]);

    let (e, m) = err_of("empty.wav", &[]);
    assert!(
        matches!(e, Error::EmptyInput) && m.contains("0 bytes"),
        "{m}"
    );

    let (e, m) = err_of("text.wav", b"hello, this is not audio");
    assert!(
        matches!(e, Error::NotRiff { .. }) && m.contains("RIFF"),
        "{m}"
    );

    let (e, m) = err_of("mp3.wav", b"ID3\x04\0\0\0\0\0\0");
    assert!(matches!(e, Error::NotRiff { .. }), "{m}");

    let (e, m) = err_of("cut_data.wav", &good[..good.len() - 5]);
    assert!(
        matches!(e, Error::Truncated { .. }) && m.contains("data chunk"),
        "{m}"
    );

    let (e, m) = err_of("cut_header.wav", &good[..20]);
    assert!(matches!(e, Error::Truncated { .. }), "{m}");

    let (e, m) = err_of("tiny.wav", b"RIF");
    assert!(matches!(e, Error::Truncated { .. }), "{m}");

    let (e, m) = err_of("no_samples.wav", &hand_wav(1, 16, &[], &[], &[]));
    assert!(matches!(e, Error::NoSamples { .. }), "{m}");

    let (e, m) = err_of("double.wav", &hand_wav(3, 64, &[0; 16], &[], &[]));
    assert!(
        matches!(e, Error::Unsupported { .. }) && m.contains("64-bit IEEE float"),
        "{m}"
    );

    let (e, m) = err_of("alaw.wav", &hand_wav(6, 8, &[0; 16], &[], &[]));
    assert!(
        matches!(e, Error::Unsupported { .. }) && m.contains("A-law"),
        "{m}"
    );

    let (e, m) = err_of("pcm12.wav", &hand_wav(1, 12, &[0; 16], &[], &[]));
    assert!(
        matches!(e, Error::Unsupported { .. }) && m.contains("12-bit"),
        "{m}"
    );

    let mut rf64 = good.clone();
    rf64[..4].copy_from_slice(b"RF64");
    let (e, _) = err_of("big.wav", &rf64);
    assert!(matches!(e, Error::Unsupported { .. }));

    let mut avi = good.clone();
    avi[8..12].copy_from_slice(b"AVI ");
    let (e, m) = err_of("video.wav", &avi);
    assert!(
        matches!(e, Error::NotRiff { .. }) && m.contains("AVI"),
        "{m}"
    );

    // Missing file: an I/O error naming the path.
    let e = read_wav("/definitely/not/here.wav").unwrap_err();
    assert!(matches!(e, Error::Io { .. }) && e.to_string().contains("not/here.wav"));

    // In-memory input has no name: no placeholder such as `<bytes>` in the message.
    let e = read_wav_bytes(b"nope").unwrap_err();
    assert!(matches!(e, Error::NotRiff { .. }), "{e}");
    assert!(!e.to_string().contains('<'), "{e}");
}

#[test]
fn trailing_partial_frame_is_dropped() {
    let mut data = pcm16(&[100, 200, 300]);
    data.push(7); // one stray byte
    let bytes = hand_wav(1, 16, &data, &[], &[]);
    assert_eq!(read_wav_bytes(&bytes).unwrap().samples.len(), 3);
}
