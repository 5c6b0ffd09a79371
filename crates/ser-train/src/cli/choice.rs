//! Value parsers for the library's enums, so the command line names them without a second,
//! clap-only copy of each enum: the names are the library's own (`Family::name`,
//! `BackendKind::name`), the help is here.

use clap::builder::{PossibleValue, TypedValueParser};
use ser_models::Family;
use ser_train::{BackendKind, Preset};

/// A clap value parser over a fixed list of `(value, name, help)`.
#[derive(Clone)]
pub struct Choice<T: Clone + Send + Sync + 'static> {
    values: Vec<(T, &'static str, &'static str)>,
}

impl<T: Clone + Send + Sync + 'static> TypedValueParser for Choice<T> {
    type Value = T;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<T, clap::Error> {
        let names =
            clap::builder::PossibleValuesParser::new(self.values.iter().map(|(_, name, _)| *name));
        let name = names.parse_ref(cmd, arg, value)?;
        self.values
            .iter()
            .find(|(_, n, _)| *n == name)
            .map(|(v, _, _)| v.clone())
            .ok_or_else(|| clap::Error::new(clap::error::ErrorKind::InvalidValue).with_cmd(cmd))
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        Some(Box::new(self.values.iter().map(|(_, name, help)| {
            let v = PossibleValue::new(*name);
            if help.is_empty() { v } else { v.help(*help) }
        })))
    }
}

/// The model families, by `Family::name`.
pub fn family() -> Choice<Family> {
    // An exhaustive match, so a new family cannot be left out of the help.
    let help = |f: Family| match f {
        Family::Cnn => "Convolutional network over the log-mel spectrogram",
        Family::Rnn => "Recurrent network over feature frames",
        Family::Crnn => "Convolutional front end + bidirectional recurrent layer",
    };
    Choice {
        values: [Family::Cnn, Family::Rnn, Family::Crnn]
            .map(|f| (f, f.name(), help(f)))
            .to_vec(),
    }
}

/// The training recipes, by `Preset::name`.
pub fn preset() -> Choice<Preset> {
    let help = |p: Preset| match p {
        Preset::Generated => {
            "For the generated corpus (no download): at most 24 epochs, patience 8, lr 1e-3; its \
             synthetic speakers are learned within minutes"
        }
        Preset::Speech => {
            "For real recordings such as RAVDESS: at most 40 epochs, patience 12 from epoch 30, \
             lr 2e-3, batch 16, 2 noisy copies per clip, a CRNN of the PyTorch reference's \
             width (conv 32-64-128-128, BiGRU 128); see docs/results.md"
        }
    };
    Choice {
        values: [Preset::Generated, Preset::Speech]
            .map(|p| (p, p.name(), help(p)))
            .to_vec(),
    }
}

/// The compute backends, by `BackendKind::name` (those not compiled in fail at start-up with
/// a message saying which cargo feature adds them).
pub fn backend() -> Choice<BackendKind> {
    Choice {
        values: [BackendKind::Flex, BackendKind::Ndarray, BackendKind::Wgpu]
            .map(|b| (b, b.name(), ""))
            .to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct T {
        #[arg(long, value_parser = family())]
        model: Family,
        #[arg(long, value_parser = backend(), default_value = "flex")]
        backend: BackendKind,
    }

    #[test]
    fn names_are_the_library_names() {
        let t = T::try_parse_from(["t", "--model", "crnn", "--backend", "ndarray"]).unwrap();
        assert_eq!((t.model, t.backend), (Family::Crnn, BackendKind::Ndarray));
        let err = T::try_parse_from(["t", "--model", "lstm"])
            .unwrap_err()
            .to_string();
        assert!(err.contains("possible values: cnn, rnn, crnn"), "{err}");
    }
}
