//! Regression tests for issue 25's decoder findings (2, 3 and the decoder parts of 7). Each
//! input is generated here, from the committed fixtures or by hand; the reproducer files in
//! `../shared/repro` are not copied into the repository.

#![allow(clippy::unwrap_used)] // tests: a panic is a failed test

use std::time::{Duration, Instant};

use ser_audio::{
    Audio, DecodeLimits, Error, MAX_SAMPLE_MAGNITUDE, decode, read_wav_bytes, resample,
};

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn limit(secs: f64) -> DecodeLimits {
    DecodeLimits::with_max_secs(Some(secs))
}

// ---------------------------------------------------------------------------------------------
// Ogg helpers: page CRC, Vorbis identification header patching, and a long stream made of
// repeated audio pages.

/// CRC-32 of an Ogg page (RFC 3533 section 6 and the Ogg framing spec: generator 0x04c11db7,
/// initial value 0, no reflection, no final XOR, computed with the CRC field zeroed), as
/// `make_vorbis_bomb.py` computes it.
fn ogg_crc(page: &[u8]) -> u32 {
    let mut crc = 0u32;
    for &byte in page {
        crc ^= u32::from(byte) << 24;
        for _ in 0..8 {
            crc = if crc & 0x8000_0000 != 0 {
                (crc << 1) ^ 0x04C1_1DB7
            } else {
                crc << 1
            };
        }
    }
    crc
}

/// `(start, len)` of every page of an Ogg stream.
fn ogg_pages(b: &[u8]) -> Vec<(usize, usize)> {
    let mut pages = Vec::new();
    let mut pos = 0;
    while pos + 27 <= b.len() && &b[pos..pos + 4] == b"OggS" {
        let nseg = usize::from(b[pos + 26]);
        let body: usize = b[pos + 27..pos + 27 + nseg]
            .iter()
            .map(|&x| usize::from(x))
            .sum();
        let len = 27 + nseg + body;
        pages.push((pos, len));
        pos += len;
    }
    pages
}

fn fix_crc(page: &mut [u8]) {
    page[22..26].fill(0);
    let crc = ogg_crc(page);
    page[22..26].copy_from_slice(&crc.to_le_bytes());
}

/// The Vorbis fixture with its identification header's channel count and/or rate replaced
/// (Vorbis I spec 4.2.2: after "\x01vorbis", version u32, channels u8, rate u32), the first
/// page's CRC recomputed: what `make_vorbis_bomb.py` does.
fn patched_vorbis(ogg: &[u8], channels: Option<u8>, rate: Option<u32>) -> Vec<u8> {
    let mut b = ogg.to_vec();
    let (start, len) = ogg_pages(&b)[0];
    let i = b.windows(7).position(|w| w == b"\x01vorbis").unwrap();
    assert!(i < start + len);
    if let Some(c) = channels {
        b[i + 11] = c;
    }
    if let Some(r) = rate {
        b[i + 12..i + 16].copy_from_slice(&r.to_le_bytes());
    }
    fix_crc(&mut b[start..start + len]);
    b
}

/// The Vorbis fixture's audio pages repeated `copies` times after its header pages, with page
/// sequence numbers, granule positions, end-of-stream flags and CRCs fixed: a valid stream
/// `copies` times as long (2 s each) at about 10 KB per copy.
fn long_vorbis(ogg: &[u8], copies: usize) -> Vec<u8> {
    let pages = ogg_pages(ogg);
    let granule = |p: &[u8]| u64::from_le_bytes(p[6..14].try_into().unwrap());
    // Header pages carry granule position 0; audio pages a positive one (or -1 when no packet
    // ends on the page).
    let first_audio = pages
        .iter()
        .position(|&(s, l)| granule(&ogg[s..s + l]) != 0)
        .unwrap();
    let (ls, ll) = *pages.last().unwrap();
    let per_copy = granule(&ogg[ls..ls + ll]);
    let mut out = Vec::new();
    for &(s, l) in &pages[..first_audio] {
        out.extend_from_slice(&ogg[s..s + l]);
    }
    let mut seq = first_audio as u32;
    for k in 0..copies {
        for (j, &(s, l)) in pages[first_audio..].iter().enumerate() {
            let mut p = ogg[s..s + l].to_vec();
            let g = granule(&p);
            if g != u64::MAX {
                p[6..14].copy_from_slice(&(g + k as u64 * per_copy).to_le_bytes());
            }
            p[18..22].copy_from_slice(&seq.to_le_bytes());
            seq += 1;
            let last = k + 1 == copies && first_audio + j + 1 == pages.len();
            if !last {
                p[5] &= !0x04; // end of stream only on the final page
            }
            fix_crc(&mut p);
            out.extend_from_slice(&p);
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Finding 2: the Ogg/Vorbis decode bomb, and the sample cap in every decoder path.

#[test]
fn issue25_vorbis_rate_bomb_is_refused_from_the_header_before_decoding() {
    // A 100-copy stream (200 s, about 1 MB) whose header claims a 4 GHz rate, like
    // bomb_rate4G_3600s.ogg. Before: the 8-192 kHz check ran after decoding all of it, and the
    // duration limit, computed at the claimed rate, never triggered.
    let long = long_vorbis(&fixture("speech_22k_stereo.ogg"), 100);
    let bomb = patched_vorbis(&long, None, Some(4_000_000_000));
    let started = Instant::now();
    let err = decode(&bomb, &limit(60.0)).unwrap_err();
    let refused_in = started.elapsed();
    assert!(
        matches!(
            err,
            Error::SampleRate {
                rate: 4_000_000_000,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(err.code(), "unsupported_sample_rate");
    // Decoding the same stream at its true rate (up to the 60 s limit) is the work the bomb
    // used to cause; the refusal must cost a small fraction of it.
    let started = Instant::now();
    let honest = decode(&long, &DecodeLimits::default()).unwrap();
    let decode_all = started.elapsed();
    assert!((honest.audio.duration_secs() - 200.0).abs() < 1.0);
    assert!(
        refused_in < Duration::from_millis(50) && refused_in * 10 < decode_all,
        "refused in {refused_in:?}, a full decode takes {decode_all:?}"
    );
    // Without a duration limit the default sample cap still applies; the rate is refused
    // first anyway.
    let err = decode(&bomb, &DecodeLimits::default()).unwrap_err();
    assert_eq!(err.code(), "unsupported_sample_rate", "{err}");
    for rate in [0, 1, 7_999, 192_001, u32::MAX] {
        let err = decode(&patched_vorbis(&long, None, Some(rate)), &limit(60.0)).unwrap_err();
        assert!(
            matches!(err.code(), "unsupported_sample_rate" | "corrupt_audio"),
            "{rate}: {err}"
        );
    }
}

#[test]
fn issue25_vorbis_channel_counts_out_of_range_are_refused() {
    let ogg = fixture("speech_22k_stereo.ogg");
    for channels in [0u8, 65, 255] {
        let err = decode(&patched_vorbis(&ogg, Some(channels), None), &limit(60.0)).unwrap_err();
        assert!(
            matches!(err.code(), "unsupported_format" | "corrupt_audio"),
            "{channels} channels: {err}"
        );
    }
}

#[test]
fn issue25_decoding_stops_at_the_limit_before_storing_more() {
    // MP3 has no exact length in its header (symphonia estimates it), so the limit is met while
    // decoding: refused at the first frame past it, and the message says decoding stopped.
    let mp3 = fixture("speech_22k_mono.mp3");
    match decode(&mp3, &limit(0.5)).unwrap_err() {
        Error::TooLong {
            duration_secs,
            at_least: true,
            ..
        } => assert!((0.5..=0.5 + 1152.0 / 22_050.0).contains(&duration_secs)),
        other => panic!("expected TooLong {{ at_least: true }}, got {other}"),
    }
    // The sample cap without a duration limit, in every decoder path: stopped within one
    // packet (FLAC blocks hold at most 4608 frames here), or before decoding for WAV.
    let cap = DecodeLimits {
        max_secs: None,
        max_samples: 10_000,
    };
    for name in [
        "speech_22k_mono.flac",
        "speech_22k_mono.mp3",
        "speech_22k_stereo.ogg",
    ] {
        match decode(&fixture(name), &cap).unwrap_err() {
            Error::TooManySamples {
                duration_secs,
                at_least: true,
                ..
            } => assert!(duration_secs * 22_050.0 <= 10_000.0 + 4608.0, "{name}"),
            other => panic!("{name}: expected TooManySamples, got {other}"),
        }
    }
    let wav = ser_audio::encode_wav_16(&Audio::new(vec![0.1; 20_000], 16_000)).unwrap();
    let err = decode(&wav, &cap).unwrap_err();
    assert!(
        matches!(
            err,
            Error::TooManySamples {
                at_least: false,
                ..
            }
        ),
        "{err}"
    );
    assert!(read_wav_bytes(&wav).is_ok(), "the default cap is generous");
}

// ---------------------------------------------------------------------------------------------
// Finding 3: huge finite floats.

/// A mono 32-bit float WAV.
fn float_wav(samples: &[f32], rate: u32) -> Vec<u8> {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: rate,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let mut cursor = std::io::Cursor::new(Vec::new());
    let mut w = hound::WavWriter::new(&mut cursor, spec).unwrap();
    for &s in samples {
        w.write_sample(s).unwrap();
    }
    w.finalize().unwrap();
    cursor.into_inner()
}

#[test]
fn issue25_huge_float_samples_are_refused_before_resampling_naming_sample_and_time() {
    // onehuge_48k.wav: 1 s at 48 kHz, two samples of 3.4e38. Before: decoded fine, then
    // rubato panicked ("Imaginary part of first value was non-zero").
    let mut samples: Vec<f32> = (0..48_000).map(|i| 0.3 * (i as f32 * 0.05).sin()).collect();
    samples[1000] = 3.4e38;
    samples[1001] = 3.4e38;
    let err = read_wav_bytes(&float_wav(&samples, 48_000)).unwrap_err();
    match &err {
        Error::SampleOutOfRange {
            index, time_secs, ..
        } => {
            assert_eq!(*index, 1000);
            assert!((time_secs - 1000.0 / 48_000.0).abs() < 1e-9);
        }
        other => panic!("expected SampleOutOfRange, got {other}"),
    }
    assert!(
        err.to_string().contains("sample 1000 (at 0.021 s)"),
        "{err}"
    );
    let err = decode(&float_wav(&samples, 48_000), &limit(60.0)).unwrap_err();
    assert_eq!(err.code(), "corrupt_audio", "{err}");
    // The resampler itself refuses such audio instead of panicking.
    let err = resample(&Audio::new(samples, 48_000), 16_000).unwrap_err();
    assert_eq!(err.code(), "resample_failed", "{err}");

    // bigfloat_1e36_48k.wav: samples near 1e36 everywhere. Before: every resampled sample
    // came out NaN ("non-finite sample NaN", a 500).
    let big: Vec<f32> = (0..48_000)
        .map(|i| 1e36 * (i as f32 * 0.05).sin())
        .collect();
    let err = decode(&float_wav(&big, 48_000), &limit(60.0)).unwrap_err();
    assert!(matches!(err, Error::SampleOutOfRange { .. }), "{err}");
    // Overs up to the bound are audio, not corruption.
    let loud: Vec<f32> = (0..4_800)
        .map(|i| MAX_SAMPLE_MAGNITUDE * (i as f32 * 0.05).sin())
        .collect();
    let ok = decode(&float_wav(&loud, 48_000), &limit(60.0)).unwrap();
    assert!(resample(&ok.audio, 16_000).is_ok());
}

// ---------------------------------------------------------------------------------------------
// Finding 7 (decoder parts): streamed WAVs, header-only WAVs, unsupported encodings, the
// duration message, damaged MP3 frames.

/// A WAV by hand: `fmt` with the given tag, channels, rate and bits; a `LIST` chunk as FFmpeg
/// writes; the data chunk declaring `data_size` (`None`: the real size); the RIFF size
/// `riff_size` (`None`: the real size).
fn hand_wav(
    tag: u16,
    channels: u16,
    rate: u32,
    bits: u16,
    data: &[u8],
    data_size: Option<u32>,
    riff_size: Option<u32>,
) -> Vec<u8> {
    let block = channels * bits / 8;
    let mut body = b"WAVEfmt ".to_vec();
    body.extend_from_slice(&16u32.to_le_bytes());
    body.extend_from_slice(&tag.to_le_bytes());
    body.extend_from_slice(&channels.to_le_bytes());
    body.extend_from_slice(&rate.to_le_bytes());
    body.extend_from_slice(&(rate * u32::from(block)).to_le_bytes());
    body.extend_from_slice(&block.to_le_bytes());
    body.extend_from_slice(&bits.to_le_bytes());
    body.extend_from_slice(b"LIST");
    body.extend_from_slice(&26u32.to_le_bytes());
    body.extend_from_slice(b"INFOISFT\x0e\0\0\0Lavf59.27.100\0");
    body.extend_from_slice(b"data");
    body.extend_from_slice(&data_size.unwrap_or(data.len() as u32).to_le_bytes());
    body.extend_from_slice(data);
    let mut out = b"RIFF".to_vec();
    out.extend_from_slice(&riff_size.unwrap_or(body.len() as u32).to_le_bytes());
    out.extend_from_slice(&body);
    out
}

fn pcm16(x: &[i16]) -> Vec<u8> {
    x.iter().flat_map(|v| v.to_le_bytes()).collect()
}

#[test]
fn issue25_streamed_wav_with_placeholder_sizes_is_read_to_the_end() {
    // What `ffmpeg -f wav -` writes (ffpipe.wav): RIFF and data sizes 0xFFFFFFFF, a LIST
    // chunk; SoX's placeholder is 0x7FFFF000. A stray last byte (half a frame) is dropped.
    let values: Vec<i16> = (0..16_000)
        .map(|i| ((i * 37) % 20_000 - 10_000) as i16)
        .collect();
    let mut data = pcm16(&values);
    data.push(0x7F);
    for (data_size, riff_size) in [(u32::MAX, u32::MAX), (0x7FFF_F000, 0x7FFF_F024)] {
        let wav = hand_wav(1, 1, 16_000, 16, &data, Some(data_size), Some(riff_size));
        let d = decode(&wav, &limit(60.0)).unwrap();
        assert_eq!(
            d.audio.samples.len(),
            values.len(),
            "data size {data_size:#x}"
        );
        assert_eq!(d.audio.samples[3], f32::from(values[3]) / 32768.0);
        assert_eq!(read_wav_bytes(&wav).unwrap().samples.len(), values.len());
    }
    // Any other declared size past the end is still a truncated file.
    let cut = hand_wav(1, 1, 16_000, 16, &data, Some(40_000), None);
    let err = decode(&cut, &limit(60.0)).unwrap_err();
    assert!(matches!(err, Error::Truncated { .. }), "{err}");
}

#[test]
fn issue25_header_only_wav_is_no_samples_not_corrupt() {
    // hdr44.wav: a canonical 44-byte header, data size 0. Before: `corrupt_audio`.
    let mut hdr44 = hand_wav(1, 1, 16_000, 16, &[], None, None);
    // hand_wav adds a LIST chunk; drop it for the canonical 44 bytes.
    hdr44.drain(36..36 + 34);
    hdr44[4..8].copy_from_slice(&36u32.to_le_bytes());
    assert_eq!(hdr44.len(), 44);
    let err = decode(&hdr44, &limit(60.0)).unwrap_err();
    assert_eq!(err.code(), "no_samples", "{err}");
}

#[test]
fn issue25_unsupported_wav_encodings_are_unsupported_format_without_a_placeholder() {
    // Before: 422 `corrupt_audio` with a literal `<bytes>` in the message.
    for (tag, bits, name) in [
        (6u16, 8u16, "A-law"),
        (7, 8, "mu-law"),
        (3, 64, "64-bit IEEE float"),
        (2, 4, "Microsoft ADPCM"),
        (1, 12, "12-bit integer PCM"),
    ] {
        let wav = hand_wav(tag, 1, 8_000, bits, &[0; 64], None, None);
        let err = decode(&wav, &limit(60.0)).unwrap_err();
        let msg = err.to_string();
        assert_eq!(err.code(), "unsupported_format", "{name}: {msg}");
        assert!(msg.contains(name), "{msg}");
        assert!(!msg.contains('<'), "{msg}");
    }
}

#[test]
fn issue25_the_duration_message_is_the_real_length_or_says_decoding_stopped() {
    // Before: "audio is 60.0 s long; the limit is 60.0 s" for a 600 s file (the length decoded
    // when the limit was passed). Exact lengths come from the header: WAV data size, Ogg
    // granule position, FLAC STREAMINFO.
    let wav = hand_wav(1, 1, 8_000, 8, &vec![128u8; 8_000 * 60], None, None);
    let msg = decode(&wav, &limit(6.0)).unwrap_err().to_string();
    assert!(
        msg.starts_with("audio is 60.0 s long; the limit is 6.0 s"),
        "{msg}"
    );
    let ogg = long_vorbis(&fixture("speech_22k_stereo.ogg"), 30);
    let msg = decode(&ogg, &limit(6.0)).unwrap_err().to_string();
    assert!(msg.starts_with("audio is 60.0"), "{msg}");
    let msg = decode(&fixture("speech_22k_mono.flac"), &limit(0.5))
        .unwrap_err()
        .to_string();
    assert!(
        msg.starts_with("audio is 2.0 s long; the limit is 0.5 s"),
        "{msg}"
    );
    // MP3: the length is not known until the end, so the message says where decoding stopped.
    let msg = decode(&fixture("speech_22k_mono.mp3"), &limit(0.5))
        .unwrap_err()
        .to_string();
    assert!(!msg.contains("is 0.5 s long"), "{msg}");
    assert!(
        msg.contains("longer than the 0.5 s limit (decoding stopped after 0.5 s)"),
        "{msg}"
    );
}

/// Byte offsets of the MPEG-2 layer III frames of the MP3 fixture (22.05 kHz, no CRC):
/// frame length = 72000 x kbit/s / rate + padding (ISO/IEC 13818-3, 2.4.3.1).
fn mp3_frames(b: &[u8]) -> Vec<usize> {
    const KBPS: [usize; 15] = [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160];
    let mut frames = Vec::new();
    let mut pos = 0;
    while pos + 4 <= b.len() && b[pos] == 0xFF && b[pos + 1] & 0xE0 == 0xE0 {
        let kbps = KBPS[usize::from(b[pos + 2] >> 4).min(14)];
        assert_eq!((b[pos + 2] >> 2) & 3, 0, "22.05 kHz");
        frames.push(pos);
        pos += 72_000 * kbps / 22_050 + usize::from((b[pos + 2] >> 1) & 1);
    }
    frames
}

/// The MP3 fixture with the side information of the frames `damage(k)` picks (after the
/// first, the Xing frame) overwritten with 0xFF: such frames fail to decode.
fn damaged_mp3(damage: impl Fn(usize) -> bool) -> Vec<u8> {
    let mut b = fixture("speech_22k_mono.mp3");
    for (k, pos) in mp3_frames(&b).into_iter().enumerate().skip(1) {
        if damage(k) {
            b[pos + 4..pos + 12].fill(0xFF);
        }
    }
    b
}

#[test]
fn issue25_damaged_mp3_frames_are_counted_once_and_mostly_damaged_files_refused() {
    // flip_good.mp3 gave one log line per damaged frame (453) and no word in the answer. Now
    // the decoder logs nothing and returns the count, once.
    let clean = decode(&fixture("speech_22k_mono.mp3"), &limit(60.0)).unwrap();
    assert_eq!(clean.damaged_packets, 0);
    assert_eq!(clean.warning(), None);
    let d = decode(&damaged_mp3(|k| k % 10 == 0), &limit(60.0)).unwrap();
    assert_eq!(d.packets, clean.packets);
    assert!(
        (5..=9).contains(&d.damaged_packets),
        "{}",
        d.damaged_packets
    );
    let w = d.warning().unwrap();
    assert_eq!(
        w,
        format!(
            "{} of {} MP3 frames are damaged and were skipped",
            d.damaged_packets, d.packets
        )
    );
    // More than half the frames damaged: refused, saying so (not "truncated").
    let err = decode(&damaged_mp3(|k| k % 4 != 0), &limit(60.0)).unwrap_err();
    let msg = err.to_string();
    assert_eq!(err.code(), "corrupt_audio");
    assert!(msg.contains("frames are damaged, more than 50%"), "{msg}");
    let err = decode(&damaged_mp3(|_| true), &limit(60.0)).unwrap_err();
    assert!(
        err.to_string().contains("none of its 79 frames decode"),
        "{err}"
    );
}
