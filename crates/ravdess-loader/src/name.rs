//! RAVDESS file names: `MM-VV-EE-II-SS-RR-AA.wav`.
//!
//! Field codes from the RAVDESS README (Livingstone & Russo 2018, Zenodo record 1188976).

/// The eight RAVDESS emotions, in code order (`01` neutral ... `08` surprised).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Emotion {
    /// Code 01.
    Neutral,
    /// Code 02.
    Calm,
    /// Code 03.
    Happy,
    /// Code 04.
    Sad,
    /// Code 05.
    Angry,
    /// Code 06.
    Fearful,
    /// Code 07.
    Disgust,
    /// Code 08.
    Surprised,
}

impl Emotion {
    /// All eight emotions in RAVDESS code order; index `i` has code `i + 1`.
    pub const ALL: [Emotion; 8] = [
        Emotion::Neutral,
        Emotion::Calm,
        Emotion::Happy,
        Emotion::Sad,
        Emotion::Angry,
        Emotion::Fearful,
        Emotion::Disgust,
        Emotion::Surprised,
    ];

    /// Lowercase name used as the class label everywhere (`"neutral"`, ..., `"surprised"`).
    pub fn name(self) -> &'static str {
        match self {
            Emotion::Neutral => "neutral",
            Emotion::Calm => "calm",
            Emotion::Happy => "happy",
            Emotion::Sad => "sad",
            Emotion::Angry => "angry",
            Emotion::Fearful => "fearful",
            Emotion::Disgust => "disgust",
            Emotion::Surprised => "surprised",
        }
    }

    /// The two-digit RAVDESS code (1..=8).
    pub fn code(self) -> u8 {
        self as u8 + 1
    }

    /// The emotion for a RAVDESS code (1..=8).
    pub fn from_code(code: u8) -> Option<Self> {
        Self::ALL.get(usize::from(code).checked_sub(1)?).copied()
    }

    /// Parses a lowercase or capitalised name (`"angry"`, `"Angry"`).
    pub fn from_name(name: &str) -> Option<Self> {
        let lower = name.trim().to_ascii_lowercase();
        Self::ALL.into_iter().find(|e| e.name() == lower)
    }
}

impl std::fmt::Display for Emotion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Modality (field 1): `01` full-AV, `02` video-only, `03` audio-only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Modality {
    /// `01`.
    FullAv,
    /// `02`.
    VideoOnly,
    /// `03`.
    AudioOnly,
}

/// Vocal channel (field 2): `01` speech, `02` song.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VocalChannel {
    /// `01`.
    Speech,
    /// `02`.
    Song,
}

/// Emotional intensity (field 4): `01` normal, `02` strong. Neutral has no strong intensity.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Intensity {
    /// `01`.
    Normal,
    /// `02`.
    Strong,
}

/// Statement (field 5): `01` "Kids are talking by the door", `02` "Dogs are sitting by the door".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Statement {
    /// `01`.
    Kids,
    /// `02`.
    Dogs,
}

/// A parsed RAVDESS file name. `Display` writes the canonical `MM-VV-EE-II-SS-RR-AA.wav`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct RavdessName {
    /// Field 1.
    pub modality: Modality,
    /// Field 2.
    pub channel: VocalChannel,
    /// Field 3.
    pub emotion: Emotion,
    /// Field 4.
    pub intensity: Intensity,
    /// Field 5.
    pub statement: Statement,
    /// Field 6: 1st or 2nd repetition (1..=2).
    pub repetition: u8,
    /// Field 7: actor 1..=24; odd = male, even = female.
    pub actor: u8,
}
