//! Verifying one byte range of one large sealed file against its Bao outboard tree.

use std::path::Path;

use seqprov_engine::outboard;
use seqprov_format::entry_table::EntryRef;
use seqprov_format::{Bundle, EntryKind};

use crate::bundle_checks::{ProofMatching, VerifyOptions, check_bundle};
use crate::error::{Error, Result};
use crate::policy::Policy;
use crate::report::{FileClass, FileFinding, Report, RootStatus, SignatureStatus, Verdict};
use crate::verdict::{Allowed, finish, report_for};

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
    let mut report = report_for(source, check_bundle(source, policy, &options), policy);
    if report.signature != SignatureStatus::Valid || report.root != RootStatus::Match {
        return Ok(finish(report, Allowed::default()));
    }
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let candidates: Vec<EntryRef<'_>> = source
        .entries
        .iter()
        .filter(|e| e.kind() == EntryKind::File)
        .filter(|e| match entry_path {
            Some(path) => e.path() == path,
            None => e.path().rsplit('/').next() == Some(name.as_str()),
        })
        .collect();
    let entry = match candidates.as_slice() {
        [one] => *one,
        [] => {
            return Err(Error::Refused(format!(
                "no sealed file {}; name it with --entry",
                entry_path.unwrap_or(&name)
            )));
        }
        _ => {
            return Err(Error::Refused(format!(
                "{} sealed files are named {name:?}; choose one with --entry",
                candidates.len()
            )));
        }
    };
    // A file is accepted only as the entry whose name it bears (issue 12 item 1): naming
    // another entry with --entry is refused unless the caller gave up names explicitly.
    if entry.path().rsplit('/').next() != Some(name.as_str()) {
        if options.proof_matching != ProofMatching::ContentIgnoringNames {
            return Err(Error::Refused(format!(
                "{} is named {name:?} but the entry {:?} is not; rename the file, or pass \
                 --match-content-ignoring-names",
                file.display(),
                entry.path()
            )));
        }
        report.warnings.push(format!(
            "names were not checked (--match-content-ignoring-names): {} was taken as the \
             entry {}, whose name differs",
            file.display(),
            entry.path()
        ));
    }
    // Every row names the file given and the entry it was checked as (issue 12 item 1).
    let shown = file.display().to_string();
    let row = |class: FileClass, detail: String| FileFinding {
        path: entry.path().to_string(),
        class,
        from: None,
        file: Some(shown.clone()),
        detail,
    };
    let digest = entry.blake3().expect("file entries have a digest").0;
    let size = entry.size().expect("file entries have a size");
    // The size first: a truncated or extended file is modified whatever its range says.
    let opened = seqprov_engine::hashing::open_path(file)?;
    let meta = opened.metadata().map_err(|e| Error::io(file, e))?;
    if !meta.is_file() {
        return Err(Error::Refused(format!(
            "{} is not a regular file",
            file.display()
        )));
    }
    if meta.len() != size {
        report.summary.count(FileClass::Modified);
        report.files.push(row(
            FileClass::Modified,
            format!(
                "size changed from {size} to {} bytes (the range was not checked)",
                meta.len()
            ),
        ));
        return Ok(finish(report, Allowed::default()));
    }
    let tree = outboard::file_for(outboard_dir, &digest);
    if !tree.is_file() {
        return Err(Error::io(
            &tree,
            std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "no outboard tree for this file (seal with --outboard, or name the directory with --outboard)",
            ),
        ));
    }
    // The file opened and measured above is the one read: no second open by path.
    let check = outboard::check_range_of(opened, file, &tree, &digest, size, start, len)?;
    let class = if check.verified {
        FileClass::Ok
    } else {
        FileClass::Modified
    };
    report.summary.count(class);
    if !check.verified {
        report.files.push(row(class, check.detail));
    } else {
        report.files.push(row(class, String::new()));
        report.warnings.push(format!(
            "only bytes {start}..{} of {} were checked against the sealed BLAKE3; the rest \
             of the file was not read",
            start.saturating_add(len).min(size),
            entry.path()
        ));
    }
    let mut report = finish(report, Allowed::default());
    if report.verdict == Verdict::Verified {
        report.verdict = Verdict::RangeVerified;
    }
    Ok(report)
}
