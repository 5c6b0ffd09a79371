//! `power_to_db` with librosa's semantics.

use crate::config::DbRef;

/// Convert power values to dB in place, like `librosa.power_to_db(S, ref, amin, top_db)`:
///
/// `10 log10(max(amin, S)) - 10 log10(max(amin, ref))`, then, if `top_db` is set, everything
/// below `max - top_db` is raised to `max - top_db` (max over the whole slice, i.e. the whole
/// utterance). With [`DbRef::Max`] the reference is the slice's maximum, so the loudest value is
/// 0 dB. An empty slice is left alone.
pub fn power_to_db(values: &mut [f32], db_ref: DbRef, amin: f32, top_db: Option<f32>) {
    if values.is_empty() {
        return;
    }
    let ref_value = match db_ref {
        DbRef::Value(r) => r.abs(),
        DbRef::Max => values.iter().cloned().fold(f32::NEG_INFINITY, f32::max),
    };
    let offset = 10.0 * amin.max(ref_value).log10();
    let mut max_db = f32::NEG_INFINITY;
    for v in values.iter_mut() {
        *v = 10.0 * v.max(amin).log10() - offset;
        max_db = max_db.max(*v);
    }
    if let Some(top) = top_db {
        let floor = max_db - top;
        for v in values.iter_mut() {
            *v = v.max(floor);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_librosa_examples() {
        // librosa.power_to_db(np.array([1.0, 10.0, 1e-3, 0.0]), ref=1.0, top_db=None)
        //   == [0, 10, -30, -100]
        let mut v = [1.0, 10.0, 1e-3, 0.0];
        power_to_db(&mut v, DbRef::Value(1.0), 1e-10, None);
        for (a, b) in v.iter().zip([0.0, 10.0, -30.0, -100.0]) {
            assert!((a - b).abs() < 1e-4, "{v:?}");
        }
        // top_db = 80 raises -100 to max - 80 = -70
        let mut v = [1.0, 10.0, 1e-3, 0.0];
        power_to_db(&mut v, DbRef::Value(1.0), 1e-10, Some(80.0));
        assert!((v[3] + 70.0).abs() < 1e-4);
        // ref = np.max -> the maximum is 0 dB
        let mut v = [1.0, 10.0];
        power_to_db(&mut v, DbRef::Max, 1e-10, Some(80.0));
        assert!(v[1].abs() < 1e-6 && (v[0] + 10.0).abs() < 1e-4);
    }
}
