//! Container image references, checked against the grammar of `distribution/reference`:
//! `[domain[:port]/]path[:tag][@digest]`.

/// A parsed image reference.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageReference<'a> {
    /// Repository including the registry domain, e.g. `ghcr.io/tailscale/tailscale`.
    pub repository: &'a str,
    /// Tag, e.g. `v1.56.1`.
    pub tag: Option<&'a str>,
    /// Digest, e.g. `sha256:...`.
    pub digest: Option<&'a str>,
}

impl ImageReference<'_> {
    /// Whether the reference names one immutable image: a digest, or a tag that is not a
    /// moving alias such as `latest`.
    #[must_use]
    pub fn is_pinned(&self) -> bool {
        self.digest.is_some()
            || self.tag.is_some_and(|tag| {
                !matches!(
                    tag,
                    "latest" | "stable" | "unstable" | "main" | "nightly" | "canary"
                )
            })
    }
}

fn is_alnum_lower(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit()
}

fn valid_path_component(component: &str) -> bool {
    // alpha-numeric (separator alpha-numeric)*, separator = [_.] | __ | [-]+
    let bytes = component.as_bytes();
    if bytes.is_empty()
        || !is_alnum_lower(bytes[0] as char)
        || !is_alnum_lower(bytes[bytes.len() - 1] as char)
    {
        return false;
    }
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i] as char;
        if is_alnum_lower(c) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && !is_alnum_lower(bytes[i] as char) {
            i += 1;
        }
        let separator = &component[start..i];
        let ok = matches!(separator, "_" | "." | "__") || separator.chars().all(|c| c == '-');
        if !ok {
            return false;
        }
    }
    true
}

fn valid_domain(domain: &str) -> bool {
    let (host, port) = match domain.rsplit_once(':') {
        Some((host, port)) if !host.ends_with(']') || domain.starts_with('[') => (host, Some(port)),
        _ => (domain, None),
    };
    if port.is_some_and(|port| port.is_empty() || !port.chars().all(|c| c.is_ascii_digit())) {
        return false;
    }
    if host.starts_with('[') {
        return host.ends_with(']')
            && host[1..host.len() - 1]
                .parse::<std::net::Ipv6Addr>()
                .is_ok();
    }
    !host.is_empty()
        && host.split('.').all(|part| {
            !part.is_empty()
                && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                && !part.starts_with('-')
                && !part.ends_with('-')
        })
}

/// Parses an image reference, or says why it is not one.
///
/// # Errors
/// A message naming the expected form.
pub fn parse_image(reference: &str) -> Result<ImageReference<'_>, String> {
    let invalid = |why: &str| {
        format!(
            "`{reference}` is not a valid image reference ({why}); expected `[registry/]repository[:tag][@digest]`, e.g. `ghcr.io/tailscale/tailscale:v1.78.3`"
        )
    };
    if reference.is_empty() {
        return Err(invalid("it is empty"));
    }
    if reference.chars().any(char::is_whitespace) {
        return Err(invalid("it contains whitespace"));
    }
    let (name_and_tag, digest) = match reference.split_once('@') {
        Some((name, digest)) => (name, Some(digest)),
        None => (reference, None),
    };
    if let Some(digest) = digest {
        let Some((algorithm, hex)) = digest.split_once(':') else {
            return Err(invalid("the digest must be `algorithm:hex`"));
        };
        let algorithm_ok = algorithm.split(['+', '.', '-', '_']).all(|part| {
            part.starts_with(|c: char| c.is_ascii_alphabetic())
                && part.chars().all(|c| c.is_ascii_alphanumeric())
        });
        if !algorithm_ok || hex.len() < 32 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(invalid(
                "the digest must be `algorithm:hex` with at least 32 hex digits",
            ));
        }
    }
    let last_slash = name_and_tag.rfind('/').map_or(0, |n| n + 1);
    let (repository, tag) = match name_and_tag[last_slash..].rfind(':') {
        Some(colon) => {
            let split = last_slash + colon;
            (&name_and_tag[..split], Some(&name_and_tag[split + 1..]))
        }
        None => (name_and_tag, None),
    };
    if let Some(tag) = tag {
        let ok = !tag.is_empty()
            && tag.len() <= 128
            && tag.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
            && tag
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
        if !ok {
            return Err(invalid(
                "a tag is up to 128 letters, digits, '_', '.' and '-'",
            ));
        }
    }
    if repository.is_empty() || repository.len() > 255 {
        return Err(invalid("the repository must be 1 to 255 characters"));
    }
    let mut components: Vec<&str> = repository.split('/').collect();
    let first = components[0];
    let has_domain = components.len() > 1
        && (first.contains('.')
            || first.contains(':')
            || first == "localhost"
            || first.chars().any(|c| c.is_ascii_uppercase()));
    if has_domain {
        if !valid_domain(first) {
            return Err(invalid("the registry domain is malformed"));
        }
        components.remove(0);
    }
    if !components
        .iter()
        .all(|component| valid_path_component(component))
    {
        return Err(invalid(
            "repository path components are lowercase letters and digits, separated by '.', '_', '__' or '-'",
        ));
    }
    Ok(ImageReference {
        repository,
        tag,
        digest,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_real_references() {
        for reference in [
            "inferadb-engine:latest",
            "tailscale/tailscale:v1.56.1",
            "ghcr.io/tailscale/tailscale:v1.78.3",
            "foundationdb/fdb-kubernetes-operator:v1.45.0",
            "localhost:5000/inferadb/engine",
            "registry.example.com:443/a/b__c/d-e:1.0",
            "busybox@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        ] {
            assert!(parse_image(reference).is_ok(), "{reference}");
        }
    }

    #[test]
    fn rejects_malformed_references() {
        for reference in [
            "",
            "UPPER",
            "repo/Upper",
            "a b",
            "repo:",
            "repo:-tag",
            "a//b",
            "-a",
            "a@sha256:xyz",
            "repo:tag:more",
        ] {
            assert!(parse_image(reference).is_err(), "{reference}");
        }
    }

    #[test]
    fn pinning() {
        assert!(parse_image("tailscale/tailscale:v1.56.1").is_ok_and(|r| r.is_pinned()));
        assert!(parse_image("tailscale/tailscale:latest").is_ok_and(|r| !r.is_pinned()));
        assert!(parse_image("tailscale/tailscale").is_ok_and(|r| !r.is_pinned()));
    }
}
