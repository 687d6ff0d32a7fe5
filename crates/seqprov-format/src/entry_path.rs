//! The rules for entry paths: relative, `/`-separated, UTF-8, no `..`, `.`, empty,
//! NUL or backslash components (see `spec/bundle.md`, "Paths").

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// Check that `path` is a valid entry path; the error says which rule it breaks.
pub fn validate(path: &str) -> Result<(), String> {
    if path.is_empty() {
        return Err("empty path".into());
    }
    if path.starts_with('/') {
        return Err("absolute path".into());
    }
    if path.contains('\0') {
        return Err("path contains a NUL byte".into());
    }
    if path.contains('\\') {
        return Err("path contains a backslash".into());
    }
    for component in path.split('/') {
        match component {
            "" => return Err("path has an empty component".into()),
            "." | ".." => return Err(format!("path has a `{component}` component")),
            _ => {}
        }
    }
    Ok(())
}

/// The first two paths that are equal after Unicode normalisation (NFC) but differ as
/// bytes: two such names look the same to a person and on some file systems.
pub fn normalisation_collision<'a, I>(paths: I) -> Option<(&'a str, &'a str)>
where
    I: IntoIterator<Item = &'a str>,
    I::IntoIter: Clone,
{
    use std::hash::BuildHasher;
    use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfc_quick};
    // A path's key is its NFC form; a path the quick check passes is its own key (ASCII
    // always is). The paths are distinct, so two of them collide only when one of them
    // is a path normalisation may change (a "changing" path). Trees without one (nearly
    // all) are done after one scan, holding nothing.
    let changing = |path: &str| !path.is_ascii() && is_nfc_quick(path.chars()) != IsNormalized::Yes;
    let key = |path: &'a str| -> std::borrow::Cow<'a, str> {
        if changing(path) {
            std::borrow::Cow::Owned(path.nfc().collect())
        } else {
            std::borrow::Cow::Borrowed(path)
        }
    };
    let paths = paths.into_iter();
    let count = paths.clone().filter(|p| changing(p)).count();
    if count == 0 {
        return None;
    }
    // The keys of the changing paths, as 64-bit hashes under a per-process random key (so
    // that no input can be made to collide on purpose), sorted: 8 bytes per changing
    // path, never a copy of the paths. Then every path's key is looked up; a hash seen
    // more often than the path itself accounts for is checked exactly.
    let hasher = std::collections::hash_map::RandomState::new();
    let mut hashes: Vec<u64> = Vec::with_capacity(count);
    hashes.extend(
        paths
            .clone()
            .filter(|p| changing(p))
            .map(|p| hasher.hash_one(key(p).as_ref())),
    );
    hashes.sort_unstable();
    for path in paths.clone() {
        let path_key = key(path);
        let hash = hasher.hash_one(path_key.as_ref());
        let seen = hashes.partition_point(|&h| h < hash);
        let times = hashes[seen..].iter().take_while(|&&h| h == hash).count();
        if times > usize::from(changing(path)) {
            // A changing path whose key is this path's, other than the path itself.
            if let Some(other) = paths
                .clone()
                .find(|&other| other != path && changing(other) && key(other) == path_key)
            {
                return Some(ordered(paths.clone(), path, other));
            }
        }
    }
    None
}

/// `a` and `b` in the order `paths` lists them.
fn ordered<'a>(
    mut paths: impl Iterator<Item = &'a str>,
    a: &'a str,
    b: &'a str,
) -> (&'a str, &'a str) {
    match paths.find(|&p| p == a || p == b) {
        Some(first) if first == b => (b, a),
        _ => (a, b),
    }
}

/// Render raw file-name bytes for a message, escaping what is not printable UTF-8.
pub fn escape_bytes(bytes: &[u8]) -> String {
    bytes.escape_ascii().to_string()
}

/// Whether a symlink at entry path `link_path` with target text `target` points outside
/// the sealed tree, judged on the text alone (spec/bundle.md §11.3): an absolute target,
/// or a relative one whose `..` components, resolved lexically from the link's directory,
/// climb above the root at some point. No file system is consulted, so every
/// implementation gets the same answer.
pub fn link_leaves_tree(link_path: &str, target: &str) -> bool {
    if target.starts_with('/') {
        return true;
    }
    let mut depth = link_path.matches('/').count();
    for component in target.split('/') {
        match component {
            "" | "." => {}
            ".." => match depth.checked_sub(1) {
                Some(up) => depth = up,
                None => return true,
            },
            _ => depth += 1,
        }
    }
    false
}

/// A path, link target or name in double quotes, as it is (never `Debug`-formatted: a name
/// already in the escaped form of [`escape_bytes`] must not be escaped a second time).
pub fn quoted(text: &str) -> String {
    format!("\"{text}\"")
}

/// The entry path of `path` relative to `root`, or a message naming the offending bytes.
pub fn relative_utf8(root: &Path, path: &Path) -> Result<String, String> {
    let rel = path
        .strip_prefix(root)
        .map_err(|_| format!("{} is not below {}", path.display(), root.display()))?;
    let mut out = String::new();
    for component in rel.components() {
        let name: &OsStr = component.as_os_str();
        let Some(name) = name.to_str() else {
            return Err(format!(
                "file name is not valid UTF-8 (bytes: \"{}\"); seqprov refuses such names",
                escape_bytes(name.as_bytes())
            ));
        };
        if !out.is_empty() {
            out.push('/');
        }
        out.push_str(name);
    }
    validate(&out).map(|()| out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_relative_paths() {
        for p in [
            "a",
            "Data/Intensities/L001/C1.1/L001_1.cbcl",
            "._x",
            "a b/ü",
        ] {
            assert_eq!(validate(p), Ok(()), "{p}");
        }
    }

    #[test]
    fn rejects_each_forbidden_form() {
        for (p, why) in [
            ("", "empty path"),
            ("/etc/passwd", "absolute path"),
            ("a/../b", "`..`"),
            ("./a", "`.`"),
            ("a//b", "empty component"),
            ("a/", "empty component"),
            ("a\\b", "backslash"),
            ("a\0b", "NUL"),
        ] {
            let err = validate(p).unwrap_err();
            assert!(err.contains(why), "{p:?}: {err}");
        }
    }

    #[test]
    fn composed_and_decomposed_spellings_collide() {
        let paths = ["caf\u{e9}.fastq", "cafe\u{301}.fastq", "x"];
        assert_eq!(
            normalisation_collision(paths),
            Some(("caf\u{e9}.fastq", "cafe\u{301}.fastq"))
        );
        assert_eq!(normalisation_collision(["a", "b"]), None);
        // Non-ASCII but already NFC: no collision, whatever the order.
        assert_eq!(
            normalisation_collision(["caf\u{e9}.fastq", "cafe.fastq"]),
            None
        );
    }

    /// A non-ASCII name whose NFC form is plain ASCII (KELVIN SIGN normalises to the letter
    /// K) collides with the ASCII name, in either order: the ASCII fast path must not hide it.
    #[test]
    fn a_name_that_normalises_to_ascii_collides_with_the_ascii_name() {
        assert_eq!(
            normalisation_collision(["K.fastq", "\u{212a}.fastq"]),
            Some(("K.fastq", "\u{212a}.fastq"))
        );
        assert_eq!(
            normalisation_collision(["\u{212a}.fastq", "K.fastq"]),
            Some(("\u{212a}.fastq", "K.fastq"))
        );
    }

    /// Issue 12 item 11: which link targets lead outside the sealed tree.
    #[test]
    fn links_leaving_the_tree_are_judged_on_their_text() {
        for (link, target, leaves) in [
            ("a", "/etc/passwd", true),
            ("a", "../x", true),
            ("d/a", "../x", false),
            ("d/a", "../../x", true),
            ("d/a", "x/../../y", false),
            ("d/a", "x/../../../y", true),
            ("d/a", "./../.././x", true),
            ("a", "b//c/./d", false),
            ("a", "b/../..", true),
            ("a", "..", true),
            ("d/e/a", "../../f", false),
            ("a", "does/not/exist", false),
        ] {
            assert_eq!(link_leaves_tree(link, target), leaves, "{link} -> {target}");
        }
    }

    #[test]
    fn non_utf8_names_are_named_by_their_bytes() {
        use std::os::unix::ffi::OsStrExt;
        let root = Path::new("/r");
        let path = root.join(OsStr::from_bytes(b"bad\xffname"));
        let err = relative_utf8(root, &path).unwrap_err();
        assert!(err.contains("bad\\xffname"), "{err}");
    }
}
