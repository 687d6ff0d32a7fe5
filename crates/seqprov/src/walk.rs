//! Walking a directory without following symlinks, into a list of nodes to hash or compare.

use std::fs::FileType;
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};

use crate::entry_path;
use crate::error::{Error, Result};

/// What a path in the tree is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NodeKind {
    /// A regular file of the given size (from `lstat` during the walk).
    File {
        /// Size in bytes at walk time.
        size: u64,
    },
    /// A symbolic link (never followed) and its target text.
    Symlink {
        /// The link's target; `Err` holds an escaped form when it is not UTF-8.
        target: Result<String, String>,
    },
    /// A directory; `empty` when it has no children at all.
    Dir {
        /// True when the directory has no children.
        empty: bool,
    },
    /// A FIFO, socket or device file, named by type.
    Special(&'static str),
}

impl NodeKind {
    /// The kind name used in messages and reports.
    pub fn name(&self) -> &'static str {
        match self {
            NodeKind::File { .. } => "file",
            NodeKind::Symlink { .. } => "symlink",
            NodeKind::Dir { .. } => "dir",
            NodeKind::Special(kind) => kind,
        }
    }
}

/// One path found by the walk.
#[derive(Clone, Debug)]
pub struct Node {
    /// Entry path relative to the root (escaped if the name is not valid UTF-8).
    pub path: String,
    /// Full path on disk.
    pub full: PathBuf,
    /// What it is.
    pub kind: NodeKind,
    /// Set when the name breaks the path rules (for example, not UTF-8).
    pub name_error: Option<String>,
}

/// Walk `root` (which must be a directory) and return every path below it.
pub fn walk(root: &Path) -> Result<Vec<Node>> {
    let meta = std::fs::metadata(root).map_err(|e| Error::io(root, e))?;
    if !meta.is_dir() {
        return Err(Error::io(
            root,
            std::io::Error::new(std::io::ErrorKind::NotADirectory, "not a directory"),
        ));
    }
    let mut nodes = Vec::new();
    let mut has_children = std::collections::HashSet::new();
    for item in walkdir::WalkDir::new(root).follow_links(false).min_depth(1) {
        let item = item.map_err(|e| {
            let path = e.path().unwrap_or(root).to_path_buf();
            Error::io(path, e.into())
        })?;
        let full = item.path().to_path_buf();
        if let Some(parent) = full.parent() {
            has_children.insert(parent.to_path_buf());
        }
        let kind = match classify(item.file_type()) {
            Some(NodeKind::File { .. }) => {
                let meta = item.metadata().map_err(|e| Error::io(&full, e.into()))?;
                NodeKind::File { size: meta.len() }
            }
            Some(NodeKind::Symlink { .. }) => {
                let target = std::fs::read_link(&full).map_err(|e| Error::io(&full, e))?;
                let target = match target.to_str() {
                    Some(t) => Ok(t.to_string()),
                    None => {
                        use std::os::unix::ffi::OsStrExt;
                        Err(entry_path::escape_bytes(target.as_os_str().as_bytes()))
                    }
                };
                NodeKind::Symlink { target }
            }
            Some(kind) => kind,
            None => NodeKind::Special("unknown file type"),
        };
        let (path, name_error) = match entry_path::relative_utf8(root, &full) {
            Ok(path) => (path, None),
            Err(why) => {
                use std::os::unix::ffi::OsStrExt;
                let rel = full.strip_prefix(root).unwrap_or(&full);
                (
                    entry_path::escape_bytes(rel.as_os_str().as_bytes()),
                    Some(why),
                )
            }
        };
        nodes.push(Node {
            path,
            full,
            kind,
            name_error,
        });
    }
    for node in &mut nodes {
        if let NodeKind::Dir { empty } = &mut node.kind {
            *empty = !has_children.contains(&node.full);
        }
    }
    Ok(nodes)
}

fn classify(ft: FileType) -> Option<NodeKind> {
    Some(if ft.is_symlink() {
        NodeKind::Symlink {
            target: Ok(String::new()),
        }
    } else if ft.is_file() {
        NodeKind::File { size: 0 }
    } else if ft.is_dir() {
        NodeKind::Dir { empty: false }
    } else if ft.is_fifo() {
        NodeKind::Special("fifo")
    } else if ft.is_socket() {
        NodeKind::Special("socket")
    } else if ft.is_block_device() {
        NodeKind::Special("block device")
    } else if ft.is_char_device() {
        NodeKind::Special("character device")
    } else {
        return None;
    })
}
