//! The fine-tuning flags of `ser-train` (`--init DIR|default` and its options), and the check
//! that no other flag contradicts the parent's network, features or preprocessing.

use anyhow::bail;
use clap::{Args, ValueEnum};
use ser_models::{Family, ModelConfig};
use ser_train::TrainConfig;
use ser_train::finetune::{InitConfig, InitNorm, Parent, describe_features, resolve_parent};

use super::args::TrainArgs;
use super::recipe_args::RecipeArgs;

/// `--init-norm` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum NormArg {
    /// Keep the parent member's per-band statistics (before training, the new model predicts
    /// what the parent does).
    Parent,
    /// Fit them on this run's training clips.
    Refit,
}

/// Fine-tuning: start from a trained model instead of random weights (`ser-train`'s flags:
/// the parent, and `--functionals` for the parent's head).
#[derive(Debug, Clone, Default, Args)]
pub struct InitArgs {
    /// The parent and how to start from it.
    #[command(flatten)]
    pub parent: ParentArgs,
    /// With --init, for a parent fused with an utterance-functionals head (the shipped model
    /// is): fit the head again on this run's training speakers and fuse it as the parent did.
    /// Without this flag the parent's head is dropped.
    #[arg(long, requires = "init")]
    pub functionals: bool,
}

/// The parent of a fine-tune and how to start from it: the flags `ser-train` and `ser-train
/// cv` share (`cv` has its own `--functionals`, which fits a head in every fold).
#[derive(Debug, Clone, Default, Args)]
pub struct ParentArgs {
    /// Fine-tune: start from the trained model in DIR (manifest.json + weights), or from the
    /// shipped model with `default` (found as ser-predict finds it: SER_MODEL, the user data
    /// directory, beside the program, the source tree). The run takes the parent's network,
    /// features, preprocessing and weights; output rows are matched to this run's labels by
    /// name (a label the parent lacks gets a fresh row). --model may then be left out.
    /// --epochs 0 writes the starting point, scored on the test speakers. Test speakers the
    /// parent heard (its manifest's training and validation speakers, compared corpus by
    /// corpus) are refused: their scores would not be speaker-independent.
    #[arg(long, value_name = "DIR|default")]
    pub init: Option<String>,
    /// With --init: the member of an ensemble parent to start from, from 0 [default: 0].
    #[arg(long, value_name = "N", requires = "init")]
    pub init_member: Option<usize>,
    /// With --init: the feature normalisation of the new model [default: parent].
    #[arg(long, value_enum, value_name = "FROM", requires = "init")]
    pub init_norm: Option<NormArg>,
    /// With --init: freeze the convolutional blocks (kernels, batch norm and its running
    /// statistics); only the layers after them train.
    #[arg(long, requires = "init")]
    pub freeze_conv: bool,
}

impl InitArgs {
    /// The fine-tuning settings the flags ask for, the parent resolved (`default`).
    pub fn config(&self) -> anyhow::Result<Option<InitConfig>> {
        self.parent.config(self.functionals)
    }
}

impl ParentArgs {
    /// The fine-tuning settings the flags ask for, the parent resolved (`default`), its head
    /// fitted again when `functionals` says so.
    pub fn config(&self, functionals: bool) -> anyhow::Result<Option<InitConfig>> {
        let Some(value) = &self.init else {
            return Ok(None);
        };
        let mut init = InitConfig::new(resolve_parent(value)?);
        init.member = self.init_member.unwrap_or(0);
        init.norm = match self.init_norm {
            Some(NormArg::Refit) => InitNorm::Refit,
            Some(NormArg::Parent) | None => InitNorm::Parent,
        };
        init.freeze_conv = self.freeze_conv;
        init.functionals = functionals;
        Ok(Some(init))
    }
}

/// The family to train: `--model`, or the parent's when fine-tuning (a `--model` that is not
/// the parent's family is refused).
pub fn family(a: &TrainArgs, parent: Option<&Parent>) -> anyhow::Result<Family> {
    family_of("--model", a.model, parent)
}

/// [`family`] of the family given as `flag` (`--model`, or `cv`'s `--model-type`).
pub fn family_of(
    flag: &str,
    model: Option<Family>,
    parent: Option<&Parent>,
) -> anyhow::Result<Family> {
    match (model, parent) {
        (Some(f), Some(p)) if f != p.model().family() => bail!(
            "{flag} {f} contradicts --init {}: the parent is a {}, and a fine-tune keeps the \
             parent's network (leave {flag} out)",
            p.init.from.display(),
            p.model().family()
        ),
        (Some(f), _) => Ok(f),
        (None, Some(p)) => Ok(p.model().family()),
        (None, None) => bail!("{flag} is required (cnn, rnn or crnn) unless --init is given"),
    }
}

/// Makes `cfg` a fine-tune of `parent`, after refusing every flag that contradicts it: the
/// features (`--features`, `--cmvn`), the network's width or stem, `--tiny`, the level
/// normalisation (`--loudness-normalize`).
pub fn apply(a: &TrainArgs, parent: &Parent, cfg: &mut TrainConfig) -> anyhow::Result<()> {
    apply_recipe(&a.recipe, a.tiny, parent, cfg)
}

/// [`apply`] of the recipe flags `r` and `--tiny` (`ser-train cv` has both, not the rest of
/// `ser-train`'s flags).
pub fn apply_recipe(
    r: &RecipeArgs,
    tiny: bool,
    parent: &Parent,
    cfg: &mut TrainConfig,
) -> anyhow::Result<()> {
    let from = parent.init.from.display();
    let theirs = &parent.manifest.features;
    if r.features.is_some() || r.cmvn {
        // What the flags would give, compared on the settings they control.
        let probe = RecipeArgs {
            features: r.features,
            cmvn: r.cmvn,
            ..Default::default()
        };
        let asked = probe.config(parent.model().family(), false).features;
        let differs = (r.features.is_some()
            && (asked.kind != theirs.kind || asked.deltas != theirs.deltas))
            || (r.cmvn && !theirs.cmvn);
        if differs {
            bail!(
                "--features/--cmvn ask for {}, but --init {from} was trained on {}: a \
                 fine-tune keeps the parent's features (leave these flags out)",
                describe_features(&asked),
                describe_features(theirs)
            );
        }
    }
    let (channels, hidden, strided) = width(parent.model());
    if let Some(ch) = &r.channels
        && Some(ch) != channels.as_ref()
    {
        bail!("--channels {ch:?} contradicts --init {from}, whose conv channels are {channels:?}");
    }
    if let Some(h) = r.hidden
        && Some(h) != hidden
    {
        bail!("--hidden {h} contradicts --init {from}, whose recurrent width is {hidden:?}");
    }
    if r.pooled_stem && strided == Some(true) {
        bail!("--pooled-stem contradicts --init {from}, whose first conv block is strided");
    }
    if tiny {
        bail!("--tiny contradicts --init {from}: a fine-tune keeps the parent's network");
    }
    if let Some(target_lufs) = r.loudness_normalize {
        let theirs = parent.preprocess().normalize;
        if theirs != (ser_audio::Normalize::Loudness { target_lufs }) {
            bail!(
                "--loudness-normalize {target_lufs} contradicts --init {from}, whose clips were \
                 level-normalised as {theirs:?}: a fine-tune keeps the parent's preprocessing \
                 (leave the flag out)"
            );
        }
    }
    parent.adopt(cfg);
    Ok(())
}

/// A network's conv channels, recurrent width and strided stem, where it has them.
fn width(m: &ModelConfig) -> (Option<Vec<usize>>, Option<usize>, Option<bool>) {
    match m {
        ModelConfig::Cnn(c) => (Some(c.channels.clone()), None, None),
        ModelConfig::Rnn(c) => (None, Some(c.hidden), None),
        ModelConfig::Crnn(c) => (
            Some(c.channels.clone()),
            Some(c.hidden),
            Some(c.strided_stem.unwrap_or(false)),
        ),
    }
}
