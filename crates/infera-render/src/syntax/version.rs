//! `x.y.z` versions of FoundationDB and the operator.

use std::fmt;

/// A `major.minor.patch` version.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version {
    /// Major version.
    pub major: u32,
    /// Minor version.
    pub minor: u32,
    /// Patch version.
    pub patch: u32,
}

impl Version {
    /// A version from its parts.
    #[must_use]
    pub const fn new(major: u32, minor: u32, patch: u32) -> Self {
        Self {
            major,
            minor,
            patch,
        }
    }

    /// Parses `x.y.z` (digits only, no leading `v`).
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        let mut parts = text.split('.');
        let mut next = || -> Option<u32> {
            let part = parts.next()?;
            if part.is_empty()
                || !part.chars().all(|c| c.is_ascii_digit())
                || (part.len() > 1 && part.starts_with('0'))
            {
                return None;
            }
            part.parse().ok()
        };
        let version = Self::new(next()?, next()?, next()?);
        parts.next().is_none().then_some(version)
    }

    /// `major.minor`, as FoundationDB names its client-library lines (e.g. `7.3`).
    #[must_use]
    pub fn minor_line(&self) -> String {
        format!("{}.{}", self.major, self.minor)
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

#[cfg(test)]
mod tests {
    use super::Version;

    #[test]
    fn parses_only_plain_triples() {
        assert_eq!(Version::parse("7.3.43"), Some(Version::new(7, 3, 43)));
        assert_eq!(Version::parse("1.45.0"), Some(Version::new(1, 45, 0)));
        for bad in ["v1.45.0", "7.3", "7.3.43.1", "7.3.x", "", "07.3.1", "7..1"] {
            assert_eq!(Version::parse(bad), None, "{bad}");
        }
        assert!(Version::new(7, 3, 0) > Version::new(7, 1, 67));
    }
}
