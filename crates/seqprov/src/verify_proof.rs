//! Verifying individual files against a per-sample proof: only the given files are
//! read, each checked against the disclosed entry it stands for.

use rayon::prelude::*;
use seqprov_engine::{FileDigests, HashOptions, Progress, hashing};
use seqprov_format::run_record::FastqContent;
use seqprov_format::{Bundle, EntryKind};

use std::path::Path;

use crate::bundle_checks::{ProofMatching, VerifyOptions, check_bundle};
use crate::error::{Error, Result};
use crate::inspect::Inspection;
use crate::policy::Policy;
use crate::report::{FileClass, FileFinding, Report, RootStatus, SignatureStatus, Summary};
use crate::verdict::{Allowed, compare_file, finding, finish, report_for};

/// Verify individual files against a proof: each given file is checked only as the
/// disclosed entry it stands for, and only those files are read.
///
/// A file stands for the disclosed file entry named for it in `named` (`--as
/// FILE=PATH`), else the one whose last path component is the file's name. With
/// [`ProofMatching::ContentIgnoringNames`] a file stands for whichever disclosed entry
/// has its content instead. Every given file appears in the report's `files`, with the
/// entry it was taken as; the outcome does not depend on the order of `files`.
pub fn verify_files(
    files: &[std::path::PathBuf],
    named: &[(std::path::PathBuf, String)],
    proof: &Bundle,
    policy: &Policy,
    options: VerifyOptions<'_>,
    progress: &dyn Progress,
) -> Result<Report> {
    let mut report = report_for(proof, check_bundle(proof, policy, &options), policy);
    if report.root == RootStatus::Mismatch {
        report.errors =
            vec!["an inclusion path in the proof does not lead to the signed Merkle root".into()];
    }
    if report.signature != SignatureStatus::Valid || report.root != RootStatus::Match {
        return Ok(finish(report, Allowed::default()));
    }
    for (file, _) in named {
        if !files.contains(file) {
            return Err(Error::Refused(format!(
                "--as names {}, which is not one of the files to check",
                file.display()
            )));
        }
    }
    let hash_options = HashOptions {
        sha256: proof.payload.has_sha256(),
        read_mode: options.read_mode,
    };
    let total: u64 = files
        .iter()
        .filter_map(|f| std::fs::symlink_metadata(f).ok().map(|m| m.len()))
        .sum();
    progress.set_total(total);
    let hashed: Vec<(FileDigests, Option<FastqContent>)> = files
        .par_iter()
        .map(|file| hash_given_file(file, hash_options, progress))
        .collect::<Result<_>>()?;

    let pairing = match options.proof_matching {
        ProofMatching::ByName => pair_by_name(files, named, proof)?,
        ProofMatching::ContentIgnoringNames => {
            report.warnings.push(
                "names were not checked (--match-content-ignoring-names): each file was \
                 taken as whichever disclosed entry has its content"
                    .into(),
            );
            pair_by_content(files, &hashed, proof)
        }
    };
    let mut findings = Vec::new();
    let mut taken = vec![false; proof.entries.len()];
    for ((file, (found, content)), entry_index) in files.iter().zip(&hashed).zip(&pairing) {
        let shown = file.display().to_string();
        let Some(i) = *entry_index else {
            findings.push(FileFinding {
                path: shown.clone(),
                class: FileClass::Extra,
                from: None,
                file: Some(shown),
                detail: match options.proof_matching {
                    ProofMatching::ByName => "no disclosed entry bears its name".into(),
                    ProofMatching::ContentIgnoringNames => {
                        "no disclosed entry has its content".into()
                    }
                },
            });
            continue;
        };
        let Some(entry) = proof.entries.get(i) else {
            continue;
        };
        taken[i] = true;
        let (class, detail) = match compare_file(entry, found) {
            None => (FileClass::Ok, String::new()),
            Some(_) if entry.content().is_some() && entry.content() == content.as_ref() => (
                FileClass::Recompressed,
                "bytes differ but the FASTQ records are the same".to_string(),
            ),
            Some(difference) => (FileClass::Modified, difference),
        };
        findings.push(FileFinding {
            path: entry.path().to_string(),
            class,
            from: None,
            file: Some(shown),
            detail,
        });
    }
    for (i, entry) in proof.entries.iter().enumerate() {
        if !taken[i] {
            let detail = if entry.kind() == EntryKind::File {
                "in the proof but no given file was taken as it".to_string()
            } else {
                format!(
                    "a proof can check regular files only; this entry is a {}",
                    entry.kind().name()
                )
            };
            findings.push(finding(entry.path(), FileClass::Missing, detail));
        }
    }
    let mut summary = Summary::default();
    for f in &findings {
        summary.count(f.class);
    }
    findings.sort_by(|a, b| a.path.cmp(&b.path).then(a.file.cmp(&b.file)));
    let allowed = Allowed {
        extra: false,
        recompressed: policy.requirements.allow_recompressed,
    };
    report.summary = summary;
    report.files = findings;
    Ok(finish(report, allowed))
}

/// Hash one given file (a regular file, not followed through a symlink), with its FASTQ
/// content identity when its name is a FASTQ name.
fn hash_given_file(
    file: &Path,
    hash_options: HashOptions,
    progress: &dyn Progress,
) -> Result<(FileDigests, Option<FastqContent>)> {
    let name = file.to_string_lossy();
    let mut inspection = Inspection::content_only(&name);
    let opened = hashing::open_path(file)?;
    let meta = opened.metadata().map_err(|e| Error::io(file, e))?;
    if !meta.is_file() {
        return Err(Error::Refused(format!(
            "{} is not a regular file; give the files the proof is for",
            file.display()
        )));
    }
    let digest = hashing::hash_with_stamp(
        opened,
        file,
        hashing::Stamp::of(&meta),
        hash_options,
        progress,
        &mut inspection,
    )?;
    let content = inspection
        .finish(digest.size)
        .content
        .and_then(|c| c.ok())
        .map(|o| o.content);
    Ok((digest, content))
}

/// The last path component of an entry path.
fn entry_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// For each file, the disclosed file entry it stands for by name (or by `--as`). Two
/// files standing for one entry, or a name shared by several disclosed entries, is a
/// usage error: nothing is concluded.
fn pair_by_name(
    files: &[std::path::PathBuf],
    named: &[(std::path::PathBuf, String)],
    proof: &Bundle,
) -> Result<Vec<Option<usize>>> {
    let mut pairing = Vec::with_capacity(files.len());
    let mut claimed: Vec<Option<&Path>> = vec![None; proof.entries.len()];
    for file in files {
        let explicit = named.iter().find(|(f, _)| f == file).map(|(_, p)| p);
        let candidates: Vec<usize> = proof
            .entries
            .iter()
            .enumerate()
            .filter(|(_, e)| e.kind() == EntryKind::File)
            .filter(|(_, e)| match explicit {
                Some(path) => e.path() == path,
                None => Some(entry_name(e.path())) == file.file_name().and_then(|n| n.to_str()),
            })
            .map(|(i, _)| i)
            .collect();
        let chosen = match (candidates.as_slice(), explicit) {
            ([], Some(path)) => {
                return Err(Error::Refused(format!(
                    "--as: {path:?} is not a file the proof discloses"
                )));
            }
            ([], None) => None,
            ([one], _) => Some(*one),
            (many, _) => {
                let paths: Vec<&str> = many
                    .iter()
                    .filter_map(|&i| proof.entries.get(i).map(|e| e.path()))
                    .collect();
                return Err(Error::Refused(format!(
                    "{}: its name is shared by {} disclosed entries ({}); name one with --as {}=PATH",
                    file.display(),
                    many.len(),
                    paths.join(", "),
                    file.display()
                )));
            }
        };
        if let Some(i) = chosen {
            if let Some(other) = claimed[i] {
                return Err(Error::Refused(format!(
                    "{} and {} both stand for the entry {:?}",
                    other.display(),
                    file.display(),
                    proof.entries.get(i).map(|e| e.path()).unwrap_or_default()
                )));
            }
            claimed[i] = Some(file);
        }
        pairing.push(chosen);
    }
    Ok(pairing)
}

/// For each file, a disclosed file entry with its content, whatever its name: files in
/// the order of their paths' bytes, entries in index order, so the pairing does not
/// depend on the order the files were given in.
fn pair_by_content(
    files: &[std::path::PathBuf],
    hashed: &[(FileDigests, Option<FastqContent>)],
    proof: &Bundle,
) -> Vec<Option<usize>> {
    let mut order: Vec<usize> = (0..files.len()).collect();
    order.sort_by(|&a, &b| files[a].as_os_str().cmp(files[b].as_os_str()));
    let mut taken = vec![false; proof.entries.len()];
    let mut pairing = vec![None; files.len()];
    for f in order {
        let found = &hashed[f].0;
        let hit = proof.entries.iter().enumerate().position(|(i, e)| {
            !taken[i] && e.kind() == EntryKind::File && compare_file(e, found).is_none()
        });
        if let Some(i) = hit {
            taken[i] = true;
            pairing[f] = Some(i);
        }
    }
    pairing
}
