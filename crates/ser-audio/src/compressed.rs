//! FLAC, MP3 and OGG/Vorbis through symphonia, within [`DecodeLimits`].
//!
//! The order matters (issue 25): the rate and channel count come from the codec parameters,
//! which symphonia fills from the header (FLAC STREAMINFO, the Vorbis identification header,
//! the first MPEG frame header), and are checked before a decoder is even made; a header that
//! states the length exactly is checked against the duration limit; then every decoded packet
//! is checked against the limits *before* its samples are stored, so decoding stops at the
//! first packet past a limit.

use std::io::Cursor;

use symphonia::core::codecs::audio::{AudioDecoder, AudioDecoderOptions};
use symphonia::core::errors::Error as SymError;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, FormatReader, TrackType};
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;

use crate::Audio;
use crate::checks::{check_rate, check_sample};
use crate::container::Container;
use crate::decode::Decoded;
use crate::error::{Error, Result};
use crate::limits::{DecodeLimits, MAX_CHANNELS};

/// A compressed stream that decodes to less than this fraction of the length its header
/// promises is reported as truncated. Not 1.0: MP3/Vorbis headers count encoder delay and
/// padding (up to ~2 frames of 1152 samples), which decoders trim.
const TRUNCATION_RATIO: f64 = 0.95;

/// A stream in which more than this fraction of the packets are damaged is refused as corrupt
/// rather than answered from the rest.
///
/// Why one half: a player skips a damaged MP3 frame (26 ms at 44.1 kHz) and the listener hears
/// a click, so a file with a few damaged frames is still the recording; but when most of the
/// packets are gone what is left is fragments, and an emotion read from fragments is not an
/// answer about the recording. Below the threshold the damage is reported
/// ([`Decoded::damaged_packets`], [`Decoded::warning`]), not hidden.
pub const MAX_DAMAGED_FRACTION: f64 = 0.5;

/// An opened stream, its header checked.
struct Stream<'a> {
    reader: Box<dyn FormatReader + 'a>,
    decoder: Box<dyn AudioDecoder>,
    track_id: u32,
    rate: u32,
    /// Channels the header states (`None` when it does not; the first packet decides).
    channels: Option<usize>,
    /// Frames the container promises (FLAC STREAMINFO, an MP3 Xing/VBRI header or symphonia's
    /// estimate from the bitrate, Ogg's last granule position).
    promised_frames: Option<u64>,
}

fn corrupt(container: Container, detail: String) -> Error {
    Error::Corrupt {
        format: container,
        detail,
    }
}

fn check_channels(container: Container, channels: usize) -> Result<()> {
    if channels == 0 {
        return Err(corrupt(container, "the stream declares 0 channels".into()));
    }
    if channels > MAX_CHANNELS {
        return Err(Error::Unsupported {
            format: container,
            reason: format!("{channels} channels (at most {MAX_CHANNELS})"),
        });
    }
    Ok(())
}

/// Probes the container, finds the audio track and checks its header: rate, channels and (where
/// exact) length. No decoder exists before these checks pass.
fn open<'a>(bytes: &'a [u8], container: Container, limits: &DecodeLimits) -> Result<Stream<'a>> {
    let mss = MediaSourceStream::new(Box::new(Cursor::new(bytes)), Default::default());
    let mut hint = Hint::new();
    hint.with_extension(container.extension());
    let reader = symphonia::default::get_probe()
        .probe(
            &hint,
            mss,
            FormatOptions::default(),
            MetadataOptions::default(),
        )
        // The magic number matched, so a probe failure means a damaged or cut file.
        .map_err(|e| corrupt(container, format!("the stream does not parse ({e})")))?;
    let track = reader
        .default_track(TrackType::Audio)
        .ok_or_else(|| corrupt(container, "no audio track".into()))?;
    let track_id = track.id;
    let promised_frames = track.num_frames;
    let params = track
        .codec_params
        .as_ref()
        .and_then(|p| p.audio())
        .ok_or_else(|| corrupt(container, "the audio track has no codec parameters".into()))?
        .clone();
    let rate = params
        .sample_rate
        .ok_or_else(|| corrupt(container, "no sample rate in the stream header".into()))?;
    check_rate(rate)?;
    let channels = params.channels.as_ref().map(|c| c.count());
    if let Some(c) = channels {
        check_channels(container, c)?;
    }
    // Only exact lengths refuse a stream before decoding: FLAC's STREAMINFO and Ogg's granule
    // position count frames, but without a Xing/VBRI header symphonia estimates an MP3's
    // length from the first frame's bitrate ("estimating duration from bitrate, may be
    // inaccurate for vbr files", symphonia-bundle-mp3 demuxer.rs), which a VBR file can
    // exceed many times over.
    if container != Container::Mp3
        && let Some(frames) = promised_frames
    {
        limits.check_duration(frames, rate, true)?;
    }
    let decoder = symphonia::default::get_codecs()
        .make_audio_decoder(&params, &AudioDecoderOptions::default())
        .map_err(|e| match e {
            SymError::Unsupported(what) => Error::UnsupportedFormat {
                detail: format!("codec inside {container}: {what}"),
            },
            other => corrupt(container, other.to_string()),
        })?;
    Ok(Stream {
        reader,
        decoder,
        track_id,
        rate,
        channels,
        promised_frames,
    })
}

/// Decodes FLAC/MP3/OGG with symphonia, downmixing every packet to mono as it goes.
pub(crate) fn decode_compressed(
    bytes: &[u8],
    container: Container,
    limits: &DecodeLimits,
) -> Result<Decoded> {
    let mut s = open(bytes, container, limits)?;
    let rate = s.rate;
    let mut mono: Vec<f32> = Vec::new();
    let mut interleaved: Vec<f32> = Vec::new();
    let mut decoded_samples = 0u64;
    let (mut packets, mut damaged) = (0usize, 0usize);
    loop {
        let packet = match s.reader.next_packet() {
            Ok(Some(p)) => p,
            Ok(None) => break,
            // A stream cut short: symphonia reports an unexpected end of file.
            Err(SymError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                return Err(corrupt(
                    container,
                    if mono.is_empty() {
                        "the stream ends before the first audio frame (truncated)".into()
                    } else {
                        format!(
                            "the stream is truncated after {:.2} s of audio",
                            mono.len() as f64 / f64::from(rate)
                        )
                    },
                ));
            }
            Err(e) => return Err(corrupt(container, e.to_string())),
        };
        if packet.track_id != s.track_id {
            continue;
        }
        packets += 1;
        let buf = match s.decoder.decode(&packet) {
            Ok(buf) => buf,
            // A damaged packet: skip it, as players do, and count it.
            Err(SymError::DecodeError(_)) => {
                damaged += 1;
                continue;
            }
            Err(e) => return Err(corrupt(container, e.to_string())),
        };
        let spec = buf.spec();
        let channels = spec.channels().count();
        // A packet whose rate or layout differs from the stream's is damaged too (a bit flip
        // in an MPEG frame header's sampling-frequency or mode bits): decoding it at the
        // stream's rate would play it at the wrong speed.
        if spec.rate() != rate || channels == 0 || s.channels.is_some_and(|c| c != channels) {
            damaged += 1;
            continue;
        }
        check_channels(container, channels)?;
        s.channels = Some(channels);
        let n = buf.samples_interleaved();
        // The limits, before anything is stored.
        decoded_samples += n as u64;
        let frames_after = (mono.len() + n / channels) as u64;
        limits.check_samples(decoded_samples, channels, frames_after, rate, false)?;
        limits.check_duration(frames_after, rate, false)?;
        interleaved.resize(n, 0.0);
        buf.copy_to_slice_interleaved(&mut interleaved);
        // A packet that decodes to NaN or to more than 42 dB over full scale is damaged as
        // well (garbage scale factors in a bit-flipped MP3 frame give such bursts): skipped
        // like one the decoder rejects, not allowed to dwarf the speech or sink the file.
        let start = mono.len();
        if interleaved
            .iter()
            .enumerate()
            .any(|(i, &v)| check_sample(v, start + i / channels, rate).is_err())
        {
            damaged += 1;
            continue;
        }
        downmix(&interleaved, channels, &mut mono);
    }
    finish(container, s, mono, packets, damaged)
}

/// Averages each frame's channels, like librosa.to_mono.
fn downmix(interleaved: &[f32], channels: usize, mono: &mut Vec<f32>) {
    let scale = 1.0 / channels as f32;
    mono.extend(
        interleaved
            .chunks_exact(channels)
            .map(|frame| frame.iter().sum::<f32>() * scale),
    );
}

/// The checks that need the whole stream: how much of it was damaged, then truncation.
fn finish(
    container: Container,
    s: Stream<'_>,
    mono: Vec<f32>,
    packets: usize,
    damaged: usize,
) -> Result<Decoded> {
    if mono.is_empty() && damaged > 0 {
        return Err(corrupt(
            container,
            format!("none of its {damaged} frames decode"),
        ));
    }
    if damaged as f64 > MAX_DAMAGED_FRACTION * packets as f64 {
        return Err(corrupt(
            container,
            format!(
                "{damaged} of its {packets} frames are damaged, more than {:.0}%: too little \
                 of the recording is left to judge",
                100.0 * MAX_DAMAGED_FRACTION
            ),
        ));
    }
    // Skipped packets leave gaps: count them at the mean length of the packets that decoded,
    // so that a few damaged frames do not read as a cut file.
    let good = packets.saturating_sub(damaged).max(1);
    let gaps = damaged as f64 * mono.len() as f64 / good as f64;
    if let Some(promised) = s.promised_frames
        && (mono.len() as f64 + gaps) < TRUNCATION_RATIO * promised as f64
    {
        let why = if damaged > 0 {
            format!(" ({damaged} of its {packets} frames are damaged)")
        } else {
            " (truncated)".to_string()
        };
        return Err(corrupt(
            container,
            format!(
                "the stream decodes to {} of the {promised} samples its header promises{why}",
                mono.len()
            ),
        ));
    }
    Ok(Decoded {
        audio: Audio::new(mono, s.rate),
        container,
        channels: s.channels.unwrap_or(1),
        packets,
        damaged_packets: damaged,
    })
}
