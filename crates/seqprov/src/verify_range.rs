//! Verifying one byte range of one large sealed file against its Bao outboard tree.

use std::path::Path;

use seqprov_engine::outboard;
use seqprov_format::{Bundle, Entry, EntryKind};

use crate::bundle_checks::{VerifyOptions, check_bundle};
use crate::error::Result;
use crate::policy::Policy;
use crate::report::{FileClass, Report, RootStatus, SignatureStatus};
use crate::verdict::{Allowed, finding, finish, report_for};

/// Check one byte range of one sealed file (see [`seqprov_engine::outboard`]): the seal, chain and
/// policy as usual, then only bytes `start .. start + len` of `file`, against the entry
/// named `entry_path` (or, if `None`, the only entry with `file`'s name).
#[allow(clippy::too_many_arguments)]
pub fn verify_range(
    file: &Path,
    source: &Bundle,
    entry_path: Option<&str>,
    outboard_dir: &Path,
    start: u64,
    len: u64,
    policy: &Policy,
    options: VerifyOptions<'_>,
) -> Result<Report> {
    let mut report = report_for(source, check_bundle(source, policy, &options));
    if report.signature != SignatureStatus::Valid || report.root != RootStatus::Match {
        return Ok(finish(report, Allowed::default()));
    }
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let candidates: Vec<&Entry> = source
        .entries
        .iter()
        .filter(|e| e.kind == EntryKind::File)
        .filter(|e| match entry_path {
            Some(path) => e.path == path,
            None => e.path.rsplit('/').next() == Some(name.as_str()),
        })
        .collect();
    let entry = match candidates.as_slice() {
        [one] => *one,
        [] => {
            return Err(crate::error::Error::Refused(format!(
                "no sealed file {}; name it with --entry",
                entry_path.unwrap_or(&name)
            )));
        }
        _ => {
            return Err(crate::error::Error::Refused(format!(
                "{} sealed files are named {name:?}; choose one with --entry",
                candidates.len()
            )));
        }
    };
    let digest = entry.blake3.expect("file entries have a digest").0;
    let size = entry.size.expect("file entries have a size");
    let tree = outboard::file_for(outboard_dir, &digest);
    if !tree.is_file() {
        return Err(crate::error::Error::io(
            &tree,
            std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "no outboard tree for this file (seal with --outboard, or name the directory with --outboard)",
            ),
        ));
    }
    let check = outboard::check_range(file, &tree, &digest, size, start, len)?;
    let class = if check.verified {
        FileClass::Ok
    } else {
        FileClass::Modified
    };
    report.summary.count(class);
    if !check.verified {
        report.files.push(finding(&entry.path, class, check.detail));
    }
    Ok(finish(report, Allowed::default()))
}
