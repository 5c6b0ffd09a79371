//! ser-eval's metrics against scikit-learn.
//!
//! Reference values come from `tests/fixtures/make_sklearn_fixtures.py` (committed beside the
//! JSON it writes): `classification_report(labels=range(k), output_dict=True, zero_division=0)`,
//! `balanced_accuracy_score`, `confusion_matrix` (counts and `normalize="true"`),
//! `cohen_kappa_score`, `f1_score(average="macro"|"weighted")`, and percentile-bootstrap
//! intervals computed with sklearn on the same SplitMix64 index stream.
// Tests may unwrap (a panic is a failed test); clippy's allow-unwrap-in-tests does not reach
// helper functions of integration tests.
#![allow(clippy::unwrap_used)]

use ser_eval::metrics::{BootstrapConfig, ClassificationReport, bootstrap_ci};
use serde_json::Value;

/// Agreement required with scikit-learn. Both sides compute the same ratios of integers in
/// f64; differences come only from summation order, far below this.
const SKLEARN_TOL: f64 = 1e-9;

fn fixtures() -> Value {
    let text = include_str!("fixtures/sklearn_metrics.json");
    serde_json::from_str(text).unwrap()
}

fn indices(v: &Value) -> Vec<usize> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap() as usize)
        .collect()
}

fn close(name: &str, what: &str, got: f64, want: &Value) {
    let want = want
        .as_f64()
        .unwrap_or_else(|| panic!("{name}: {what} missing"));
    assert!(
        (got - want).abs() <= SKLEARN_TOL,
        "{name}: {what} = {got}, sklearn says {want}"
    );
}

#[test]
fn fixture_file_has_every_required_case() {
    let f = fixtures();
    let names: Vec<&str> = f["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    for required in [
        "balanced",
        "imbalanced",
        "absent_from_true",
        "never_predicted",
        "perfect",
        "all_wrong",
        "binary",
        "eight_classes",
    ] {
        assert!(names.contains(&required), "missing case {required}");
    }
}

#[test]
fn classification_report_matches_sklearn() {
    for case in fixtures()["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let k = case["n_classes"].as_u64().unwrap() as usize;
        let (t, p) = (indices(&case["y_true"]), indices(&case["y_pred"]));
        let rep = ClassificationReport::new(&t, &p, k).unwrap();
        let sk = &case["report"];

        for c in 0..k {
            let row = &sk[c.to_string()];
            let m = rep.per_class[c];
            close(
                name,
                &format!("precision[{c}]"),
                m.precision,
                &row["precision"],
            );
            close(name, &format!("recall[{c}]"), m.recall, &row["recall"]);
            close(name, &format!("f1[{c}]"), m.f1, &row["f1-score"]);
            close(
                name,
                &format!("support[{c}]"),
                m.support as f64,
                &row["support"],
            );
        }
        for (key, avg) in [
            ("macro avg", rep.macro_avg),
            ("weighted avg", rep.weighted_avg),
        ] {
            close(
                name,
                &format!("{key} precision"),
                avg.precision,
                &sk[key]["precision"],
            );
            close(
                name,
                &format!("{key} recall"),
                avg.recall,
                &sk[key]["recall"],
            );
            close(name, &format!("{key} f1"), avg.f1, &sk[key]["f1-score"]);
        }
        close(name, "accuracy", rep.accuracy, &sk["accuracy"]);
        close(
            name,
            "balanced_accuracy",
            rep.balanced_accuracy,
            &case["balanced_accuracy"],
        );
        close(name, "cohen_kappa", rep.kappa, &case["cohen_kappa"]);
        close(name, "f1_macro", rep.macro_avg.f1, &case["f1_macro"]);
        close(
            name,
            "f1_weighted",
            rep.weighted_avg.f1,
            &case["f1_weighted"],
        );
        assert_eq!(rep.n, t.len());

        let want_cm: Vec<Vec<u64>> = case["confusion_matrix"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                r.as_array()
                    .unwrap()
                    .iter()
                    .map(|x| x.as_u64().unwrap())
                    .collect()
            })
            .collect();
        assert_eq!(
            rep.confusion.counts(),
            want_cm.as_slice(),
            "{name}: confusion"
        );
        let norm = rep.confusion.row_normalized();
        for (i, row) in case["confusion_normalized"]
            .as_array()
            .unwrap()
            .iter()
            .enumerate()
        {
            for (j, v) in row.as_array().unwrap().iter().enumerate() {
                close(name, &format!("normalized[{i}][{j}]"), norm[i][j], v);
            }
        }
    }
}

#[test]
fn ua_differs_from_macro_recall_when_a_class_is_absent() {
    // The documented difference: sklearn's balanced_accuracy_score drops the absent class,
    // macro recall (labels passed) counts it as 0.
    let f = fixtures();
    let case = f["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "absent_from_true")
        .unwrap();
    let rep =
        ClassificationReport::new(&indices(&case["y_true"]), &indices(&case["y_pred"]), 4).unwrap();
    assert_eq!(rep.classes_absent_from_truth(), vec![2]);
    assert!((rep.balanced_accuracy * 3.0 - rep.macro_avg.recall * 4.0).abs() < SKLEARN_TOL);
}

#[test]
fn bootstrap_matches_sklearn_on_same_index_stream() {
    for case in fixtures()["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let k = case["n_classes"].as_u64().unwrap() as usize;
        let b = &case["bootstrap"];
        let cfg = BootstrapConfig {
            resamples: b["resamples"].as_u64().unwrap() as usize,
            confidence: b["confidence"].as_f64().unwrap(),
            seed: b["seed"].as_u64().unwrap(),
        };
        let ci = bootstrap_ci(
            &indices(&case["y_true"]),
            &indices(&case["y_pred"]),
            k,
            &cfg,
        )
        .unwrap();
        close(name, "ua.low", ci.ua.low, &b["ua"][0]);
        close(name, "ua.high", ci.ua.high, &b["ua"][1]);
        close(name, "macro_f1.low", ci.macro_f1.low, &b["macro_f1"][0]);
        close(name, "macro_f1.high", ci.macro_f1.high, &b["macro_f1"][1]);
    }
}
