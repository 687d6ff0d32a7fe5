//! Copying a directory tree for a test fixture (directories and regular files; the
//! trees copied here hold nothing else).

use std::fs;
use std::path::Path;

/// Copy `from` to `to`, creating `to` and every directory below it.
pub fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).unwrap();
        }
    }
}
