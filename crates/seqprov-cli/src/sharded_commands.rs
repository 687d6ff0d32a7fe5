//! `seqprov plan`, `seqprov hash-part` and the `--from-parts` side of `seal`
//! (spec/sharded.md).

use std::path::Path;

use anyhow::{Context, Result};
use seqprov::sharded::{self, GivenPart, PartsInput, PlanOptions, ShardedSeal};
use seqprov::{ExitStatus, SealOptions, Sealed};

use crate::args::{HashPartArgs, PlanArgs, SealArgs, VerifyArgs};
use crate::terminal_text::terminal_safe;

/// Parse a test-only salt seed: exactly 64 hexadecimal digits.
pub(crate) fn parse_seed(hex_text: &str) -> Result<[u8; 32]> {
    let bytes = hex::decode(hex_text)
        .ok()
        .and_then(|b| <[u8; 32]>::try_from(b).ok())
        .ok_or_else(|| anyhow::anyhow!("--test-salt-seed: expected 64 hexadecimal digits"))?;
    Ok(bytes)
}

fn overwrite(force: bool) -> seqprov::Overwrite {
    if force {
        seqprov::Overwrite::Replace
    } else {
        seqprov::Overwrite::Refuse
    }
}

fn refuse_existing(path: &Path, force: bool) -> Result<()> {
    if !force && std::fs::symlink_metadata(path).is_ok() {
        anyhow::bail!(seqprov::Error::Refused(format!(
            "{} already exists; pass --force to replace it",
            path.display()
        )));
    }
    Ok(())
}

pub(crate) fn plan(a: PlanArgs) -> Result<ExitStatus> {
    refuse_existing(&a.out, a.force)?;
    let output = seqprov::bundle_file::OutputDir::open(&a.out)?;
    output.check_outside_as(&a.dir, "plan", "planned")?;
    let options = PlanOptions {
        parts: a.parts,
        sha256: a.sha256,
        structure: crate::command_inputs::structure_options(
            a.no_structure_check,
            a.strict_structure,
            a.full_structure_check,
        ),
        exclude: a.exclude,
        range_len: a.range_len,
        salt_seed: a.test_salt_seed.as_deref().map(parse_seed).transpose()?,
    };
    let (plan, bytes) = sharded::make_plan(&a.dir, &options)
        .with_context(|| format!("planning {} failed", a.dir.display()))?;
    output.write(&bytes, overwrite(a.force), 0o644)?;
    let files = plan.entries.iter().filter(|e| e.stamp.is_some()).count();
    let bytes_total: u64 = plan
        .entries
        .iter()
        .filter_map(|e| e.stamp.map(|s| s.size))
        .sum();
    outln!(
        "plan {} -> {}: {files} files, {bytes_total} bytes in {} parts (ranges of {} bytes)",
        seqprov::format::shard::plan_digest(&bytes)
            .iter()
            .take(8)
            .map(|b| format!("{b:02x}"))
            .collect::<String>(),
        terminal_safe(&a.out.display().to_string()),
        plan.parts.len(),
        plan.range_len
    );
    Ok(ExitStatus::Verified)
}

fn this_host() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown-host".into())
}

pub(crate) fn hash_part(a: HashPartArgs) -> Result<ExitStatus> {
    refuse_existing(&a.out, a.force)?;
    let node = a.node.clone().unwrap_or_else(this_host);
    crate::validate_text("--node", &node)?;
    let output = seqprov::bundle_file::OutputDir::open(&a.out)?;
    let bytes = sharded::read_bounded(&a.plan, seqprov::format::shard::MAX_PLAN_BYTES)?;
    let (plan, digest) = sharded::read_plan(&a.plan, &bytes)
        .with_context(|| format!("hashing part {} failed", a.part))?;
    drop(bytes);
    // A part written into the planned directory would change it.
    output.check_outside_as(Path::new(&plan.dir), "part", "planned")?;
    let progress = crate::progress_bar::TerminalProgress::new("hashing", a.read.quiet);
    let part = sharded::hash_part(
        &plan,
        digest,
        a.part,
        &node,
        crate::read_mode(a.read),
        &progress,
    );
    progress.finish();
    let part = part.with_context(|| format!("hashing part {} failed", a.part))?;
    output.write(&part.to_cbor(), overwrite(a.force), 0o644)?;
    if !a.read.quiet {
        outln!(
            "part {} ({} pieces, {} bytes) hashed on {} -> {}",
            part.part,
            part.pieces.len(),
            part.pieces.iter().map(|p| p.len).sum::<u64>(),
            terminal_safe(&node),
            terminal_safe(&a.out.display().to_string())
        );
    }
    Ok(ExitStatus::Verified)
}

/// The plan and part files of `--plan` and `--from-parts`, read within their limits.
struct ReadParts {
    plan_bytes: Vec<u8>,
    parts: Vec<GivenPart>,
    recheck: f64,
}

fn read_parts(
    plan_path: &Path,
    from_parts: &[std::path::PathBuf],
    recheck: Option<f64>,
) -> seqprov::Result<ReadParts> {
    let recheck = recheck.unwrap_or(sharded::DEFAULT_RECHECK);
    if !(0.0..=1.0).contains(&recheck) {
        return Err(seqprov::Error::Refused(format!(
            "--recheck {recheck}: a fraction from 0 to 1 is expected"
        )));
    }
    let plan_bytes = sharded::read_bounded(plan_path, seqprov::format::shard::MAX_PLAN_BYTES)?;
    let parts = from_parts
        .iter()
        .map(|path| {
            Ok(GivenPart {
                name: path.clone(),
                bytes: sharded::read_bounded(path, seqprov::format::shard::MAX_PART_BYTES)?,
            })
        })
        .collect::<seqprov::Result<Vec<_>>>()?;
    Ok(ReadParts {
        plan_bytes,
        parts,
        recheck,
    })
}

/// `seal DIR --from-parts PART... --plan PLAN`.
pub(crate) fn seal_from_parts(
    a: &SealArgs,
    key: &dyn seqprov::keys::Signer,
    options: &SealOptions,
    progress: &dyn seqprov::Progress,
) -> seqprov::Result<(Sealed, ShardedSeal)> {
    let plan_path = a.plan.as_deref().expect("clap requires --plan");
    let read = read_parts(plan_path, &a.from_parts, a.recheck)?;
    let input = PartsInput {
        plan_name: plan_path,
        plan_bytes: &read.plan_bytes,
        parts: &read.parts,
        recheck: read.recheck,
    };
    sharded::seal_from_parts(&a.dir, &input, key, options, progress)
}

/// `verify DIR --from-parts PART... --plan PLAN`: the digests the parts give.
pub(crate) fn digests_from_parts(
    dir: &Path,
    a: &VerifyArgs,
    sealed_sha256: bool,
) -> Result<seqprov::bundle_checks::PrecomputedDigests> {
    let plan_path = a.plan.as_deref().expect("clap requires --plan");
    let read = read_parts(plan_path, &a.from_parts, a.recheck)?;
    let input = PartsInput {
        plan_name: plan_path,
        plan_bytes: &read.plan_bytes,
        parts: &read.parts,
        recheck: read.recheck,
    };
    let (digests, sharded) = sharded::digests_from_parts(dir, &input, crate::read_mode(a.read))?;
    if sealed_sha256 && digests.values().any(|(_, d)| d.sha256.is_none()) {
        anyhow::bail!(seqprov::Error::Refused(
            "the seal records SHA-256 but the plan does not compute it: make the plan with \
             --sha256"
                .into()
        ));
    }
    if !a.read.quiet && !a.json {
        eprintln!("seqprov: {}", terminal_safe(&sharded::nodes_note(&sharded)));
    }
    Ok(digests)
}

/// After a seal from parts is written: append the custody event that records which node
/// hashed which part (unless --no-nodes-event), and say so.
pub(crate) fn record_nodes(
    a: &SealArgs,
    out: &Path,
    key: &dyn seqprov::keys::Signer,
    options: &SealOptions,
    sealed: &Sealed,
    sharded: &ShardedSeal,
) -> Result<()> {
    let note = sharded::nodes_note(sharded);
    if !a.read.quiet {
        eprintln!("seqprov: {}", terminal_safe(&note));
    }
    if a.no_nodes_event {
        return Ok(());
    }
    let bundle = seqprov::bundle_file::parse_bundle(&sealed.bundle)?;
    let draft = seqprov::custody::EventDraft {
        kind: seqprov::custody::EventKind::Attest,
        signer_name: options.signer_name.clone(),
        role: options.role.clone(),
        meaning: "record: which node hashed which part of this seal (node names as the \
                  parts give them)"
            .into(),
        host: None,
        to: None,
        note: Some(note),
        verification: None,
        derived: None,
        time: options.time,
    };
    seqprov::custody::append_event_if_unchanged(
        out,
        key,
        &draft,
        &seqprov::custody::BundleIdentity::of(&bundle),
    )
    .context("recording the nodes in a custody event")?;
    Ok(())
}
