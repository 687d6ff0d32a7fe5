//! Finding run folders: directories holding a `RunInfo.xml` under a watched root, at a
//! bounded depth, never following a symbolic link, and skipping what the `--exclude`
//! globs of `watch` name.

use std::path::{Path, PathBuf};

use seqprov_format::exclude::Excludes;

/// What one scan of a root found.
#[derive(Debug, Default)]
pub struct Scan {
    /// Run folders (directories with a regular file named `RunInfo.xml`, in any ASCII
    /// case, at their top), sorted.
    pub run_folders: Vec<PathBuf>,
    /// Directories that could not be listed, with the reason (the scan goes on without
    /// them).
    pub unreadable: Vec<String>,
}

/// Most directories one scan of a root lists, so that a root pointed at a huge tree by
/// mistake costs bounded work per scan.
pub const MAX_DIRECTORIES_PER_SCAN: usize = 100_000;

/// Scan `root` for run folders at depths 1 to `max_depth` (a run folder directly in
/// `root` is at depth 1). A run folder is not searched further. Symbolic links are never
/// followed (a link to a directory is neither searched nor taken as a run folder), and a
/// directory whose path relative to `root` is excluded by `exclude` is skipped with
/// everything below it.
pub fn scan_root(root: &Path, max_depth: usize, exclude: &Excludes) -> Scan {
    let mut scan = Scan::default();
    let mut pending: Vec<(PathBuf, String, usize)> = vec![(root.to_path_buf(), String::new(), 0)];
    let mut listed = 0usize;
    while let Some((dir, relative, depth)) = pending.pop() {
        listed += 1;
        if listed > MAX_DIRECTORIES_PER_SCAN {
            scan.unreadable.push(format!(
                "{}: more than {MAX_DIRECTORIES_PER_SCAN} directories; the rest of the \
                 root is not searched (lower --max-depth or add --exclude)",
                root.display()
            ));
            break;
        }
        let listing = match std::fs::read_dir(&dir) {
            Ok(listing) => listing,
            Err(e) => {
                scan.unreadable.push(format!("{}: {e}", dir.display()));
                continue;
            }
        };
        let mut subdirectories = Vec::new();
        let mut is_run_folder = false;
        for entry in listing {
            let entry = match entry {
                Ok(entry) => entry,
                Err(e) => {
                    scan.unreadable.push(format!("{}: {e}", dir.display()));
                    break;
                }
            };
            // `file_type` does not follow symbolic links.
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            let name = entry.file_name();
            if kind.is_file() && name.eq_ignore_ascii_case("RunInfo.xml") {
                is_run_folder = true;
            } else if kind.is_dir() && depth < max_depth {
                let Some(name) = name.to_str() else { continue };
                let child = if relative.is_empty() {
                    name.to_string()
                } else {
                    format!("{relative}/{name}")
                };
                if !exclude.excludes(&child) {
                    subdirectories.push((entry.path(), child));
                }
            }
        }
        if depth > 0 && is_run_folder {
            scan.run_folders.push(dir);
            continue;
        }
        pending.extend(
            subdirectories
                .into_iter()
                .map(|(path, rel)| (path, rel, depth + 1)),
        );
    }
    scan.run_folders.sort();
    scan
}

#[cfg(test)]
mod tests {
    use super::*;

    fn excludes(patterns: &[&str]) -> Excludes {
        let patterns: Vec<String> = patterns.iter().map(|p| p.to_string()).collect();
        Excludes::new(&patterns, "exclude pattern").unwrap()
    }

    fn run(path: &Path) {
        std::fs::create_dir_all(path.join("Data")).unwrap();
        std::fs::write(path.join("RunInfo.xml"), "<RunInfo/>").unwrap();
    }

    #[test]
    fn finds_runs_at_bounded_depth_skipping_links_and_excludes() {
        let root = tempfile::tempdir().unwrap();
        let r = root.path();
        run(&r.join("A/run1"));
        run(&r.join("run2"));
        run(&r.join("a/b/c/deep"));
        run(&r.join("old/run3"));
        // A run folder inside a run folder is not searched for.
        run(&r.join("run2/Data/inner"));
        let outside = tempfile::tempdir().unwrap();
        run(&outside.path().join("elsewhere"));
        std::os::unix::fs::symlink(outside.path(), r.join("link")).unwrap();
        std::os::unix::fs::symlink(outside.path().join("elsewhere"), r.join("linkrun")).unwrap();
        let scan = scan_root(r, 3, &excludes(&["old"]));
        assert_eq!(scan.run_folders, vec![r.join("A/run1"), r.join("run2")]);
        assert!(scan.unreadable.is_empty());
        let deeper = scan_root(r, 4, &excludes(&[]));
        assert_eq!(
            deeper.run_folders,
            vec![
                r.join("A/run1"),
                r.join("a/b/c/deep"),
                r.join("old/run3"),
                r.join("run2")
            ]
        );
    }

    #[test]
    fn the_root_itself_is_not_a_run_folder_and_a_missing_root_is_reported() {
        let root = tempfile::tempdir().unwrap();
        run(root.path());
        assert!(
            scan_root(root.path(), 3, &excludes(&[]))
                .run_folders
                .is_empty()
        );
        let missing = scan_root(&root.path().join("nope"), 3, &excludes(&[]));
        assert_eq!(missing.unreadable.len(), 1);
    }
}
