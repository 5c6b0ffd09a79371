//! The two RAVDESS statements as syllables: onset consonant + vowel formant targets.
//!
//! Vowel formants F1-F3 (Hz) are adult-male means from Hillenbrand, Getty, Clark & Wheeler
//! (1995), "Acoustic characteristics of American English vowels", JASA 97(5), Table V; F4/F5
//! are typical male values (~3500 / 4500 Hz, Fant 1960). Female and individual vocal tracts are
//! handled by the speaker's formant scale factor.

/// F1..F5 in Hz.
pub type Formants = [f64; 5];

const fn v(f1: f64, f2: f64, f3: f64) -> Formants {
    [f1, f2, f3, 3500.0, 4500.0]
}

/// /ɪ/ as in "kids", "sitting".
pub const IH: Formants = v(427.0, 2034.0, 2684.0);
/// /ɑ/ as in "are".
pub const AA: Formants = v(768.0, 1333.0, 2522.0);
/// /ɔ/ as in "talking", "dogs", "door".
pub const AO: Formants = v(652.0, 997.0, 2538.0);
/// /ʌ/-like schwa as in "the".
pub const AH: Formants = v(623.0, 1200.0, 2550.0);
/// /i/ (end target of the /aɪ/ diphthong in "by").
pub const IY: Formants = v(342.0, 2322.0, 3000.0);

/// How a syllable starts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Onset {
    /// Vowel onset (glottal).
    None,
    /// Stop: silent closure, then a short noise burst centred at `burst_hz`.
    Stop {
        /// Burst spectral peak (Hz): ~1500-2500 for /k/, ~4000 for /t/, ~800 for /b/.
        burst_hz: f64,
        /// Voiced stop (/b/, /d/): weak voicing bar during closure.
        voiced: bool,
    },
    /// Fricative noise centred at `hz` (e.g. /s/ ~ 5000 Hz, /ð/ ~ 3000 Hz, weak).
    Fricative {
        /// Noise spectral peak (Hz).
        hz: f64,
        /// Relative level (0-1).
        level: f64,
    },
}

/// One syllable of a statement.
#[derive(Debug, Clone, Copy)]
pub struct Syllable {
    /// Onset consonant.
    pub onset: Onset,
    /// Vowel formants at the start of the nucleus.
    pub start: Formants,
    /// Vowel formants at the end (differs for diphthongs).
    pub end: Formants,
    /// Lexically stressed (longer, louder, F0 accent).
    pub stressed: bool,
}

const fn syl(onset: Onset, start: Formants, end: Formants, stressed: bool) -> Syllable {
    Syllable {
        onset,
        start,
        end,
        stressed,
    }
}

const K: Onset = Onset::Stop {
    burst_hz: 2000.0,
    voiced: false,
};
const T: Onset = Onset::Stop {
    burst_hz: 4200.0,
    voiced: false,
};
const B: Onset = Onset::Stop {
    burst_hz: 900.0,
    voiced: true,
};
const D: Onset = Onset::Stop {
    burst_hz: 3500.0,
    voiced: true,
};
const DH: Onset = Onset::Fricative {
    hz: 3000.0,
    level: 0.15,
};
const S: Onset = Onset::Fricative {
    hz: 5200.0,
    level: 0.5,
};

/// "Kids are talking by the door" (statement 01).
pub const KIDS: [Syllable; 7] = [
    syl(K, IH, IH, true),
    syl(Onset::None, AA, AA, false),
    syl(T, AO, AO, true),
    syl(K, IH, IH, false),
    syl(B, AA, IY, false),
    syl(DH, AH, AH, false),
    syl(D, AO, AO, true),
];

/// "Dogs are sitting by the door" (statement 02).
pub const DOGS: [Syllable; 7] = [
    syl(D, AO, AO, true),
    syl(Onset::None, AA, AA, false),
    syl(S, IH, IH, true),
    syl(T, IH, IH, false),
    syl(B, AA, IY, false),
    syl(DH, AH, AH, false),
    syl(D, AO, AO, true),
];
