//! Verifying individual files against a per-sample proof: only the given files are
//! read, each checked against the disclosed entry it stands for.

use rayon::prelude::*;
use seqprov_engine::{FileDigests, HashOptions, Progress, hashing};
use seqprov_format::run_record::FastqContent;
use seqprov_format::{Bundle, EntryKind};

use crate::bundle_checks::{VerifyOptions, check_bundle};
use crate::error::Result;
use crate::inspect::Inspection;
use crate::policy::Policy;
use crate::report::{FileClass, Report, RootStatus, SignatureStatus, Summary};
use crate::verdict::{Allowed, compare_file, finding, finish, report_for};

/// Verify individual files against a proof (see [`seqprov_format::proof`]): each given file is
/// matched to a disclosed entry by content (or, failing that, by file name), and only
/// those files are read.
pub fn verify_files(
    files: &[std::path::PathBuf],
    proof: &Bundle,
    policy: &Policy,
    options: VerifyOptions<'_>,
    progress: &dyn Progress,
) -> Result<Report> {
    let mut report = report_for(proof, check_bundle(proof, policy, &options));
    if report.root == RootStatus::Mismatch {
        report.errors =
            vec!["an inclusion path in the proof does not lead to the signed Merkle root".into()];
    }
    if report.signature != SignatureStatus::Valid || report.root != RootStatus::Match {
        return Ok(finish(report, Allowed::default()));
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
        .map(|file| {
            let name = file.to_string_lossy();
            let mut inspection = Inspection::content_only(&name);
            let opened = hashing::open_path(file)?;
            let meta = opened
                .metadata()
                .map_err(|e| crate::error::Error::io(file, e))?;
            if !meta.is_file() {
                return Err(crate::error::Error::Refused(format!(
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
        })
        .collect::<Result<_>>()?;

    let mut matched = vec![false; proof.entries.len()];
    let mut findings = Vec::new();
    let mut summary = Summary::default();
    for (file, (found, content)) in files.iter().zip(&hashed) {
        let shown = file.display().to_string();
        let by_content = proof.entries.iter().enumerate().position(|(i, e)| {
            !matched[i] && compare_file(e, found).is_none() && e.kind == EntryKind::File
        });
        if let Some(i) = by_content {
            matched[i] = true;
            summary.count(FileClass::Ok);
            continue;
        }
        let name = file.file_name().map(|n| n.to_string_lossy().into_owned());
        let by_name = proof.entries.iter().enumerate().position(|(i, e)| {
            !matched[i]
                && e.kind == EntryKind::File
                && Some(e.path.rsplit('/').next().unwrap_or(&e.path)) == name.as_deref()
        });
        match by_name {
            Some(i) => {
                matched[i] = true;
                let entry = &proof.entries[i];
                if entry.content.is_some() && entry.content == *content {
                    findings.push(finding(
                        &entry.path,
                        FileClass::Recompressed,
                        format!("{shown}: bytes differ but the FASTQ records are the same"),
                    ));
                } else {
                    let detail = compare_file(entry, found).unwrap_or_default();
                    findings.push(finding(
                        &entry.path,
                        FileClass::Modified,
                        format!("{shown}: {detail}"),
                    ));
                }
            }
            None => findings.push(finding(
                &shown,
                FileClass::Extra,
                "matches no entry of the proof".into(),
            )),
        }
    }
    for (i, entry) in proof.entries.iter().enumerate() {
        if !matched[i] {
            findings.push(finding(
                &entry.path,
                FileClass::Missing,
                "in the proof but no given file has its content or name".into(),
            ));
        }
    }
    for f in &findings {
        summary.count(f.class);
    }
    findings.sort_by(|a, b| a.path.cmp(&b.path));
    let allowed = Allowed {
        extra: false,
        recompressed: policy.requirements.allow_recompressed,
    };
    report.summary = summary;
    report.files = findings;
    Ok(finish(report, allowed))
}
