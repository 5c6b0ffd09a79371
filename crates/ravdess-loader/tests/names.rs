//! RAVDESS names: every malformed field gives a typed error naming the file and the field.

#![allow(clippy::unwrap_used)] // tests: a panic is a failed test

use ravdess_loader::name::{NameField, RavdessName};

#[test]
fn every_malformed_field_is_named() {
    let cases: &[(&str, NameField, &str)] = &[
        ("03-01-05-02-01-02-12.mp3", NameField::Shape, "extension"),
        (
            "03-01-05-02-01-02.wav",
            NameField::Shape,
            "6 dash-separated",
        ),
        (
            "03-01-05-02-01-02-12-01.wav",
            NameField::Shape,
            "8 dash-separated",
        ),
        ("", NameField::Shape, "1 dash-separated"),
        (
            "04-01-05-02-01-02-12.wav",
            NameField::Modality,
            "01, 02 or 03",
        ),
        ("3-01-05-02-01-02-12.wav", NameField::Modality, "two digits"),
        ("03-03-05-02-01-02-12.wav", NameField::Channel, "speech"),
        ("03-01-00-02-01-02-12.wav", NameField::Emotion, "01..08"),
        ("03-01-09-02-01-02-12.wav", NameField::Emotion, "01..08"),
        ("03-01-0x-02-01-02-12.wav", NameField::Emotion, "two digits"),
        ("03-01-05-03-01-02-12.wav", NameField::Intensity, "normal"),
        (
            "03-01-01-02-01-02-12.wav",
            NameField::Intensity,
            "neutral has no strong",
        ),
        ("03-01-05-02-03-02-12.wav", NameField::Statement, "01 or 02"),
        (
            "03-01-05-02-01-00-12.wav",
            NameField::Repetition,
            "01 or 02",
        ),
        ("03-01-05-02-01-02-00.wav", NameField::Actor, "01..24"),
        ("03-01-05-02-01-02-25.wav", NameField::Actor, "01..24"),
        ("03-01-05-02-01-02-+1.wav", NameField::Actor, "two digits"),
    ];
    for &(name, field, reason) in cases {
        let e = RavdessName::parse(name).unwrap_err();
        assert_eq!(e.field, field, "{name}");
        let msg = e.to_string();
        assert!(msg.contains(name), "{msg}");
        assert!(msg.contains(field.describe()), "{msg}");
        assert!(msg.contains(reason), "{name}: {msg}");
    }
}

#[test]
fn display_round_trips_and_parse_accepts_paths() {
    for text in [
        "03-01-05-02-01-02-12.wav",
        "01-02-08-01-02-01-01.wav",
        "02-01-01-01-01-02-24.wav",
    ] {
        let n: RavdessName = text.parse().unwrap();
        assert_eq!(n.to_string(), text);
        assert_eq!(RavdessName::parse(&n.stem()).unwrap(), n);
    }
    let n = RavdessName::from_path(std::path::Path::new("/x/Actor_12/03-01-05-02-01-02-12.WAV"))
        .unwrap();
    assert_eq!(n.actor, 12);
}
