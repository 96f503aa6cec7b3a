//! "Did you mean" suggestions: the closest known name to a misspelt one.

/// The candidate closest to `input`: same letters ignoring case, `_` and `-`, or within a small
/// edit distance.
pub(crate) fn closest<'c>(
    input: &str,
    candidates: impl Iterator<Item = &'c str>,
) -> Option<&'c str> {
    let normalize = |s: &str| -> String {
        s.chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .map(|c| c.to_ascii_lowercase())
            .collect()
    };
    let wanted = normalize(input);
    let mut best: Option<(usize, &str)> = None;
    for candidate in candidates {
        let distance = if normalize(candidate) == wanted {
            0
        } else {
            edit_distance(&wanted, &normalize(candidate))
        };
        let limit = (candidate.len().max(input.len()) / 3).clamp(1, 3);
        if distance <= limit && best.is_none_or(|(d, _)| distance < d) {
            best = Some((distance, candidate));
        }
    }
    best.map(|(_, candidate)| candidate)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitute = previous[j] + usize::from(ca != cb);
            let insert = current[j] + 1;
            let delete = previous[j + 1] + 1;
            current.push(substitute.min(insert).min(delete));
        }
        previous = current;
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closest_prefers_same_letters_then_small_edits() {
        let keys = ["cluster_name", "fdb_version", "regions"];
        assert_eq!(
            closest("clusterName", keys.iter().copied()),
            Some("cluster_name")
        );
        assert_eq!(closest("region", keys.iter().copied()), Some("regions"));
        assert_eq!(
            closest("fdbversion", keys.iter().copied()),
            Some("fdb_version")
        );
        assert_eq!(closest("zzz", keys.iter().copied()), None);
    }

    #[test]
    fn edit_distance_counts_single_edits() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "ab"), 2);
        assert_eq!(edit_distance("same", "same"), 0);
    }
}
