//! The `seqprov` binary: parses arguments, calls the library, prints, exits with the
//! documented code (0 verified, 1 integrity failure, 2 usage or I/O error, 3 not trusted).

mod args;
mod custody_commands;
mod export_command;
mod passphrase;
mod progress_bar;
mod text_output;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Parser;
use seqprov::report::{Report, RootStatus, SealSummary, SignatureStatus};
use seqprov::{ExitStatus, HashOptions, PermissionCheck, PrivateKey, PublicKey, ReadMode};

use args::{Cli, Command, KeygenArgs, ReadArgs, SealArgs, ShowArgs, TrustArgs, VerifyArgs};
use progress_bar::TerminalProgress;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Keygen(a) => keygen(a),
        Command::Seal(a) => seal(a),
        Command::Verify(a) => verify(a),
        Command::Show(a) => show(a),
        Command::Prove(a) => prove(a),
        Command::Custody(args::CustodyCommand::Append(a)) => custody_commands::append(a),
        Command::Custody(args::CustodyCommand::Show(a)) => custody_commands::show(a),
        Command::Receive(a) => custody_commands::receive(a),
        Command::Export(a) => export_command::export(a),
    };
    match outcome {
        Ok(status) => ExitCode::from(status.code()),
        Err(error) => {
            eprintln!("seqprov: error: {}", describe(&error));
            ExitCode::from(exit_status_of(&error).code())
        }
    }
}

/// The error and its context, stopping at the library's error (whose message already
/// includes its operating-system cause).
pub(crate) fn describe(error: &anyhow::Error) -> String {
    let mut parts = Vec::new();
    for cause in error.chain() {
        parts.push(cause.to_string());
        if cause.downcast_ref::<seqprov::Error>().is_some() {
            break;
        }
    }
    parts.join(": ")
}

/// The exit status of an error: the library's classification if it came from there.
pub(crate) fn exit_status_of(error: &anyhow::Error) -> ExitStatus {
    error
        .chain()
        .find_map(|e| e.downcast_ref::<seqprov::Error>())
        .map_or(ExitStatus::UsageOrIo, seqprov::Error::exit_status)
}

/// Load a private key, warning when the permission check is overridden.
pub(crate) fn load_private_key(path: &Path, allow_insecure: bool) -> Result<PrivateKey> {
    let permissions = if allow_insecure {
        PermissionCheck::AllowInsecure
    } else {
        PermissionCheck::Strict
    };
    let name = path.display().to_string();
    let key = PrivateKey::load_with(path, permissions, &|| passphrase::for_opening(&name))?;
    let exposed = std::fs::metadata(path)
        .map(|m| std::os::unix::fs::PermissionsExt::mode(&m.permissions()) & 0o077 != 0)
        .unwrap_or(false);
    if allow_insecure && exposed {
        eprintln!(
            "seqprov: warning: {} is readable or writable by group or others; using it anyway \
             (--allow-insecure-key-permissions)",
            path.display()
        );
    }
    Ok(key)
}

/// The policy that `--policy` and `--trust` together describe.
pub(crate) fn load_policy(trust: &TrustArgs) -> Result<seqprov::Policy> {
    let keys = trust
        .trust
        .iter()
        .map(|p| PublicKey::load(p))
        .collect::<seqprov::Result<Vec<_>>>()?;
    let mut policy = match &trust.policy {
        Some(path) => seqprov::Policy::load(path)?,
        None => seqprov::Policy::default(),
    };
    policy
        .signers
        .extend(seqprov::Policy::trusting(keys).signers);
    Ok(policy)
}

/// Refuse empty text or control characters in a recorded one-line field.
pub(crate) fn validate_text(flag: &str, text: &str) -> Result<()> {
    seqprov::keys::validate_signer_name(text)
        .map_err(|why| anyhow::anyhow!("{flag}: {}", why.replace("signer name", "text")))
}

pub(crate) fn read_mode(read: ReadArgs) -> ReadMode {
    if read.no_mmap {
        ReadMode::NoMmap
    } else {
        ReadMode::Auto
    }
}

fn keygen(a: KeygenArgs) -> Result<ExitStatus> {
    if let Some(name) = &a.name {
        seqprov::keys::validate_signer_name(name).map_err(anyhow::Error::msg)?;
    }
    let key = PrivateKey::generate(a.name)?;
    let secret = if a.encrypt {
        Some(passphrase::for_new_key().map_err(anyhow::Error::msg)?)
    } else {
        None
    };
    let (key_path, pub_path) =
        seqprov::keys::write_new_keypair_with(&a.out, &key, secret.as_deref().map(String::as_str))?;
    println!(
        "private key: {} (mode 0600; keep it secret)",
        key_path.display()
    );
    println!("public key:  {}", pub_path.display());
    println!("key id:      {}", key.public().id());
    Ok(ExitStatus::Verified)
}

fn seal(a: SealArgs) -> Result<ExitStatus> {
    let key = load_private_key(&a.key, a.allow_insecure_key_permissions)?;
    if let Some(name) = &a.signer {
        seqprov::keys::validate_signer_name(name).map_err(anyhow::Error::msg)?;
    }
    validate_text("--role", &a.role)?;
    validate_text("--meaning", &a.meaning)?;
    let out = match &a.out {
        Some(out) => out.clone(),
        None => seqprov::default_bundle_path(&a.dir)?,
    };
    seqprov::seal::check_bundle_outside(&a.dir, &out)?;
    let overwrite = if a.force {
        seqprov::Overwrite::Replace
    } else {
        seqprov::Overwrite::Refuse
    };
    if overwrite == seqprov::Overwrite::Refuse && std::fs::symlink_metadata(&out).is_ok() {
        anyhow::bail!(seqprov::Error::Refused(format!(
            "{} already exists; pass --force to replace it",
            out.display()
        )));
    }
    let mut lineage_run = None;
    let derived_from = match (&a.derived_from, &a.step) {
        (Some(input), Some(step)) => {
            validate_text("--step", step)?;
            let input_bundle = seqprov::read_bundle(input)
                .with_context(|| format!("reading derived-from bundle {}", input.display()))?;
            lineage_run = input_bundle.payload.run.clone();
            Some(seqprov::lineage::derived_from(
                &input_bundle,
                step,
                a.sample_sheet.as_deref(),
            )?)
        }
        _ => None,
    };
    if a.derived_from.is_some() && !a.content {
        eprintln!(
            "seqprov: note: read names are checked against the derived-from run only with \
             --content"
        );
    }
    let run_mode = a
        .mode
        .as_deref()
        .map(str::parse::<seqprov::illumina::run_mode::RunMode>)
        .transpose()
        .map_err(anyhow::Error::msg)?;
    let structure = (!a.no_structure_check).then_some(seqprov::illumina::structure::CheckOptions {
        mode: if a.strict_structure {
            seqprov::illumina::structure::StrictMode::Strict
        } else {
            seqprov::illumina::structure::StrictMode::Lenient
        },
        depth: if a.strict_structure || a.full_structure_check {
            seqprov::illumina::structure::Depth::Full
        } else {
            seqprov::illumina::structure::Depth::Framing
        },
    });
    if a.wait {
        let timeout = seqprov::policy::parse_duration(&a.wait_timeout)
            .map_err(|e| anyhow::anyhow!("--wait-timeout: {e}"))?;
        let marker = seqprov::illumina::completion::wait_for_completion(
            &a.dir,
            std::time::Duration::from_secs(timeout.whole_seconds().max(0) as u64),
            std::time::Duration::from_secs(2),
        )?;
        if !a.read.quiet {
            eprintln!("seqprov: {} is present; sealing", marker.display());
        }
    }
    let options = seqprov::SealOptions {
        derived_from,
        signer_name: a.signer,
        role: a.role,
        meaning: a.meaning,
        hash: HashOptions {
            sha256: a.sha256,
            read_mode: read_mode(a.read),
        },
        inspect: seqprov::inspect::InspectOptions {
            structure,
            content: a.content,
            run: lineage_run,
        },
        run_mode,
        allow_incomplete: a.allow_incomplete,
        allow_broken: a.allow_broken,
        exclude: a.exclude,
        outboard: a
            .outboard
            .then(|| seqprov::engine::outboard::directory_for(&out)),
        ..Default::default()
    };
    let progress = TerminalProgress::new("sealing", a.read.quiet);
    let sealed = seqprov::seal_directory(&a.dir, &key, &options, &progress);
    progress.finish();
    let sealed = sealed.with_context(|| format!("sealing {} failed", a.dir.display()))?;
    seqprov::Progress::phase(&progress, "write");
    seqprov::write_atomically(&out, &sealed.bundle, overwrite)?;
    progress.report_timings();
    const SHOWN: usize = 20;
    for warning in sealed.warnings.iter().take(SHOWN) {
        eprintln!("seqprov: warning: {warning}");
    }
    if sealed.warnings.len() > SHOWN {
        eprintln!(
            "seqprov: warning: … and {} more warnings",
            sealed.warnings.len() - SHOWN
        );
    }
    if !a.read.quiet {
        let p = &sealed.payload;
        println!(
            "sealed {} ({} files, {} bytes) -> {}",
            a.dir.display(),
            p.files,
            p.bytes,
            out.display()
        );
        println!(
            "root {}  signer {} ({})",
            hex::encode(p.root.0),
            p.signer.name,
            p.signer.role
        );
    }
    Ok(ExitStatus::Verified)
}

pub(crate) fn bundle_path_for(dir: &Path, given: &Option<PathBuf>) -> Result<PathBuf> {
    Ok(match given {
        Some(path) => path.clone(),
        None => seqprov::default_bundle_path(dir)?,
    })
}

fn verify(a: VerifyArgs) -> Result<ExitStatus> {
    let outcome = run_verify(&a);
    finish_verify(outcome, a.json, a.read.quiet).map(|(status, _)| status)
}

/// Print a verification outcome (text or JSON) and return its exit status and report.
pub(crate) fn finish_verify(
    outcome: Result<Report>,
    json: bool,
    quiet: bool,
) -> Result<(ExitStatus, Option<Report>)> {
    let report = match outcome {
        Ok(report) => report,
        Err(error) if json => {
            let status = exit_status_of(&error);
            let mut report = match error
                .chain()
                .find_map(|e| e.downcast_ref::<seqprov::Error>())
            {
                Some(lib) => Report::from_error(lib),
                None => Report::from_error(&seqprov::Error::Refused(describe(&error))),
            };
            report.errors = vec![describe(&error)];
            report.exit_code = status.code();
            println!("{}", report.to_json());
            eprintln!("seqprov: error: {}", describe(&error));
            return Ok((status, None));
        }
        Err(error) => return Err(error),
    };
    if json {
        println!("{}", report.to_json());
    } else if !(quiet && report.exit_code == 0) {
        text_output::print_report(&report);
    }
    Ok((report.exit_status(), Some(report)))
}

fn run_verify(a: &VerifyArgs) -> Result<Report> {
    let policy = load_policy(&a.trust)?;
    let inputs = a
        .derived_from
        .iter()
        .map(|p| {
            seqprov::read_bundle(p)
                .with_context(|| format!("reading derived-from bundle {}", p.display()))
        })
        .collect::<Result<Vec<_>>>()?;
    let progress = TerminalProgress::new("verifying", a.read.quiet || a.json);
    let options = seqprov::VerifyOptions {
        read_mode: read_mode(a.read),
        lineage_inputs: &inputs,
        require_lineage: a.require_lineage,
    };
    if let Some(range) = &a.range {
        let (start, len) = parse_range(range)?;
        let [file] = a.paths.as_slice() else {
            anyhow::bail!("--range checks one FILE");
        };
        let (source, source_path) = match (&a.proof, &a.bundle) {
            (Some(proof), _) => (
                seqprov::read_proof(proof)
                    .with_context(|| format!("reading proof {}", proof.display()))?
                    .0,
                proof.clone(),
            ),
            (None, Some(bundle)) => (
                seqprov::read_bundle(bundle)
                    .with_context(|| format!("reading bundle {}", bundle.display()))?,
                bundle.clone(),
            ),
            (None, None) => anyhow::bail!("--range needs --bundle or --proof"),
        };
        let outboard = a
            .outboard
            .clone()
            .unwrap_or_else(|| seqprov::engine::outboard::directory_for(&source_path));
        let report = seqprov::verify_range(
            file,
            &source,
            a.entry.as_deref(),
            &outboard,
            start,
            len,
            &policy,
            options,
        );
        progress.finish();
        return Ok(report?);
    }
    let report = match &a.proof {
        Some(proof_path) => {
            let (proof, _) = seqprov::read_proof(proof_path)
                .with_context(|| format!("reading proof {}", proof_path.display()))?;
            seqprov::verify_files(&a.paths, &proof, &policy, options, &progress)
        }
        None => {
            let [dir] = a.paths.as_slice() else {
                anyhow::bail!("verify takes one directory (or, with --proof, the files to check)");
            };
            let bundle_path = bundle_path_for(dir, &a.bundle)?;
            let bundle = seqprov::read_bundle(&bundle_path)
                .with_context(|| format!("reading bundle {}", bundle_path.display()))?;
            seqprov::verify_directory(dir, &bundle, &policy, options, &progress)
        }
    };
    progress.finish();
    progress.report_timings();
    Ok(report?)
}

/// Parse `START:LEN` (decimal bytes).
fn parse_range(text: &str) -> Result<(u64, u64)> {
    let parsed = text
        .split_once(':')
        .and_then(|(s, l)| Some((s.parse::<u64>().ok()?, l.parse::<u64>().ok()?)));
    match parsed {
        Some((start, len)) if len > 0 => Ok((start, len)),
        _ => anyhow::bail!("--range takes START:LEN in bytes, with LEN > 0, not {text:?}"),
    }
}

fn prove(a: args::ProveArgs) -> Result<ExitStatus> {
    let bundle = seqprov::read_bundle(&a.bundle)
        .with_context(|| format!("reading bundle {}", a.bundle.display()))?;
    if let Err(why) = seqprov::integrity::check_seal_signature(&bundle) {
        anyhow::bail!(seqprov::Error::Integrity(format!(
            "the bundle's seal does not verify: {why}"
        )));
    }
    let proof = seqprov::format::proof::prove(&bundle, &a.paths)?;
    let overwrite = if a.force {
        seqprov::Overwrite::Replace
    } else {
        seqprov::Overwrite::Refuse
    };
    seqprov::write_atomically(&a.out, &proof, overwrite)?;
    let (_, items) = seqprov::format::proof::parse(&proof)?;
    let p = &bundle.payload;
    if !p.incomplete.is_empty() || !p.broken.is_empty() {
        eprintln!(
            "seqprov: warning: the seal lists missing or broken files by name; every proof \
             carries the signed seal, so those names are disclosed too"
        );
    }
    println!(
        "proof of {} of {} entries -> {} ({} bytes)",
        items.len(),
        p.entries,
        a.out.display(),
        proof.len()
    );
    Ok(ExitStatus::Verified)
}

fn show(a: ShowArgs) -> Result<ExitStatus> {
    let bundle = match seqprov::read_bundle(&a.bundle) {
        Ok(bundle) => bundle,
        Err(error) if a.json => {
            let status = error.exit_status();
            let object = serde_json::json!({
                "show_version": 1,
                "seal": null,
                "signature": SignatureStatus::NotChecked,
                "root": RootStatus::NotChecked,
                "errors": [format!("reading bundle {}: {error}", a.bundle.display())],
                "exit_code": status.code(),
            });
            println!("{}", serde_json::to_string_pretty(&object)?);
            eprintln!(
                "seqprov: error: reading bundle {}: {error}",
                a.bundle.display()
            );
            return Ok(status);
        }
        Err(error) => {
            return Err(
                anyhow::Error::new(error).context(format!("reading bundle {}", a.bundle.display()))
            );
        }
    };
    let summary = SealSummary::of(&bundle);
    let signature = match seqprov::integrity::check_seal_signature(&bundle) {
        Ok(_) => SignatureStatus::Valid,
        Err(_) => SignatureStatus::Invalid,
    };
    let root = if bundle.root_matches() {
        RootStatus::Match
    } else {
        RootStatus::Mismatch
    };
    let status = if signature == SignatureStatus::Valid && root == RootStatus::Match {
        ExitStatus::Verified
    } else {
        ExitStatus::IntegrityFailure
    };
    if a.json {
        let object = serde_json::json!({
            "show_version": 1,
            "seal": summary,
            "signature": signature,
            "root": root,
            "errors": [],
            "exit_code": status.code(),
        });
        println!("{}", serde_json::to_string_pretty(&object)?);
    } else {
        for line in text_output::seal_lines(&summary) {
            println!("{line}");
        }
        println!(
            "signature: {} (self-consistency only: `verify --trust` decides trust)",
            if signature == SignatureStatus::Valid {
                "valid"
            } else {
                "INVALID"
            }
        );
        println!(
            "entries:   {}",
            if root == RootStatus::Match {
                "match the signed root"
            } else {
                "DO NOT match the signed root"
            }
        );
    }
    Ok(status)
}
