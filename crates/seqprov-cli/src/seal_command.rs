//! `seqprov keygen` and `seqprov seal`.

use anyhow::{Context, Result};
use seqprov::{ExitStatus, HashOptions, PrivateKey};

use crate::args::{KeygenArgs, SealArgs};
use crate::command_inputs::{load_private_key, read_mode, validate_text};
use crate::passphrase;
use crate::progress_bar::TerminalProgress;

pub(crate) fn keygen(a: KeygenArgs) -> Result<ExitStatus> {
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
        crate::terminal_text::terminal_safe(&key_path.display().to_string())
    );
    println!(
        "public key:  {}",
        crate::terminal_text::terminal_safe(&pub_path.display().to_string())
    );
    println!("key id:      {}", key.public().id());
    Ok(ExitStatus::Verified)
}

pub(crate) fn seal(a: SealArgs) -> Result<ExitStatus> {
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
    // The output directory is opened once and checked by its handle; the bundle is
    // written through that handle, so a path swapped meanwhile cannot move it.
    let output = seqprov::bundle_file::OutputDir::open(&out)?;
    output.check_outside(&a.dir)?;
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
            eprintln!(
                "seqprov: {} is present; sealing",
                crate::terminal_text::terminal_safe(&marker.display().to_string())
            );
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
    // Again, by the handle: the directory itself may have been moved into the folder.
    output.check_outside(&a.dir)?;
    let bundle =
        crate::timestamp_command::stamp_new_seal(sealed.bundle.clone(), &a.tsa, a.timestamp_later)?;
    output.write(&bundle, overwrite, 0o644)?;
    progress.report_timings();
    const SHOWN: usize = 20;
    for warning in sealed.warnings.iter().take(SHOWN) {
        eprintln!(
            "seqprov: warning: {}",
            crate::terminal_text::terminal_safe(warning)
        );
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
            crate::terminal_text::terminal_safe(&a.dir.display().to_string()),
            p.files,
            p.bytes,
            crate::terminal_text::terminal_safe(&out.display().to_string())
        );
        println!(
            "root {}  signer {} ({})",
            hex::encode(p.root.0),
            crate::terminal_text::terminal_safe(&p.signer.name),
            crate::terminal_text::terminal_safe(&p.signer.role)
        );
    }
    Ok(ExitStatus::Verified)
}
