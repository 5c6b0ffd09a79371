//! EMO-DB (the Berlin Database of Emotional Speech) file names `SSTTTEV.wav`.
//!
//! Source: Burkhardt, Paeschke, Rolfes, Sendlmeier and Weiss, "A database of German emotional
//! speech", Proc. Interspeech 2005, 1517-1520 (doi:10.21437/Interspeech.2005-446), and the
//! database's documentation page <http://emodb.bilderbar.info/docu/> ("Information about the
//! speakers" and the file-naming scheme):
//!
//! * positions 1-2: speaker (`03`, `08`-`16`);
//! * positions 3-5: text code (`a01` .. `b10`);
//! * position 6: emotion, the initial of the German word: `W` Ärger/Wut (anger),
//!   `L` Langeweile (boredom), `E` Ekel (disgust), `A` Angst (fear), `F` Freude (happiness),
//!   `T` Trauer (sadness), `N` neutral;
//! * position 7: version (`a`, `b`, ... when a sentence was recorded more than once).
//!
//! ```
//! use ravdess_loader::{Gender, emodb::EmodbName};
//!
//! let n = EmodbName::parse("03a01Wa.wav").expect("an EMO-DB name");
//! assert_eq!((n.speaker(), n.label(), n.gender()), ("03".into(), "angry", Some(Gender::Male)));
//! assert!(EmodbName::parse("03-01-05-01-01-01-01.wav").is_none());
//! ```

use std::path::Path;

use crate::Gender;

/// The regular expression an EMO-DB file name matches (documentation; [`EmodbName::parse`]
/// checks the same by hand, so auto-detection costs no regex per file).
pub const PATTERN: &str = r"^\d\d[ab]\d\d[WLEAFTN][a-z]\.wav$";

/// The emotion letters and the class names this project uses for them (lowercase, the
/// RAVDESS names where RAVDESS has the emotion; `boredom` has no RAVDESS counterpart).
pub const EMOTIONS: [(char, &str); 7] = [
    ('W', "angry"),
    ('L', "boredom"),
    ('E', "disgust"),
    ('A', "fearful"),
    ('F', "happy"),
    ('T', "sad"),
    ('N', "neutral"),
];

/// The ten speakers and their gender, from the EMO-DB documentation page (male 03, 10, 11, 12,
/// 15; female 08, 09, 13, 14, 16; "5 female and 5 male" in Burkhardt et al. 2005).
pub const SPEAKERS: [(u8, Gender); 10] = [
    (3, Gender::Male),
    (8, Gender::Female),
    (9, Gender::Female),
    (10, Gender::Male),
    (11, Gender::Male),
    (12, Gender::Male),
    (13, Gender::Female),
    (14, Gender::Female),
    (15, Gender::Male),
    (16, Gender::Female),
];

/// A parsed EMO-DB file name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EmodbName {
    /// Speaker number (positions 1-2).
    pub speaker: u8,
    /// Text code: `a` or `b` then two digits (positions 3-5).
    pub text: [u8; 3],
    /// Emotion letter (position 6), one of [`EMOTIONS`].
    pub emotion: char,
    /// Version letter (position 7).
    pub version: char,
}

impl EmodbName {
    /// Parses a file name matching [`PATTERN`] (the `.wav` extension in any case); `None`
    /// for anything else.
    pub fn parse(file_name: &str) -> Option<Self> {
        let b = file_name.as_bytes();
        if b.len() != 11 || !file_name.get(7..)?.eq_ignore_ascii_case(".wav") {
            return None;
        }
        let digit = |i: usize| b[i].is_ascii_digit();
        if !(digit(0) && digit(1) && matches!(b[2], b'a' | b'b') && digit(3) && digit(4)) {
            return None;
        }
        let emotion = b[5] as char;
        let version = b[6] as char;
        if !EMOTIONS.iter().any(|(c, _)| *c == emotion) || !version.is_ascii_lowercase() {
            return None;
        }
        Some(Self {
            speaker: (b[0] - b'0') * 10 + (b[1] - b'0'),
            text: [b[2], b[3], b[4]],
            emotion,
            version,
        })
    }

    /// Parses the file-name part of `path`.
    pub fn from_path(path: &Path) -> Option<Self> {
        Self::parse(&path.file_name()?.to_string_lossy())
    }

    /// The speaker id, two digits as in the file name (`"03"`).
    pub fn speaker(&self) -> String {
        format!("{:02}", self.speaker)
    }

    /// The class name of the emotion letter (see [`EMOTIONS`]).
    pub fn label(&self) -> &'static str {
        EMOTIONS
            .iter()
            .find(|(c, _)| *c == self.emotion)
            .map_or("unknown", |(_, l)| l)
    }

    /// The speaker's gender from [`SPEAKERS`]; `None` for a number EMO-DB does not have.
    pub fn gender(&self) -> Option<Gender> {
        SPEAKERS
            .iter()
            .find(|(s, _)| *s == self.speaker)
            .map(|(_, g)| *g)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_letter_and_rejects_near_misses() {
        let n = EmodbName::parse("16b10Tb.wav").expect("valid");
        assert_eq!(n.speaker(), "16");
        assert_eq!(&n.text, b"b10");
        assert_eq!(n.label(), "sad");
        assert_eq!(n.gender(), Some(Gender::Female));
        for (c, label) in EMOTIONS {
            let n = EmodbName::parse(&format!("08a02{c}a.WAV")).expect("valid");
            assert_eq!(n.label(), label);
        }
        for bad in [
            "03a01Xa.wav",  // unknown emotion letter
            "03c01Wa.wav",  // text must start with a or b
            "3a01Wa.wav",   // one-digit speaker
            "03a01WA.wav",  // version must be lowercase
            "03a01Wa.flac", // not .wav
            "03a01Wab.wav", // too long
            "03a01W.wav",   // no version
            "ä3a01Wa.wav",  // non-ASCII
            "",
        ] {
            assert_eq!(EmodbName::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn genders_follow_the_documentation() {
        let male: Vec<u8> = SPEAKERS
            .iter()
            .filter(|(_, g)| *g == Gender::Male)
            .map(|(s, _)| *s)
            .collect();
        assert_eq!(male, [3, 10, 11, 12, 15]);
        let n = EmodbName::parse("05a01Na.wav").expect("valid shape");
        assert_eq!(n.gender(), None);
    }
}
