//! Exclude rules: glob patterns matched against entry paths (`--exclude`), recorded in the
//! seal so that verification skips the same paths.
//!
//! A pattern is a glob over the whole `/`-separated path: `*` and `?` do not cross `/`,
//! `**` does (so `**/._*` excludes every AppleDouble file, `.DS_Store` only the one at the
//! root). A path is excluded when it, or a directory above it, matches.

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};

/// A compiled set of exclude patterns.
#[derive(Clone, Debug)]
pub struct Excludes {
    set: GlobSet,
    patterns: Vec<String>,
}

impl Excludes {
    /// Compile patterns; the error names the pattern that does not parse.
    pub fn new(patterns: &[String]) -> Result<Excludes, String> {
        let mut builder = GlobSetBuilder::new();
        for pattern in patterns {
            let glob = GlobBuilder::new(pattern)
                .literal_separator(true)
                .backslash_escape(true)
                .build()
                .map_err(|e| format!("exclude pattern {pattern:?}: {e}"))?;
            builder.add(glob);
        }
        let set = builder
            .build()
            .map_err(|e| format!("exclude patterns: {e}"))?;
        Ok(Excludes {
            set,
            patterns: patterns.to_vec(),
        })
    }

    /// The patterns as given.
    pub fn patterns(&self) -> &[String] {
        &self.patterns
    }

    /// True when `path` or one of the directories above it matches a pattern.
    pub fn excludes(&self, path: &str) -> bool {
        if self.patterns.is_empty() {
            return false;
        }
        self.set.is_match(path)
            || path
                .match_indices('/')
                .any(|(i, _)| self.set.is_match(&path[..i]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ex(patterns: &[&str]) -> Excludes {
        Excludes::new(&patterns.iter().map(|p| p.to_string()).collect::<Vec<_>>()).unwrap()
    }

    #[test]
    fn star_stays_in_one_component_and_double_star_crosses() {
        let e = ex(&["**/._*", ".DS_Store"]);
        assert!(e.excludes("._RunInfo.xml"));
        assert!(e.excludes("Data/._x"));
        assert!(e.excludes(".DS_Store"));
        assert!(!e.excludes("Data/.DS_Store"));
        assert!(!e.excludes("RunInfo.xml"));
    }

    #[test]
    fn a_matching_directory_excludes_everything_below() {
        let e = ex(&["Thumbnail_Images"]);
        assert!(e.excludes("Thumbnail_Images/L001/a.jpg"));
        assert!(!e.excludes("Data/Thumbnail_Images"));
    }

    #[test]
    fn bad_patterns_are_named() {
        let err = Excludes::new(&["a[".to_string()]).unwrap_err();
        assert!(err.contains("a["), "{err}");
    }
}
