//! Kubernetes name and label syntax (RFC 1123 / RFC 1035 labels, DNS subdomains, label keys and
//! values), with messages in the words Kubernetes itself uses.

/// Longest DNS label (RFC 1123).
pub const DNS_LABEL_MAX: usize = 63;
/// Longest DNS subdomain (RFC 1123).
pub const DNS_SUBDOMAIN_MAX: usize = 253;

fn is_lower_alnum(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit()
}

/// Why `value` is not an RFC 1123 DNS label (`us-west-1`), if it is not.
#[must_use]
pub fn dns_label_problem(value: &str) -> Option<String> {
    if value.is_empty() {
        return Some("must not be empty".to_owned());
    }
    if value.len() > DNS_LABEL_MAX {
        return Some(format!(
            "must be at most {DNS_LABEL_MAX} characters (DNS label), found {}",
            value.len()
        ));
    }
    let valid = value.chars().all(|c| is_lower_alnum(c) || c == '-')
        && value.chars().next().is_some_and(is_lower_alnum)
        && value.chars().last().is_some_and(is_lower_alnum);
    (!valid).then(|| {
        format!(
            "`{value}` is not a DNS label: use lowercase letters, digits and '-', starting and ending with a letter or digit (e.g. `us-west-1`)"
        )
    })
}

/// Why `value` is not an RFC 1035 DNS label (a DNS label that starts with a letter, as Service
/// names must), if it is not.
#[must_use]
pub fn dns1035_label_problem(value: &str) -> Option<String> {
    dns_label_problem(value).or_else(|| {
        (!value.starts_with(|c: char| c.is_ascii_lowercase())).then(|| {
            format!("`{value}` must start with a lowercase letter (it prefixes Service names, which are RFC 1035 labels)")
        })
    })
}

/// Why `value` is not an RFC 1123 DNS subdomain (`fast-ssd`, `example.com`), if it is not.
#[must_use]
pub fn dns_subdomain_problem(value: &str) -> Option<String> {
    if value.is_empty() {
        return Some("must not be empty".to_owned());
    }
    if value.len() > DNS_SUBDOMAIN_MAX {
        return Some(format!(
            "must be at most {DNS_SUBDOMAIN_MAX} characters (DNS subdomain), found {}",
            value.len()
        ));
    }
    let valid = value
        .split('.')
        .all(|part| !part.is_empty() && dns_label_problem(part).is_none());
    (!valid).then(|| {
        format!(
            "`{value}` is not a DNS subdomain: use lowercase letters, digits, '-' and '.', each part starting and ending with a letter or digit"
        )
    })
}

fn is_label_name(value: &str) -> bool {
    !value.is_empty()
        && value.len() <= DNS_LABEL_MAX
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && value
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric())
        && value
            .chars()
            .last()
            .is_some_and(|c| c.is_ascii_alphanumeric())
}

/// Why `key` is not a valid Kubernetes label (or annotation-style qualified) key, if it is not.
#[must_use]
pub fn label_key_problem(key: &str) -> Option<String> {
    let (prefix, name) = match key.rsplit_once('/') {
        Some((prefix, name)) => (Some(prefix), name),
        None => (None, key),
    };
    if let Some(prefix) = prefix
        && dns_subdomain_problem(prefix).is_some()
    {
        return Some(format!(
            "label key `{key}`: the prefix `{prefix}` must be a DNS subdomain (e.g. `example.com`)"
        ));
    }
    (!is_label_name(name)).then(|| {
        format!(
            "label key `{key}`: the name must be at most 63 characters of letters, digits, '-', '_' and '.', starting and ending with a letter or digit"
        )
    })
}

/// Why `value` is not a valid Kubernetes label value, if it is not.
#[must_use]
pub fn label_value_problem(value: &str) -> Option<String> {
    (!value.is_empty() && !is_label_name(value)).then(|| {
        format!(
            "label value `{value}` must be empty or at most 63 characters of letters, digits, '-', '_' and '.', starting and ending with a letter or digit"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_labels() {
        assert!(dns_label_problem("us-west-1").is_none());
        assert!(dns_label_problem("a").is_none());
        assert!(dns_label_problem("US-west").is_some());
        assert!(dns_label_problem("-a").is_some());
        assert!(dns_label_problem("a-").is_some());
        assert!(dns_label_problem("a_b").is_some());
        assert!(dns_label_problem("").is_some());
        assert!(dns_label_problem(&"a".repeat(63)).is_none());
        assert!(dns_label_problem(&"a".repeat(64)).is_some());
        assert!(dns1035_label_problem("1abc").is_some());
        assert!(dns1035_label_problem("abc1").is_none());
    }

    #[test]
    fn subdomains_and_labels() {
        assert!(dns_subdomain_problem("fast-ssd").is_none());
        assert!(dns_subdomain_problem("gp3.csi.aws").is_none());
        assert!(dns_subdomain_problem("a..b").is_some());
        assert!(label_key_problem("node-role.kubernetes.io/fdb").is_none());
        assert!(label_key_problem("team").is_none());
        assert!(label_key_problem("Bad Key").is_some());
        assert!(label_key_problem("UPPER.example/x").is_some());
        assert!(label_value_problem("").is_none());
        assert!(label_value_problem("true").is_none());
        assert!(label_value_problem("has space").is_some());
    }
}
