//! Loading a corpus into cached feature matrices and choosing held-out speakers.

use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;

use dsp_features::{FeatureConfig, FeatureExtractor, FeatureMatrix};
use ndarray::Array2;
use ravdess_loader::{
    Corpus, Emotion, Layout, LeftOut, LoadOptions, Utterance, load_audio, open_corpus, synth,
};
use ser_audio::Preprocess;
use ser_audio::channel::ChannelSimulator;
use ser_audio::rng::SplitMix64;
use ser_eval::CorpusRef;
use ser_eval::heard::EvaluatedCorpus;

use crate::cache;
use crate::config::{ChannelAugment, DataSource, SpeakerSplit, TrainConfig, WaveNoise};
use crate::error::{Result, TrainError};
use crate::trainer::{Stage, TrainEvent};

/// One clip's features (not normalised) with its speaker and label.
#[derive(Debug, Clone)]
pub struct Item {
    /// Utterance id.
    pub id: String,
    /// Speaker id (`corpus:speaker` when the dataset combines several corpora).
    pub speaker: String,
    /// The corpus of the clip (`ravdess_loader::Utterance::corpus`).
    pub corpus: String,
    /// Index into [`Dataset::labels`].
    pub label: usize,
    /// Features `[bins, frames]`.
    pub features: FeatureMatrix,
    /// Features of noisy copies of the clip (waveform-domain noise, see
    /// [`WaveNoise`]); empty unless the config asks for them.
    pub noisy: Vec<Array2<f32>>,
    /// Features of copies of the clip through simulated recording chains (see
    /// [`ChannelAugment`]); empty unless the config asks for them.
    pub channel: Vec<Array2<f32>>,
}

/// A corpus as features, ready for any speaker split.
#[derive(Debug, Clone)]
pub struct Dataset {
    /// Where it came from (a path or `<generated corpus>`).
    pub source: String,
    /// Class names (RAVDESS order when every label is a RAVDESS emotion, else sorted): the
    /// union of the corpora's labels after their label maps, or the target labels asked for.
    pub labels: Vec<String>,
    /// The corpora when several are combined (speakers are then namespaced by their names);
    /// empty for one corpus.
    pub corpora: Vec<CorpusRef>,
    /// The clips.
    pub items: Vec<Item>,
    /// The corpora as speaker checks compare them ([`EvaluatedCorpus::list`]): a parent or
    /// teacher that heard a test speaker is found corpus by corpus.
    pub evaluated: Vec<EvaluatedCorpus>,
    /// Feature config used.
    pub features: FeatureConfig,
    /// Preprocessing used.
    pub preprocess: Preprocess,
}

impl Dataset {
    /// `speakers` (as the items name them), each with its corpus's name (empty for a speaker
    /// without clips), the form `ser_eval::heard::check` compares.
    pub fn speakers_with_corpus(&self, speakers: &[String]) -> Vec<(String, String)> {
        speakers
            .iter()
            .map(|s| {
                let corpus = self
                    .items
                    .iter()
                    .find(|i| &i.speaker == s)
                    .map(|i| i.corpus.clone())
                    .unwrap_or_default();
                (s.clone(), corpus)
            })
            .collect()
    }

    /// Sorted distinct speakers.
    pub fn speakers(&self) -> Vec<String> {
        self.items
            .iter()
            .map(|i| i.speaker.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect()
    }

    /// Class weights of the training loss over `train_idx` (items), one per label:
    /// inverse class frequency, where a class's frequency is measured among the training
    /// clips **of the corpora that have that class**:
    ///
    /// `w[c] = N_c / (K * n_c)`, with `n_c` the training clips of class `c`, `N_c` the
    /// training clips of every corpus that has at least one training clip of class `c`, and
    /// `K` the number of labels.
    ///
    /// With one corpus `N_c` is every training clip, which is the rule of earlier versions
    /// (balanced classes get 1). With several, a class that one corpus lacks is not counted
    /// as rare in the pooled data because of that corpus (RAVDESS's `calm` keeps the weight
    /// it has in RAVDESS when EMO-DB, which has no `calm`, is added); a class missing from
    /// every training clip gets 1 (it is never a target), so nothing divides by zero and no
    /// weight grows with the size of a corpus that lacks the class.
    pub fn class_weights(&self, train_idx: &[usize]) -> Vec<f32> {
        let k = self.labels.len();
        let mut counts = vec![0usize; k];
        let mut per_corpus: HashMap<&str, (usize, BTreeSet<usize>)> = HashMap::new();
        for &i in train_idx {
            let item = &self.items[i];
            counts[item.label] += 1;
            let e = per_corpus.entry(item.corpus.as_str()).or_default();
            e.0 += 1;
            e.1.insert(item.label);
        }
        (0..k)
            .map(|c| {
                if counts[c] == 0 {
                    return 1.0;
                }
                let having: usize = per_corpus
                    .values()
                    .filter(|(_, labels)| labels.contains(&c))
                    .map(|(n, _)| n)
                    .sum();
                having as f32 / (k as f32 * counts[c] as f32)
            })
            .collect()
    }

    /// Indices of items whose speaker is (`inside = true`) or is not in `speakers`.
    pub fn indices(&self, speakers: &[String], inside: bool) -> Vec<usize> {
        (0..self.items.len())
            .filter(|&i| speakers.contains(&self.items[i].speaker) == inside)
            .collect()
    }
}

fn data_path(src: &DataSource) -> PathBuf {
    match src {
        DataSource::Dir(p) => p.clone(),
        DataSource::Synth(_) => PathBuf::from("<generated corpus>"),
        DataSource::Corpora(c) => PathBuf::from(c.describe()),
    }
}

/// Loads the corpus of `cfg.data`, extracting features or reading them from the cache.
/// `events` hears about the extraction ([`Stage::Features`]) and about what could not be used
/// or cached (warnings).
///
/// # Errors
///
/// An unusable corpus (no labelled clips, clips without a speaker, a single label), a clip
/// whose features fail, I/O.
pub fn load_dataset(
    cfg: &TrainConfig,
    events: &mut (dyn FnMut(TrainEvent) + Send),
) -> Result<Dataset> {
    // Extraction reports from its worker threads, one call at a time.
    let events = std::sync::Mutex::new(events);
    let emit = |e: TrainEvent| {
        if let Ok(mut f) = events.lock() {
            f(e);
        }
    };
    let progress = |done, total| {
        emit(TrainEvent::Progress {
            stage: Stage::Features,
            done,
            total,
        })
    };
    let path = data_path(&cfg.data.source);
    let data_err = |reason: String| TrainError::Data {
        path: path.clone(),
        reason,
    };
    let Source {
        utts,
        key: source_key,
        left_out,
        evaluated,
    } = utterances(cfg, &data_err)?;
    // Once, at the start: what the label maps and target labels left out.
    for l in &left_out {
        emit(TrainEvent::Note(l.to_string()));
    }
    let feat_json = serde_json::to_vec(&cfg.features).unwrap_or_default();
    let pre_json = serde_json::to_vec(&cfg.preprocess).unwrap_or_default();
    let key = cache::key(&[b"ser-train features v1", &feat_json, &pre_json, &source_key]);
    let matrices = cached(cfg, &key, "feature", &emit, || {
        extract(cfg, utts.clone(), &progress, &emit)
    })?;
    let noisy = match cfg.augment.wave_noise {
        Some(w) => {
            let w_json = serde_json::to_vec(&w).unwrap_or_default();
            let key = cache::key(&[
                b"ser-train noisy features v1",
                &feat_json,
                &pre_json,
                &source_key,
                &w_json,
            ]);
            let m = cached(cfg, &key, "noisy feature", &emit, || {
                extract_noisy(cfg, utts.clone(), &w, &progress)
            })?;
            m.into_iter().collect()
        }
        None => HashMap::new(),
    };
    let channel = match &cfg.augment.channel {
        Some(c) => {
            // `prob` is left out of the key: it only decides how often a copy is used, so
            // changing it reuses the extracted copies. The run's seed is in: it seeds them.
            let c_json = serde_json::to_vec(&(c.copies, &c.config)).unwrap_or_default();
            let key = cache::key(&[
                b"ser-train channel features v1",
                &feat_json,
                &pre_json,
                &source_key,
                &c_json,
                &cfg.seed.to_le_bytes(),
            ]);
            let m = cached(cfg, &key, "channel feature", &emit, || {
                extract_channel(cfg, utts.clone(), c, &progress)
            })?;
            m.into_iter().collect()
        }
        None => HashMap::new(),
    };
    let labels = label_order(&utts);
    let items = items(cfg, matrices, (noisy, channel), &utts, &labels)?;
    if items.is_empty() {
        return Err(data_err("no clip could be loaded".into()));
    }
    if labels.len() < 2 {
        return Err(data_err(format!(
            "only one label ({:?}); a classifier needs at least two",
            labels
        )));
    }
    let corpora = match &cfg.data.source {
        DataSource::Corpora(c) if c.several() => c.refs(),
        _ => Vec::new(),
    };
    Ok(Dataset {
        source: path.display().to_string(),
        labels,
        corpora,
        items,
        evaluated,
        features: cfg.features.clone(),
        preprocess: cfg.preprocess,
    })
}

/// What [`utterances`] reads of the data source.
struct Source {
    /// The clips, without audio.
    utts: Vec<Utterance>,
    /// The source-specific part of the cache key.
    key: Vec<u8>,
    /// The clips the label maps left out.
    left_out: Vec<LeftOut>,
    /// The corpora as speaker checks see them.
    evaluated: Vec<EvaluatedCorpus>,
}

/// The corpus's utterances and what goes with them ([`Source`]), checked for labels and
/// speakers.
fn utterances(cfg: &TrainConfig, data_err: &impl Fn(String) -> TrainError) -> Result<Source> {
    let (utts, source_key, left_out, evaluated) = match &cfg.data.source {
        DataSource::Synth(s) => {
            let key = serde_json::to_vec(s).unwrap_or_default();
            let corpus = Corpus::from_utterances(
                data_path(&cfg.data.source),
                Layout::Generated,
                synth::generate_labels_only(s),
            );
            let evaluated = EvaluatedCorpus::list(&corpus);
            (corpus.utterances, key, Vec::new(), evaluated)
        }
        DataSource::Dir(dir) => {
            let corpus = open_corpus(dir)?;
            let key = content_key(&corpus, data_err)?;
            let evaluated = EvaluatedCorpus::list(&corpus);
            (corpus.utterances, key, corpus.left_out, evaluated)
        }
        DataSource::Corpora(c) => {
            let corpus = c.open()?;
            let key = content_key(&corpus, data_err)?;
            let evaluated = EvaluatedCorpus::list(&corpus);
            (corpus.utterances, key, corpus.left_out, evaluated)
        }
    };
    if utts.iter().any(|u| u.label.trim().is_empty()) {
        return Err(data_err(
            "some utterances have no label; every clip needs an emotion label".into(),
        ));
    }
    if let Some(u) = utts.iter().find(|u| u.speaker.is_none()) {
        return Err(data_err(format!(
            "utterance `{}` has no speaker; speaker-independent training needs one per clip \
             (RAVDESS names or a `speaker` column in a CSV manifest)",
            u.id
        )));
    }
    Ok(Source {
        utts,
        key: source_key,
        left_out,
        evaluated,
    })
}

/// The cache key of a corpus on disk: its ids, labels and file contents (an edited file
/// invalidates the cache). Errors for a corpus without a usable clip.
fn content_key(
    corpus: &ravdess_loader::Corpus,
    data_err: &impl Fn(String) -> TrainError,
) -> Result<Vec<u8>> {
    if corpus.utterances.is_empty() {
        let why = corpus
            .problems
            .first()
            .map(|p| format!(" (e.g. {p:?})"))
            .unwrap_or_default();
        return Err(data_err(format!(
            "no usable labelled WAV files found{why}; expected RAVDESS names, `label/*.wav` folders or a CSV manifest"
        )));
    }
    let mut ctx = md5::Context::new();
    for u in &corpus.utterances {
        ctx.consume(u.id.as_bytes());
        ctx.consume(u.label.as_bytes());
        if let Some(p) = &u.path {
            let bytes = std::fs::read(p).map_err(|e| TrainError::io(p, e))?;
            ctx.consume(&bytes);
        }
    }
    Ok(ctx.finalize().0.to_vec())
}

/// The cache file `key` of `cfg`'s cache directory, or `compute`d and written there (a
/// cache that cannot be written only costs time next run: a warning naming `what`).
fn cached(
    cfg: &TrainConfig,
    key: &str,
    what: &str,
    emit: &impl Fn(TrainEvent),
    compute: impl FnOnce() -> Result<Vec<(String, Array2<f32>)>>,
) -> Result<Vec<(String, Array2<f32>)>> {
    let file = cache::path(&cfg.cache_dir(), key);
    if let Some(m) = cache::read(&file) {
        return Ok(m);
    }
    let m = compute()?;
    if let Err(e) = cache::write(&file, &m) {
        emit(TrainEvent::Warning(format!(
            "{what} cache not written: {e}"
        )));
    }
    Ok(m)
}

/// One [`Item`] per extracted clip, in extraction order, with its noisy and channel copies.
fn items(
    cfg: &TrainConfig,
    matrices: Vec<(String, Array2<f32>)>,
    (mut noisy, mut channel): (HashMap<String, Array2<f32>>, HashMap<String, Array2<f32>>),
    utts: &[Utterance],
    labels: &[String],
) -> Result<Vec<Item>> {
    let copies = cfg.augment.wave_noise.map_or(0, |w| w.copies);
    let channel_copies = cfg.augment.channel.as_ref().map_or(0, |c| c.copies);
    let by_id: HashMap<&str, &Utterance> = utts.iter().map(|u| (u.id.as_str(), u)).collect();
    let meta = FeatureExtractor::new(cfg.features.clone())?.meta();
    let mut items = Vec::with_capacity(matrices.len());
    for (id, features) in matrices {
        let Some(u) = by_id.get(id.as_str()) else {
            continue;
        };
        let label = labels.iter().position(|l| *l == u.label).unwrap_or(0);
        let noisy = (0..copies)
            .filter_map(|k| noisy.remove(&noisy_id(&id, k)))
            .collect();
        let channel = (0..channel_copies)
            .filter_map(|k| channel.remove(&channel_id(&id, k)))
            .collect();
        items.push(Item {
            id,
            speaker: u.speaker.clone().unwrap_or_default(),
            corpus: u.corpus.clone(),
            label,
            features: FeatureMatrix {
                data: features,
                meta: meta.clone(),
            },
            noisy,
            channel,
        });
    }
    Ok(items)
}

/// Audio of every clip at the feature rate: decoded from disk, or generated again for the
/// generated corpus (whose utterances are kept without audio), then `preprocess`ed if given.
fn load_clips(
    cfg: &TrainConfig,
    utts: Vec<Utterance>,
    preprocess: Option<Preprocess>,
) -> Result<ravdess_loader::Loaded> {
    let utts = match &cfg.data.source {
        DataSource::Synth(s) => synth::generate(s),
        DataSource::Dir(_) | DataSource::Corpora(_) => utts,
    };
    let opts = LoadOptions {
        target_rate: cfg.features.sample_rate,
        preprocess,
    };
    Ok(load_audio(utts, &opts, |_, _| {})?)
}

/// Cache id of noisy copy `k` of clip `id`.
fn noisy_id(id: &str, k: usize) -> String {
    format!("{id}#noise{k}")
}

/// Cache id of channel copy `k` of clip `id`.
fn channel_id(id: &str, k: usize) -> String {
    format!("{id}#channel{k}")
}

/// The first 8 bytes of the MD5 of a clip id: a seed that depends on the id only.
fn clip_seed(id: &str) -> u64 {
    let digest = md5::compute(id.as_bytes()).0;
    u64::from_le_bytes(digest[..8].try_into().unwrap_or_default())
}

/// A random stream for augmentation `key` of clip `id`, seeded by the id and the key only (so
/// it is the same for every training seed and split).
pub(crate) fn clip_rng(id: &str, key: u64) -> SplitMix64 {
    SplitMix64::derive(clip_seed(id), key)
}

/// Stream key of the channel copies, apart from the noise keys `0..copies` and the head's
/// band-limiting keys `1 << 32 ..` of [`clip_rng`] ("CHAN" in ASCII, shifted up).
const CHANNEL_STREAM: u64 = 0x4348_414E << 32;

/// The random stream of channel copy `k` of clip `id` in a run seeded with `seed`.
///
/// Unlike [`clip_rng`] (the white-noise copies, the same for every seed so that seed
/// ensembles share one cache), the run's seed is part of it: runs with other seeds hear
/// other rooms and microphones, so a seed ensemble covers more chains, at the price of one
/// extraction per seed. The seed is mixed through its own SplitMix64 step first, so that
/// seeds 0, 1, 2 do not give neighbouring states.
pub(crate) fn channel_rng(seed: u64, id: &str, k: usize) -> SplitMix64 {
    let run = SplitMix64::derive(seed, CHANNEL_STREAM).next_u64();
    SplitMix64::derive(clip_seed(id) ^ run, CHANNEL_STREAM | k as u64)
}

/// Channel copy `k` of clip `id` (raw audio at the feature rate, before preprocessing): one
/// chain drawn by `sim` from [`channel_rng`]. Shared by the networks' channel features and
/// the functionals heads' rows, so both hear the same chains.
///
/// # Errors
///
/// [`TrainError::Data`] naming the clip when the simulator rejects it (a rate outside
/// 1-192 kHz, samples that are not finite).
pub(crate) fn channel_copy(
    sim: &ChannelSimulator,
    seed: u64,
    id: &str,
    audio: &ser_audio::Audio,
    k: usize,
) -> Result<ser_audio::Audio> {
    sim.apply(audio, &mut channel_rng(seed, id, k))
        .map_err(|e| TrainError::Data {
            path: PathBuf::from(id),
            reason: format!("channel copy {k}: {e}"),
        })
}

/// Noisy copy `k` of clip `id` (raw audio at the feature rate, before preprocessing): white
/// Gaussian noise at an SNR drawn uniformly from `w.snr_db` below the RMS of the whole clip,
/// seeded by the clip id and `k` only. Shared by the networks' noisy features and the
/// functionals heads' noisy rows, so both hear the same noise.
pub(crate) fn noisy_copy(
    id: &str,
    audio: &ser_audio::Audio,
    k: usize,
    w: &WaveNoise,
) -> ser_audio::Audio {
    let mut rng = clip_rng(id, k as u64);
    let (lo, hi) = w.snr_db;
    let snr = rng.uniform(f64::from(lo), f64::from(hi.max(lo)));
    let mut noisy = audio.clone();
    noisy.add_white_noise(snr, &mut rng);
    noisy
}

/// Features of `w.copies` noisy versions of every clip: white Gaussian noise at an SNR drawn
/// uniformly from `w.snr_db` below the RMS of the whole resampled clip, added *before* the
/// preprocessing (DC removal, trim, normalisation), which is what a noisy recording goes
/// through at prediction time. The noise is seeded by the clip id and copy number only, so
/// the copies (and their cache) are the same for every training seed and split.
fn extract_noisy(
    cfg: &TrainConfig,
    utts: Vec<Utterance>,
    w: &WaveNoise,
    progress: &(impl Fn(usize, usize) + Sync),
) -> Result<Vec<(String, Array2<f32>)>> {
    extract_copies(cfg, utts, w.copies, progress, |id, a, k| {
        Ok((noisy_id(id, k), noisy_copy(id, a, k, w)))
    })
}

/// Features of `c.copies` channel copies of every clip ([`channel_copy`]), each preprocessed
/// as the clean clip is, after the chain (as a recording made through that chain would be at
/// prediction time). One simulator serves every thread (its FFT plans are shared).
fn extract_channel(
    cfg: &TrainConfig,
    utts: Vec<Utterance>,
    c: &ChannelAugment,
    progress: &(impl Fn(usize, usize) + Sync),
) -> Result<Vec<(String, Array2<f32>)>> {
    let sim = ChannelSimulator::new(c.config.clone())
        .map_err(|e| TrainError::config("--channel-config", e.to_string()))?;
    extract_copies(cfg, utts, c.copies, progress, |id, a, k| {
        Ok((channel_id(id, k), channel_copy(&sim, cfg.seed, id, a, k)?))
    })
}

/// Features of `copies` altered versions of every clip, in parallel: `make(id, raw, k)` gives
/// copy `k`'s id and its audio from the raw (resampled, not preprocessed) clip, which is then
/// preprocessed as the clean clip is and extracted. The wave-noise and channel copies share it.
fn extract_copies(
    cfg: &TrainConfig,
    utts: Vec<Utterance>,
    copies: usize,
    progress: &(impl Fn(usize, usize) + Sync),
    make: impl Fn(&str, &ser_audio::Audio, usize) -> Result<(String, ser_audio::Audio)> + Sync,
) -> Result<Vec<(String, Array2<f32>)>> {
    let loaded = load_clips(cfg, utts, None)?;
    let extractor = FeatureExtractor::new(cfg.features.clone())?;
    let total = loaded.utterances.len();
    let done = std::sync::atomic::AtomicUsize::new(0);
    use rayon::prelude::*;
    let per_clip: Vec<Vec<(String, Array2<f32>)>> = loaded
        .utterances
        .par_iter()
        .filter_map(|u| u.audio.as_ref().map(|a| (u, a)))
        .map(|(u, a)| {
            let out = (0..copies)
                .map(|k| {
                    let (id, mut copy) = make(&u.id, a, k)?;
                    cfg.preprocess.apply(&mut copy);
                    Ok((id, extractor.extract(&copy.samples)?.data))
                })
                .collect::<Result<Vec<_>>>()?;
            progress(
                done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1,
                total,
            );
            Ok(out)
        })
        .collect::<Result<_>>()?;
    Ok(per_clip.into_iter().flatten().collect())
}

fn extract(
    cfg: &TrainConfig,
    utts: Vec<Utterance>,
    progress: &(impl Fn(usize, usize) + Sync),
    emit: &impl Fn(TrainEvent),
) -> Result<Vec<(String, Array2<f32>)>> {
    let loaded = load_clips(cfg, utts, Some(cfg.preprocess))?;
    for p in &loaded.problems {
        emit(TrainEvent::Warning(format!("skipped {p:?}")));
    }
    let extractor = FeatureExtractor::new(cfg.features.clone())?;
    let total = loaded.utterances.len();
    let done = std::sync::atomic::AtomicUsize::new(0);
    use rayon::prelude::*;
    loaded
        .utterances
        .par_iter()
        .filter_map(|u| u.audio.as_ref().map(|a| (u, a)))
        .map(|(u, a)| {
            let m = extractor.extract(&a.samples)?;
            progress(
                done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1,
                total,
            );
            Ok((u.id.clone(), m.data))
        })
        .collect()
}

fn label_order(utts: &[Utterance]) -> Vec<String> {
    let present: BTreeSet<&str> = utts.iter().map(|u| u.label.as_str()).collect();
    if present.iter().all(|l| Emotion::from_name(l).is_some()) {
        Emotion::ALL
            .iter()
            .map(|e| e.name())
            .filter(|n| present.contains(n))
            .map(String::from)
            .collect()
    } else {
        present.into_iter().map(String::from).collect()
    }
}

/// Resolves the test and validation speakers: the requested ones (checked to exist), or by
/// default actors 21-24 / 19-20 when present, else the last ~1/6 of speakers for test and the
/// last ~1/10 of the rest for validation (RAVDESS numbering alternates male/female, so the
/// last speakers are gender-balanced).
///
/// With several corpora (speakers `corpus:speaker`), requested ids may be bare when only one
/// corpus has that speaker (`ravdess_loader::speaker::resolve`), and the defaults are chosen
/// corpus by corpus with the same rule (RAVDESS 21-24 / 19-20, EMO-DB's last speakers), so
/// every corpus has held-out speakers; a corpus of fewer than 3 speakers only trains.
pub fn resolve_split(ds: &Dataset, req: &SpeakerSplit) -> Result<SpeakerSplit> {
    let speakers = ds.speakers();
    let err = |reason: String| TrainError::Data {
        path: PathBuf::from(&ds.source),
        reason,
    };
    if speakers.len() < 3 {
        return Err(err(format!(
            "{} speaker(s) ({}); speaker-independent training needs at least 3 (train, validation, test)",
            speakers.len(),
            speakers.join(", ")
        )));
    }
    let req = SpeakerSplit {
        test: ravdess_loader::speaker::resolve(&speakers, &req.test, "--test-actors")?,
        val: ravdess_loader::speaker::resolve(&speakers, &req.val, "--val-actors")?,
    };
    for s in req.test.iter().chain(&req.val) {
        if !speakers.contains(s) {
            return Err(TrainError::config(
                "--test-actors/--val-actors",
                format!(
                    "speaker `{s}` is not in the corpus (speakers: {})",
                    speakers.join(", ")
                ),
            ));
        }
    }
    let (test, val) = if ds.corpora.len() > 1 {
        let mut split = (Vec::new(), Vec::new());
        for c in &ds.corpora {
            let prefix = format!("{}{}", c.name, ravdess_loader::speaker::SEPARATOR);
            let own: Vec<String> = speakers
                .iter()
                .filter_map(|s| s.strip_prefix(&prefix).map(String::from))
                .collect();
            if own.len() < 3 {
                continue;
            }
            let (t, v) = default_split(&own, &[], &[]);
            split.0.extend(t.iter().map(|s| format!("{prefix}{s}")));
            split.1.extend(v.iter().map(|s| format!("{prefix}{s}")));
        }
        split.0.sort();
        split.1.sort();
        // Asked-for lists win over the per-corpus defaults; default validation speakers are
        // never the asked-for test speakers.
        let test = if req.test.is_empty() {
            split.0
        } else {
            req.test.clone()
        };
        let val = if req.val.is_empty() {
            split.1.into_iter().filter(|s| !test.contains(s)).collect()
        } else {
            req.val.clone()
        };
        (test, val)
    } else {
        default_split(&speakers, &req.test, &req.val)
    };
    let train = speakers
        .iter()
        .filter(|s| !test.contains(s) && !val.contains(s))
        .count();
    if train == 0 {
        return Err(err(
            "no speaker left for training after test and validation hold-out".into(),
        ));
    }
    Ok(SpeakerSplit { test, val })
}

/// The test and validation speakers of one corpus's sorted `speakers`: the asked-for ones, or
/// the defaults of [`resolve_split`].
fn default_split(
    speakers: &[String],
    test_req: &[String],
    val_req: &[String],
) -> (Vec<String>, Vec<String>) {
    let want = |names: &[&str]| names.iter().all(|n| speakers.iter().any(|s| s == n));
    let test = if !test_req.is_empty() {
        test_req.to_vec()
    } else if want(&["21", "22", "23", "24"]) && speakers.len() >= 8 {
        ["21", "22", "23", "24"].map(String::from).to_vec()
    } else {
        let n = (speakers.len() / 6).clamp(1, 4);
        speakers[speakers.len() - n..].to_vec()
    };
    let rest: Vec<String> = speakers
        .iter()
        .filter(|s| !test.contains(s))
        .cloned()
        .collect();
    let val = if !val_req.is_empty() {
        val_req.to_vec()
    } else if want(&["19", "20"])
        && !test.contains(&"19".to_string())
        && !test.contains(&"20".to_string())
        && rest.len() >= 6
    {
        vec!["19".to_string(), "20".to_string()]
    } else {
        let n = (rest.len() / 10).clamp(1, 2);
        rest[rest.len().saturating_sub(n)..].to_vec()
    };
    (test, val)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ravdess_loader::synth::SynthConfig;
    use ser_models::Family;

    fn config(cache: &std::path::Path, wave_noise: Option<WaveNoise>) -> TrainConfig {
        let mut cfg = TrainConfig::new(Family::Crnn);
        cfg.data.source = DataSource::Synth(SynthConfig {
            actors: vec![1],
            ..Default::default()
        });
        cfg.output.cache_dir = Some(cache.to_path_buf());
        cfg.augment.wave_noise = wave_noise;
        cfg
    }

    fn mean(m: &Array2<f32>) -> f32 {
        m.iter().sum::<f32>() / m.len() as f32
    }

    /// A chain that always reverberates and adds noise, so every copy differs from its clip.
    fn room(rt60: f32) -> ChannelAugment {
        let mut config = ser_audio::channel::ChannelConfig::none();
        config.reverb.prob = 1.0;
        config.reverb.rt60_secs = (rt60, rt60 + 0.1);
        config.noise.prob = 1.0;
        ChannelAugment {
            copies: 2,
            prob: 0.5,
            config,
        }
    }

    fn cache_files(dir: &std::path::Path) -> BTreeSet<String> {
        std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect()
    }

    /// Issue 27, item 3: channel copies are reproducible (seeded by the run's seed, the clip
    /// and the copy), differ from the clean clip and from each other, leave the clean
    /// features and their cache file as they were, and are cached under a key that changes
    /// with the chain config and the seed but not with the probability.
    #[test]
    fn channel_copies_are_deterministic_differ_from_the_clean_clip_and_are_cached() {
        let dir = tempfile::tempdir().unwrap();
        let with = |c: Option<ChannelAugment>, seed: u64| {
            let mut cfg = config(dir.path(), None);
            cfg.augment.channel = c;
            cfg.seed = seed;
            load_dataset(&cfg, &mut |_| {}).unwrap()
        };
        let clean = with(None, 42);
        assert!(clean.items.iter().all(|it| it.channel.is_empty()));
        let clean_files = cache_files(dir.path());
        assert_eq!(clean_files.len(), 1);

        let a = with(Some(room(0.4)), 42);
        let files = cache_files(dir.path());
        assert_eq!(files.len(), 2, "one clean and one channel cache file");
        assert!(
            files.is_superset(&clean_files),
            "the clean cache key is unchanged"
        );
        for (c, x) in clean.items.iter().zip(&a.items) {
            assert_eq!(c.id, x.id);
            assert_eq!(c.features.data, x.features.data, "clean features unchanged");
            assert!(x.noisy.is_empty());
            assert_eq!(x.channel.len(), 2);
            assert_eq!(x.channel[0].nrows(), c.features.data.nrows());
            assert_ne!(
                x.channel[0], c.features.data,
                "{}: a copy is not the clip",
                c.id
            );
            assert_ne!(
                x.channel[0], x.channel[1],
                "{}: each copy draws its chain",
                c.id
            );
        }

        // Deterministic: extracted again from scratch (no cache), the very same copies.
        let fresh = tempfile::tempdir().unwrap();
        let mut cfg = config(fresh.path(), None);
        cfg.augment.channel = Some(room(0.4));
        let again = load_dataset(&cfg, &mut |_| {}).unwrap();
        for (x, y) in a.items.iter().zip(&again.items) {
            assert_eq!(x.channel, y.channel);
        }

        // Another probability reuses the copies; another chain or seed extracts new ones.
        let mut p = room(0.4);
        p.prob = 0.9;
        let reused = with(Some(p), 42);
        assert_eq!(cache_files(dir.path()).len(), 2);
        assert_eq!(reused.items[0].channel, a.items[0].channel);
        let longer = with(Some(room(0.9)), 42);
        assert_eq!(
            cache_files(dir.path()).len(),
            3,
            "a changed chain is not reused"
        );
        assert_ne!(longer.items[0].channel, a.items[0].channel);
        let reseeded = with(Some(room(0.4)), 7);
        assert_eq!(
            cache_files(dir.path()).len(),
            4,
            "another seed is not reused"
        );
        assert_ne!(reseeded.items[0].channel, a.items[0].channel);
        assert_eq!(
            reseeded.items[0].features.data,
            clean.items[0].features.data
        );
    }

    #[test]
    fn channel_streams_depend_on_seed_clip_and_copy() {
        let first = |seed, id, k| channel_rng(seed, id, k).next_u64();
        let base = first(42, "a.wav", 0);
        assert_eq!(base, first(42, "a.wav", 0));
        for other in [
            first(43, "a.wav", 0),
            first(42, "b.wav", 0),
            first(42, "a.wav", 1),
        ] {
            assert_ne!(base, other);
        }
        // Apart from the white-noise and band-limiting streams of the same clip.
        assert_ne!(base, clip_rng("a.wav", 0).next_u64());
    }

    #[test]
    fn wave_noise_copies_are_noisier_versions_of_each_clip_and_are_cached() {
        let dir = tempfile::tempdir().unwrap();
        let clean = load_dataset(&config(dir.path(), None), &mut |_| {}).unwrap();
        assert!(clean.items.iter().all(|it| it.noisy.is_empty()));
        let at = |snr: f32| WaveNoise {
            copies: 2,
            snr_db: (snr, snr),
            prob: 0.5,
        };
        let loud = load_dataset(&config(dir.path(), Some(at(5.0))), &mut |_| {}).unwrap();
        let quiet = load_dataset(&config(dir.path(), Some(at(35.0))), &mut |_| {}).unwrap();
        assert_eq!(loud.items.len(), clean.items.len());
        let (mut louder, mut quieter) = (0, 0);
        for ((c, l), q) in clean.items.iter().zip(&loud.items).zip(&quiet.items) {
            assert_eq!(c.id, l.id);
            assert_eq!(c.features.data, l.features.data, "clean features unchanged");
            assert_eq!(l.noisy.len(), 2);
            assert_ne!(l.noisy[0], l.noisy[1], "each copy draws its own noise");
            assert_eq!(l.noisy[0].nrows(), c.features.data.nrows());
            // Noise fills the quiet bands and frames: the mean log-mel level rises, more at
            // 5 dB SNR than at 35 dB.
            louder += usize::from(mean(&l.noisy[0]) > mean(&c.features.data));
            quieter += usize::from(mean(&l.noisy[0]) > mean(&q.noisy[0]));
        }
        let n = clean.items.len();
        assert_eq!(louder, n, "5 dB noise raised the level of every clip");
        assert_eq!(
            quieter, n,
            "5 dB noise is louder than 35 dB noise in every clip"
        );
        // A second load reads the cache and gets the very same copies.
        let again = load_dataset(&config(dir.path(), Some(at(5.0))), &mut |_| {}).unwrap();
        for (a, b) in again.items.iter().zip(&loud.items) {
            assert_eq!(a.noisy, b.noisy);
        }
        let caches = std::fs::read_dir(dir.path()).unwrap().count();
        assert_eq!(caches, 3, "one clean and two noisy cache files");
    }
}
