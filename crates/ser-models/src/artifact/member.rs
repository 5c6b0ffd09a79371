//! One network of an ensemble on its own: what `ser-eval --member` evaluates and
//! [`unpack_member`](super::unpack_member) writes as a single-model artifact.
//!
//! A fold ensemble (`ser-train cv --ensemble-out`) holds one network per cross-validation
//! fold, and its manifest records which speakers each fold held out. Scoring one member on the
//! speakers its fold never heard reproduces that fold's figure from the shipped artifact,
//! without retraining and without a second program writing the manifest format.

use super::manifest::{ArtifactKind, FORMAT_VERSION, Manifest};
use crate::error::{ModelError, Result};

impl Manifest {
    /// The position of the member called `name_or_index` (a member's `name`, e.g. `fold-3`),
    /// or that text read as a position from 0.
    ///
    /// # Errors
    ///
    /// [`ModelError::Invalid`] (field `member`) listing the members when neither matches.
    pub fn member_index(&self, name_or_index: &str) -> Result<usize> {
        if let Some(i) = self.members.iter().position(|m| m.name == name_or_index) {
            return Ok(i);
        }
        match name_or_index.parse::<usize>() {
            Ok(i) if i < self.members.len() => Ok(i),
            _ => Err(ModelError::Invalid {
                field: "member".into(),
                reason: format!(
                    "`{name_or_index}` is neither a member name nor a position below {}; the \
                     members are {}",
                    self.members.len(),
                    self.members
                        .iter()
                        .map(|m| m.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            }),
        }
    }

    /// The manifest of member `index` alone: a single-model artifact with that member's
    /// network, normalisation and head, the shared features, preprocessing, labels, warps and
    /// functionals settings, and the member's own training record (kept by
    /// [`combine`](super::combine) under `training.members`; otherwise the training speakers of
    /// its cross-validation fold, see [`Manifest::member_fold`]). Its metrics are empty: the
    /// ensemble's scores are not the member's.
    ///
    /// # Errors
    ///
    /// [`ModelError::Invalid`] (field `member`) when `index` is out of range.
    pub fn member_alone(&self, index: usize) -> Result<Manifest> {
        let member = self
            .members
            .get(index)
            .ok_or_else(|| ModelError::Invalid {
                field: "member".into(),
                reason: format!(
                    "position {index}, but the artifact has {} members",
                    self.members.len()
                ),
            })?
            .clone();
        let own_record = self
            .training
            .get("members")
            .and_then(serde_json::Value::as_array)
            .and_then(|records| {
                records.iter().find(|r| {
                    r.get("name").and_then(serde_json::Value::as_str) == Some(&member.name)
                })
            })
            .and_then(|r| r.get("training"))
            .cloned();
        let training = match (own_record, self.member_fold(index)) {
            (Some(record), _) => record,
            (None, Some(fold)) => serde_json::json!({ "train_speakers": fold.train_actors }),
            (None, None) => serde_json::json!({}),
        };
        Ok(Manifest {
            format_version: FORMAT_VERSION,
            kind: ArtifactKind::Single,
            protocol: format!(
                "member `{}` of a {}-member artifact; its own scores are not recorded",
                member.name,
                self.members.len()
            ),
            members: vec![member],
            training,
            metrics: serde_json::json!({}),
            ..self.clone()
        })
    }

    /// The cross-validation fold that trained member `index`, when this is a fold ensemble:
    /// the member is named `fold-K` and the manifest's `metrics.cv` records fold `K`.
    pub fn member_fold(&self, index: usize) -> Option<super::FoldScores> {
        let name = &self.members.get(index)?.name;
        let cv = self.scores().ok()?.cv?;
        cv.folds
            .into_iter()
            .find(|f| f.fold.is_some_and(|k| *name == format!("fold-{k}")))
    }

    /// The networks alone: this manifest without the utterance-functionals fusion (and so
    /// without the members' heads).
    pub fn without_functionals(mut self) -> Self {
        self.functionals = None;
        for m in &mut self.members {
            m.head = None;
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Family, ModelConfig};
    use dsp_features::FeatureConfig;

    fn fold_ensemble() -> Manifest {
        let mut m = Manifest::single(
            "fold-1",
            ModelConfig::default_for(Family::Cnn, 64, 2),
            FeatureConfig::default(),
            vec!["a".into(), "b".into()],
            "",
        );
        let mut second = m.members[0].clone();
        second.name = "fold-2".into();
        second.weights = "member-1.bpk".into();
        m.members.push(second);
        m.kind = ArtifactKind::Ensemble;
        m.metrics = serde_json::json!({ "cv": {
            "ua": { "mean": 0.5, "std": 0.1 },
            "folds": [
                { "fold": 1, "ua": 0.4, "test_actors": ["01"], "train_actors": ["02", "03"] },
                { "fold": 2, "ua": 0.6, "test_actors": ["02"], "train_actors": ["01", "03"] }
            ]
        }});
        m.training = serde_json::json!({ "members": [
            { "name": "fold-1", "index": 0, "training": { "train_speakers": ["02", "03"] } }
        ]});
        m
    }

    #[test]
    fn a_member_by_name_or_position_with_its_fold_and_training_record() {
        let m = fold_ensemble();
        assert_eq!(m.member_index("fold-2").unwrap(), 1);
        assert_eq!(m.member_index("0").unwrap(), 0);
        let err = m.member_index("fold-9").unwrap_err().to_string();
        assert!(err.contains("fold-1, fold-2"), "{err}");

        assert_eq!(m.member_fold(1).unwrap().test_actors, ["02"]);
        let one = m.member_alone(0).unwrap();
        one.validate().unwrap();
        assert_eq!(one.kind, ArtifactKind::Single);
        assert_eq!(one.members[0].name, "fold-1");
        // Its own record (from `combine`), else its fold's training actors.
        assert_eq!(one.training_speakers().unwrap(), ["02", "03"]);
        let two = m.member_alone(1).unwrap();
        assert_eq!(two.members[0].weights, "member-1.bpk");
        assert_eq!(two.training_speakers().unwrap(), ["01", "03"]);
        assert!(
            two.scores().unwrap().cv.is_none(),
            "the ensemble's scores stay behind"
        );
        assert!(m.member_alone(2).is_err());
    }
}
