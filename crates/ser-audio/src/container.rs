//! Which container some bytes are, from their magic number.
//!
//! Sniffing comes first so that a non-audio input (an HTML page, a JPEG, a text file) is
//! refused as *unsupported* before any decoder runs, while a file that starts like audio but
//! does not decode is *corrupt*.

/// The containers `ser-audio` decodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Container {
    /// RIFF/WAVE (PCM or IEEE float).
    Wav,
    /// Native FLAC (`fLaC`).
    Flac,
    /// MPEG-1/2 layer III, with or without an ID3v2 tag.
    Mp3,
    /// Ogg (Vorbis inside).
    Ogg,
}

impl Container {
    /// Human name used in error messages ("WAV", "FLAC", "MP3", "OGG").
    pub fn name(self) -> &'static str {
        match self {
            Container::Wav => "WAV",
            Container::Flac => "FLAC",
            Container::Mp3 => "MP3",
            Container::Ogg => "OGG",
        }
    }

    /// The file extension symphonia's probe takes as a hint.
    pub(crate) fn extension(self) -> &'static str {
        match self {
            Container::Wav => "wav",
            Container::Flac => "flac",
            Container::Mp3 => "mp3",
            Container::Ogg => "ogg",
        }
    }
}

impl std::fmt::Display for Container {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Guesses the container from the first bytes.
///
/// Magic numbers: RIFF/WAVE (Microsoft RIFF spec), `fLaC` (FLAC format spec, "STREAM"),
/// `OggS` (RFC 3533 section 6), `ID3` (ID3v2.4 section 3.1) or an MPEG audio frame sync of
/// eleven set bits with layer bits `01` = layer III (ISO/IEC 11172-3 2.4.1.3).
pub fn sniff(bytes: &[u8]) -> Option<Container> {
    if bytes.len() >= 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WAVE" {
        return Some(Container::Wav);
    }
    if bytes.starts_with(b"fLaC") {
        return Some(Container::Flac);
    }
    if bytes.starts_with(b"OggS") {
        return Some(Container::Ogg);
    }
    if bytes.starts_with(b"ID3") {
        return Some(Container::Mp3);
    }
    if bytes.len() >= 2
        && bytes[0] == 0xFF
        && (bytes[1] & 0xE0) == 0xE0
        && (bytes[1] & 0x06) == 0x02
    {
        return Some(Container::Mp3);
    }
    None
}

/// A short, safe description of unrecognised bytes for an error message.
pub(crate) fn describe_unknown(bytes: &[u8]) -> String {
    let head = &bytes[..bytes.len().min(16)];
    let lower: Vec<u8> = head.iter().map(u8::to_ascii_lowercase).collect();
    let kind = if lower.starts_with(b"<!doctype") || lower.starts_with(b"<html") {
        "looks like an HTML page"
    } else if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
        "looks like a JPEG image"
    } else if head.starts_with(b"\x89PNG") {
        "looks like a PNG image"
    } else if head.starts_with(b"RIFF") {
        "a RIFF file that is not WAVE"
    } else if head.len() >= 8 && &head[4..8] == b"ftyp" {
        "looks like MP4/M4A (AAC is not supported)"
    } else if head.starts_with(&[0x1A, 0x45, 0xDF, 0xA3]) {
        "looks like WebM/Matroska (not supported)"
    } else if head
        .iter()
        .all(|b| b.is_ascii_graphic() || b.is_ascii_whitespace())
    {
        "looks like text"
    } else {
        "unknown magic number"
    };
    let hex: Vec<String> = head.iter().take(8).map(|b| format!("{b:02x}")).collect();
    format!("{kind}; first bytes {}", hex.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_the_magic_numbers() {
        assert_eq!(sniff(b"RIFF\0\0\0\0WAVEfmt "), Some(Container::Wav));
        assert_eq!(sniff(b"fLaC\0\0\0\x22"), Some(Container::Flac));
        assert_eq!(sniff(b"OggS\0\x02"), Some(Container::Ogg));
        assert_eq!(sniff(b"ID3\x04\0"), Some(Container::Mp3));
        assert_eq!(sniff(&[0xFF, 0xFB, 0x90, 0x64]), Some(Container::Mp3));
        // Layer I sync (bits 01 -> layer III only): not accepted as MP3.
        assert_eq!(sniff(&[0xFF, 0xFF, 0x90, 0x64]), None);
        assert_eq!(sniff(b"RIFF\0\0\0\0AVI "), None);
        assert_eq!(sniff(b"<html>"), None);
        assert_eq!(sniff(b""), None);
    }
}
