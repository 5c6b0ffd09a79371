//! RAVDESS file names: `MM-VV-EE-II-SS-RR-AA.wav`.
//!
//! Field codes from the RAVDESS README (Livingstone & Russo 2018, Zenodo record 1188976):
//! modality (`01` full-AV, `02` video-only, `03` audio-only), vocal channel (`01` speech,
//! `02` song), emotion (`01`..`08`), intensity (`01` normal, `02` strong; neutral has no strong),
//! statement (`01` "Kids are talking by the door", `02` "Dogs are sitting by the door"),
//! repetition (`01`, `02`) and actor (`01`..`24`, odd male, even female).
//!
//! ```
//! use ravdess_loader::name::{Intensity, RavdessName};
//! use ravdess_loader::Emotion;
//!
//! let name: RavdessName = "03-01-05-02-01-02-12.wav".parse()?;
//! assert_eq!(name.emotion, Emotion::Angry);
//! assert_eq!(name.intensity, Intensity::Strong);
//! assert_eq!(name.actor, 12);
//! assert_eq!(name.to_string(), "03-01-05-02-01-02-12.wav");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;
use std::path::Path;
use std::str::FromStr;

use crate::Gender;

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

impl Modality {
    /// The two-digit code (1..=3).
    pub fn code(self) -> u8 {
        match self {
            Modality::FullAv => 1,
            Modality::VideoOnly => 2,
            Modality::AudioOnly => 3,
        }
    }

    /// The modality for a code (1..=3).
    pub fn from_code(code: u8) -> Option<Self> {
        match code {
            1 => Some(Modality::FullAv),
            2 => Some(Modality::VideoOnly),
            3 => Some(Modality::AudioOnly),
            _ => None,
        }
    }
}

impl VocalChannel {
    /// The two-digit code (1..=2).
    pub fn code(self) -> u8 {
        match self {
            VocalChannel::Speech => 1,
            VocalChannel::Song => 2,
        }
    }

    /// The channel for a code (1..=2).
    pub fn from_code(code: u8) -> Option<Self> {
        match code {
            1 => Some(VocalChannel::Speech),
            2 => Some(VocalChannel::Song),
            _ => None,
        }
    }
}

impl Intensity {
    /// Both intensities, in code order.
    pub const ALL: [Intensity; 2] = [Intensity::Normal, Intensity::Strong];

    /// The two-digit code (1..=2).
    pub fn code(self) -> u8 {
        match self {
            Intensity::Normal => 1,
            Intensity::Strong => 2,
        }
    }

    /// The intensity for a code (1..=2).
    pub fn from_code(code: u8) -> Option<Self> {
        match code {
            1 => Some(Intensity::Normal),
            2 => Some(Intensity::Strong),
            _ => None,
        }
    }

    /// Lowercase name (`"normal"`, `"strong"`).
    pub fn name(self) -> &'static str {
        match self {
            Intensity::Normal => "normal",
            Intensity::Strong => "strong",
        }
    }
}

impl Statement {
    /// Both statements, in code order.
    pub const ALL: [Statement; 2] = [Statement::Kids, Statement::Dogs];

    /// The two-digit code (1..=2).
    pub fn code(self) -> u8 {
        match self {
            Statement::Kids => 1,
            Statement::Dogs => 2,
        }
    }

    /// The statement for a code (1..=2).
    pub fn from_code(code: u8) -> Option<Self> {
        match code {
            1 => Some(Statement::Kids),
            2 => Some(Statement::Dogs),
            _ => None,
        }
    }

    /// The sentence spoken.
    pub fn text(self) -> &'static str {
        match self {
            Statement::Kids => "Kids are talking by the door",
            Statement::Dogs => "Dogs are sitting by the door",
        }
    }
}

/// Which part of a RAVDESS file name is wrong (see [`NameError`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum NameField {
    /// The overall shape: seven two-digit fields separated by `-`, extension `.wav`.
    Shape,
    /// Field 1.
    Modality,
    /// Field 2.
    Channel,
    /// Field 3.
    Emotion,
    /// Field 4.
    Intensity,
    /// Field 5.
    Statement,
    /// Field 6.
    Repetition,
    /// Field 7.
    Actor,
}

impl NameField {
    /// Human-readable field name with its position, e.g. `"emotion (field 3)"`.
    pub fn describe(self) -> &'static str {
        match self {
            NameField::Shape => "name shape",
            NameField::Modality => "modality (field 1)",
            NameField::Channel => "vocal channel (field 2)",
            NameField::Emotion => "emotion (field 3)",
            NameField::Intensity => "intensity (field 4)",
            NameField::Statement => "statement (field 5)",
            NameField::Repetition => "repetition (field 6)",
            NameField::Actor => "actor (field 7)",
        }
    }
}

impl fmt::Display for NameField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.describe())
    }
}

/// A file name that does not follow `MM-VV-EE-II-SS-RR-AA.wav`, naming the file and field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{file}`: invalid RAVDESS {field}: {reason} (expected MM-VV-EE-II-SS-RR-AA.wav, e.g. 03-01-05-02-01-02-12.wav)"
)]
pub struct NameError {
    /// The file name as given.
    pub file: String,
    /// The offending field.
    pub field: NameField,
    /// The offending text.
    pub value: String,
    /// What is wrong and what is allowed.
    pub reason: String,
}

impl RavdessName {
    /// Parses a file name (`"03-01-05-02-01-02-12.wav"`; the `.wav` extension is optional and
    /// case-insensitive). Any directory part is ignored if present.
    pub fn parse(file_name: &str) -> Result<Self, NameError> {
        let base = file_name.rsplit(['/', '\\']).next().unwrap_or(file_name);
        let err = |field: NameField, value: &str, reason: String| NameError {
            file: file_name.to_string(),
            field,
            value: value.to_string(),
            reason,
        };
        let stem = match base
            .len()
            .checked_sub(4)
            .and_then(|i| base.get(i..).map(|e| (i, e)))
        {
            Some((i, ext)) if ext.eq_ignore_ascii_case(".wav") => &base[..i],
            _ if base.contains('.') => {
                return Err(err(
                    NameField::Shape,
                    base,
                    "extension must be .wav".to_string(),
                ));
            }
            _ => base,
        };
        let parts: Vec<&str> = stem.split('-').collect();
        if parts.len() != 7 {
            return Err(err(
                NameField::Shape,
                stem,
                format!("found {} dash-separated fields, expected 7", parts.len()),
            ));
        }
        const FIELDS: [NameField; 7] = [
            NameField::Modality,
            NameField::Channel,
            NameField::Emotion,
            NameField::Intensity,
            NameField::Statement,
            NameField::Repetition,
            NameField::Actor,
        ];
        let mut codes = [0u8; 7];
        for ((part, field), code) in parts.iter().zip(FIELDS).zip(codes.iter_mut()) {
            if part.len() != 2 || !part.bytes().all(|b| b.is_ascii_digit()) {
                return Err(err(field, part, "must be two digits".to_string()));
            }
            *code = part
                .parse()
                .map_err(|_| err(field, part, "must be two digits".into()))?;
        }
        let [m, v, e, i, s, r, a] = codes;
        let modality = Modality::from_code(m)
            .ok_or_else(|| err(NameField::Modality, parts[0], "must be 01, 02 or 03".into()))?;
        let channel = VocalChannel::from_code(v).ok_or_else(|| {
            err(
                NameField::Channel,
                parts[1],
                "must be 01 (speech) or 02 (song)".into(),
            )
        })?;
        let emotion = Emotion::from_code(e)
            .ok_or_else(|| err(NameField::Emotion, parts[2], "must be 01..08".into()))?;
        let intensity = Intensity::from_code(i).ok_or_else(|| {
            err(
                NameField::Intensity,
                parts[3],
                "must be 01 (normal) or 02 (strong)".into(),
            )
        })?;
        if emotion == Emotion::Neutral && intensity == Intensity::Strong {
            return Err(err(
                NameField::Intensity,
                parts[3],
                "neutral has no strong intensity in RAVDESS".into(),
            ));
        }
        let statement = Statement::from_code(s)
            .ok_or_else(|| err(NameField::Statement, parts[4], "must be 01 or 02".into()))?;
        if !(1..=2).contains(&r) {
            return Err(err(
                NameField::Repetition,
                parts[5],
                "must be 01 or 02".into(),
            ));
        }
        if !(1..=24).contains(&a) {
            return Err(err(NameField::Actor, parts[6], "must be 01..24".into()));
        }
        Ok(RavdessName {
            modality,
            channel,
            emotion,
            intensity,
            statement,
            repetition: r,
            actor: a,
        })
    }

    /// Parses the file-name part of `path`.
    pub fn from_path(path: &Path) -> Result<Self, NameError> {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| path.display().to_string());
        Self::parse(&name)
    }

    /// The speaker id used by [`crate::Utterance::speaker`]: the two-digit actor, e.g. `"07"`.
    pub fn speaker(&self) -> String {
        format!("{:02}", self.actor)
    }

    /// RAVDESS convention: odd actors are male, even actors female.
    pub fn gender(&self) -> Gender {
        if self.actor % 2 == 1 {
            Gender::Male
        } else {
            Gender::Female
        }
    }

    /// The name without the `.wav` extension.
    pub fn stem(&self) -> String {
        format!(
            "{:02}-{:02}-{:02}-{:02}-{:02}-{:02}-{:02}",
            self.modality.code(),
            self.channel.code(),
            self.emotion.code(),
            self.intensity.code(),
            self.statement.code(),
            self.repetition,
            self.actor
        )
    }
}

impl fmt::Display for RavdessName {
    /// Writes the canonical file name `MM-VV-EE-II-SS-RR-AA.wav`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.wav", self.stem())
    }
}

impl FromStr for RavdessName {
    type Err = NameError;

    fn from_str(s: &str) -> Result<Self, NameError> {
        Self::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_valid_name_round_trips() {
        let mut count = 0;
        for m in 1..=3u8 {
            for v in 1..=2u8 {
                for e in Emotion::ALL {
                    for i in Intensity::ALL {
                        if e == Emotion::Neutral && i == Intensity::Strong {
                            continue;
                        }
                        for s in Statement::ALL {
                            for r in 1..=2u8 {
                                for a in 1..=24u8 {
                                    let text = format!(
                                        "{m:02}-{v:02}-{:02}-{:02}-{:02}-{r:02}-{a:02}.wav",
                                        e.code(),
                                        i.code(),
                                        s.code()
                                    );
                                    let n: RavdessName = text.parse().unwrap();
                                    assert_eq!(n.emotion, e);
                                    assert_eq!(n.actor, a);
                                    assert_eq!(n.to_string(), text);
                                    count += 1;
                                }
                            }
                        }
                    }
                }
            }
        }
        assert_eq!(count, 3 * 2 * 15 * 2 * 2 * 24);
    }

    #[test]
    fn gender_and_speaker() {
        let n = RavdessName::parse("03-01-01-01-01-01-07.wav").unwrap();
        assert_eq!(n.gender(), Gender::Male);
        assert_eq!(n.speaker(), "07");
        let n = RavdessName::parse("Actor_08/03-01-01-01-01-01-08.WAV").unwrap();
        assert_eq!(n.gender(), Gender::Female);
    }
}
