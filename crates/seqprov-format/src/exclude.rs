//! Exclude rules: glob patterns matched against entry paths (`--exclude`), recorded in the
//! seal so that verification skips the same paths; the same globs choose the entries of a
//! proof (`prove --path`).
//!
//! The grammar is specified in `spec/cli.md` §3.1, with vectors in
//! `spec/vectors/globs.json`. In short: a pattern is `/`-separated components matched
//! against the whole path; a component is `**` (zero or more whole components) or a
//! sequence of literal characters, `*` (any run of characters within the component), `?`
//! (one character other than `/`), a class `[...]` / `[!...]`, an alternation `{a,b}` and
//! escapes `\c`. A path is excluded when it, or a directory above it, matches.
//!
//! New patterns (`seal --exclude`, `prove --path`) must follow the grammar
//! ([`Excludes::new`]); patterns recorded in existing seals are matched as they always
//! were, whatever they are ([`Excludes::recorded`]), so old bundles verify unchanged.

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};

/// Most exclude patterns (or `--path` globs) in one seal or proof request.
pub const MAX_PATTERNS: usize = 64;
/// Longest exclude pattern, in bytes.
pub const MAX_PATTERN_BYTES: usize = 512;

/// A compiled set of exclude patterns.
#[derive(Clone, Debug)]
pub struct Excludes {
    set: GlobSet,
    patterns: Vec<String>,
}

impl Excludes {
    /// Compile new patterns, which must follow the grammar of `spec/cli.md` §3.1; the
    /// error names the pattern, the option it came from (`what`, e.g. `exclude pattern`
    /// or `--path glob`) and what is wrong with it.
    pub fn new(patterns: &[String], what: &str) -> Result<Excludes, String> {
        for pattern in patterns {
            check_pattern(pattern).map_err(|why| format!("{what} \"{pattern}\": {why}"))?;
        }
        Self::compile(patterns, what)
    }

    /// Compile patterns recorded in a seal: they are matched as the seal's maker matched
    /// them, including the legacy forms that [`Excludes::new`] now refuses (`spec/cli.md`
    /// §3.1, "Patterns in existing seals").
    pub fn recorded(patterns: &[String]) -> Result<Excludes, String> {
        Self::compile(patterns, "exclude pattern")
    }

    fn compile(patterns: &[String], what: &str) -> Result<Excludes, String> {
        // Bounded before anything is compiled: a glob set's automaton grows with its
        // patterns, and recorded patterns are compiled while a payload is decoded, before
        // any signature is checked (hostile review round 2: 6,000 brace patterns in a
        // forged seal took 1.3 GB).
        if patterns.len() > MAX_PATTERNS {
            return Err(format!(
                "{} {what}s, more than the limit of {MAX_PATTERNS}",
                patterns.len()
            ));
        }
        if let Some(long) = patterns.iter().find(|p| p.len() > MAX_PATTERN_BYTES) {
            return Err(format!(
                "{what} of {} bytes, more than the limit of {MAX_PATTERN_BYTES}",
                long.len()
            ));
        }
        let mut builder = GlobSetBuilder::new();
        for pattern in patterns {
            let glob = GlobBuilder::new(pattern)
                .literal_separator(true)
                .backslash_escape(true)
                .build()
                .map_err(|e| format!("{what} \"{pattern}\": {e}"))?;
            builder.add(glob);
        }
        let set = builder.build().map_err(|e| format!("{what}s: {e}"))?;
        Ok(Excludes {
            set,
            patterns: patterns.to_vec(),
        })
    }

    /// The patterns as given.
    pub fn patterns(&self) -> &[String] {
        &self.patterns
    }

    /// True when `path` itself matches a pattern.
    pub fn matches(&self, path: &str) -> bool {
        self.set.is_match(path)
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

/// Check that `pattern` follows the grammar of `spec/cli.md` §3.1; the error says what
/// breaks it.
pub fn check_pattern(pattern: &str) -> Result<(), String> {
    if pattern.is_empty() {
        return Err("the pattern is empty".into());
    }
    if pattern.starts_with('/') || pattern.ends_with('/') {
        return Err("a pattern neither starts nor ends with `/` (paths are relative)".into());
    }
    let chars: Vec<char> = pattern.chars().collect();
    let mut i = 0;
    let mut in_braces = false;
    // Whether the alternative being read inside `{...}` has anything in it yet.
    let mut alternative_empty = false;
    let mut component_start = 0;
    while i < chars.len() {
        let c = chars[i];
        if in_braces && !matches!(c, ',' | '}') {
            alternative_empty = false;
        }
        match c {
            '\\' => {
                match chars.get(i + 1) {
                    None => return Err("`\\` at the end escapes nothing".into()),
                    Some('/') => return Err("`\\/`: `/` cannot be escaped".into()),
                    Some(_) => {}
                }
                i += 2;
                continue;
            }
            '/' => {
                if in_braces {
                    return Err("`/` inside `{...}`".into());
                }
                if i == component_start {
                    return Err("empty path component (`//`)".into());
                }
                component_start = i + 1;
            }
            '*' if chars.get(i + 1) == Some(&'*') => {
                let end = i + 2;
                let whole =
                    i == component_start && (end == chars.len() || chars[end] == '/') && !in_braces;
                if !whole {
                    return Err("`**` must be a whole path component".into());
                }
                i = end;
                continue;
            }
            '[' => {
                i = class_end(&chars, i)?;
                continue;
            }
            ']' => return Err("`]` without `[` (write `\\]`)".into()),
            '{' => {
                if in_braces {
                    return Err("`{...}` inside `{...}`".into());
                }
                in_braces = true;
                alternative_empty = true;
            }
            '}' | ',' if in_braces => {
                if alternative_empty {
                    return Err("an empty alternative in `{...}`".into());
                }
                in_braces = c == ',';
                alternative_empty = true;
            }
            '}' => return Err("`}` without `{` (write `\\}`)".into()),
            ',' if !in_braces => return Err("`,` outside `{...}` (write `\\,`)".into()),
            _ => {}
        }
        i += 1;
    }
    if in_braces {
        return Err("`{` without `}`".into());
    }
    Ok(())
}

/// The index just after the class that starts at `chars[start] == '['`.
fn class_end(chars: &[char], start: usize) -> Result<usize, String> {
    let mut i = start + 1;
    match chars.get(i) {
        Some('!') => i += 1,
        Some('^') => return Err("`[^...]`: write a negated class as `[!...]`".into()),
        _ => {}
    }
    let first = i;
    let mut members: Vec<char> = Vec::new();
    loop {
        let Some(&c) = chars.get(i) else {
            return Err("`[` without `]`".into());
        };
        match c {
            ']' if i > first => break,
            '/' => return Err("`/` inside `[...]`".into()),
            '\\' => return Err("`\\` inside `[...]`".into()),
            c if !c.is_ascii() => {
                return Err(format!(
                    "`{c}` inside `[...]`: classes hold ASCII characters only"
                ));
            }
            '[' => return Err("`[` inside `[...]`".into()),
            _ => {}
        }
        members.push(c);
        i += 1;
    }
    // Ranges: `a-z` with a <= z; `-` first or last is literal.
    let mut k = 0;
    while k < members.len() {
        if k + 2 < members.len() && members[k + 1] == '-' {
            if members[k] > members[k + 2] {
                return Err(format!(
                    "range `{}-{}` in `[...]` runs backwards",
                    members[k],
                    members[k + 2]
                ));
            }
            k += 3;
        } else {
            k += 1;
        }
    }
    Ok(i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ex(patterns: &[&str]) -> Excludes {
        let patterns: Vec<String> = patterns.iter().map(|p| p.to_string()).collect();
        Excludes::new(&patterns, "exclude pattern").unwrap()
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
    fn pattern_counts_and_lengths_are_bounded_before_compiling() {
        let many = vec!["*.tmp".to_string(); MAX_PATTERNS + 1];
        assert!(
            Excludes::recorded(&many)
                .unwrap_err()
                .contains("more than the limit")
        );
        let long = vec![format!("{{{}}}", vec!["a"; 300].join(","))];
        assert!(
            Excludes::recorded(&long)
                .unwrap_err()
                .contains("more than the limit")
        );
        assert!(Excludes::recorded(&many[..MAX_PATTERNS]).is_ok());
    }

    #[test]
    fn bad_patterns_are_named_with_the_option_they_came_from() {
        let err = Excludes::new(&["a[".to_string()], "exclude pattern").unwrap_err();
        assert!(err.starts_with("exclude pattern \"a[\""), "{err}");
        let err = Excludes::new(&["a[".to_string()], "--path glob").unwrap_err();
        assert!(err.starts_with("--path glob \"a[\""), "{err}");
        assert!(!err.contains("exclude"), "{err}");
    }

    /// Issue 12 item 15: the implementation agrees with every vector of
    /// `spec/vectors/globs.json`: what the grammar matches, what it refuses, and how the
    /// refused forms recorded in older seals are still matched.
    #[test]
    fn every_glob_vector_holds() {
        let vectors: serde_json::Value =
            serde_json::from_str(include_str!("../../../spec/vectors/globs.json")).unwrap();
        let text = |v: &serde_json::Value, key: &str| v[key].as_str().unwrap().to_string();
        let mut failures = Vec::new();
        for case in vectors["matching"].as_array().unwrap() {
            let (pattern, path) = (text(case, "pattern"), text(case, "path"));
            let e = match Excludes::new(std::slice::from_ref(&pattern), "exclude pattern") {
                Ok(e) => e,
                Err(err) => {
                    failures.push(format!("{pattern}: refused: {err}"));
                    continue;
                }
            };
            let recorded = Excludes::recorded(std::slice::from_ref(&pattern)).unwrap();
            for (got, key) in [
                (e.matches(&path), "matches"),
                (e.excludes(&path), "excludes"),
                (recorded.excludes(&path), "excludes"),
            ] {
                if Some(got) != case[key].as_bool() {
                    failures.push(format!("{pattern} vs {path}: {key} is {got}"));
                }
            }
        }
        for pattern in vectors["refused"].as_array().unwrap() {
            let pattern = pattern.as_str().unwrap().to_string();
            if Excludes::new(std::slice::from_ref(&pattern), "exclude pattern").is_ok() {
                failures.push(format!("{pattern:?}: accepted"));
            }
        }
        for case in vectors["legacy"].as_array().unwrap() {
            let (pattern, path) = (text(case, "pattern"), text(case, "path"));
            if Excludes::new(std::slice::from_ref(&pattern), "exclude pattern").is_ok() {
                failures.push(format!("{pattern:?}: legacy form accepted as new"));
            }
            let got = Excludes::recorded(std::slice::from_ref(&pattern))
                .unwrap()
                .matches(&path);
            if Some(got) != case["matches"].as_bool() {
                failures.push(format!("legacy {pattern} vs {path}: matches is {got}"));
            }
        }
        assert!(failures.is_empty(), "{failures:#?}");
    }
}
