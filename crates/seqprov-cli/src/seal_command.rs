//! `seqprov keygen` and `seqprov seal`.

use anyhow::{Context, Result};
use seqprov::{ExitStatus, HashOptions, PrivateKey};

use crate::args::{KeygenArgs, PubkeyArgs, SealArgs};
use crate::command_inputs::{read_mode, validate_text};
use crate::passphrase;
use crate::progress_bar::TerminalProgress;

pub(crate) fn keygen(a: KeygenArgs) -> Result<ExitStatus> {
    if let Some(name) = &a.name {
        seqprov::keys::validate_signer_name(name).map_err(anyhow::Error::msg)?;
    }
    if let Some(uri) = &a.pkcs11 {
        return keygen_on_token(uri, &a);
    }
    let key = PrivateKey::generate(a.name)?;
    let secret = if a.encrypt {
        Some(passphrase::for_new_key().map_err(anyhow::Error::msg)?)
    } else {
        None
    };
    let (key_path, pub_path) =
        seqprov::keys::write_new_keypair_with(&a.out, &key, secret.as_deref().map(String::as_str))?;
    outln!(
        "private key: {} (mode 0600; keep it secret)",
        crate::terminal_text::terminal_safe(&key_path.display().to_string())
    );
    outln!(
        "public key:  {}",
        crate::terminal_text::terminal_safe(&pub_path.display().to_string())
    );
    outln!("key id:      {}", key.public().id());
    Ok(ExitStatus::Verified)
}

/// `keygen --pkcs11 URI --out NAME`: a sensitive, non-extractable Ed25519 key made on the
/// token; only NAME.pub is written.
fn keygen_on_token(uri_text: &str, a: &KeygenArgs) -> Result<ExitStatus> {
    let reference = std::path::Path::new(uri_text);
    let uri = seqprov_signers::pkcs11_uri::Pkcs11Uri::parse(uri_text).map_err(|e| {
        seqprov::Error::Key {
            path: reference.to_path_buf(),
            reason: e.to_string(),
        }
    })?;
    let pub_path = seqprov::keys::public_key_path(&a.out);
    if std::fs::symlink_metadata(&pub_path).is_ok() {
        anyhow::bail!(seqprov::Error::Refused(format!(
            "{} already exists; refusing to overwrite a key file",
            pub_path.display()
        )));
    }
    let module = crate::key_reference::module_path(&a.token);
    let key =
        seqprov_signers::pkcs11::generate_key_pair(&uri, module.as_deref(), &passphrase::for_token)
            .map_err(|e| seqprov::Error::Key {
                path: reference.to_path_buf(),
                reason: e.to_string(),
            })?;
    let public = seqprov::PublicKey::from_verifying_key(key, a.name.clone());
    seqprov::keys::write_new_public_key(&pub_path, &public)?;
    outln!("private key: on the token (sensitive, not extractable)");
    outln!(
        "public key:  {}",
        crate::terminal_text::terminal_safe(&pub_path.display().to_string())
    );
    outln!("key id:      {}", public.id());
    Ok(ExitStatus::Verified)
}

/// `seqprov pubkey KEYREF --out NAME.pub`.
pub(crate) fn pubkey(a: PubkeyArgs) -> Result<ExitStatus> {
    if std::fs::symlink_metadata(&a.out).is_ok() {
        anyhow::bail!(seqprov::Error::Refused(format!(
            "{} already exists; refusing to overwrite a key file",
            a.out.display()
        )));
    }
    let signer = crate::open_signer(&a.key, a.allow_insecure_key_permissions, &a.token)?;
    let public = signer.public_key_with_name();
    seqprov::keys::write_new_public_key(&a.out, &public)?;
    outln!(
        "public key: {}",
        crate::terminal_text::terminal_safe(&a.out.display().to_string())
    );
    outln!("key id:     {}", public.id());
    outln!("held in:    {}", signer.key_storage().as_str());
    Ok(ExitStatus::Verified)
}

pub(crate) fn seal(a: SealArgs) -> Result<ExitStatus> {
    crate::timestamp_command::check_tsa_count(&a.tsa)?;
    let key = crate::open_signer(&a.key, a.allow_insecure_key_permissions, &a.token)?;
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
    let structure = crate::command_inputs::structure_options(
        a.no_structure_check,
        a.strict_structure,
        a.full_structure_check,
    );
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
        signer_name: a.signer.clone(),
        role: a.role.clone(),
        meaning: a.meaning.clone(),
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
        exclude: a.exclude.clone(),
        outboard: a
            .outboard
            .then(|| seqprov::engine::outboard::directory_for(&out)),
        salt_seed: a
            .test_salt_seed
            .as_deref()
            .map(crate::sharded_commands::parse_seed)
            .transpose()?,
        time: a
            .test_time
            .as_deref()
            .map(seqprov::format::manifest::parse_time)
            .transpose()
            .map_err(|e| anyhow::anyhow!("--test-time: {e}"))?,
    };
    let progress = TerminalProgress::new("sealing", a.read.quiet);
    let (sealed, sharded) = if a.from_parts.is_empty() {
        (
            seqprov::seal_directory(&a.dir, &*key, &options, &progress),
            None,
        )
    } else {
        match crate::sharded_commands::seal_from_parts(&a, &*key, &options, &progress) {
            Ok((sealed, sharded)) => (Ok(sealed), Some(sharded)),
            Err(e) => (Err(e), None),
        }
    };
    progress.finish();
    let sealed = sealed.with_context(|| format!("sealing {} failed", a.dir.display()))?;
    seqprov::Progress::phase(&progress, "write");
    // Again, by the handle: the directory itself may have been moved into the folder.
    output.check_outside(&a.dir)?;
    let bundle =
        crate::timestamp_command::stamp_new_seal(sealed.bundle.clone(), &a.tsa, a.timestamp_later)?;
    output.write(&bundle, overwrite, 0o644)?;
    if let Some(sharded) = &sharded {
        crate::sharded_commands::record_nodes(&a, &out, &*key, &options, &sealed, sharded)?;
    }
    progress.report_timings();
    crate::log_client_commands::submit_new(
        &out,
        &a.log,
        &[],
        crate::log_client_commands::Selection::Message(0),
        false,
    )?;
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
        outln!(
            "sealed {} ({} files, {} bytes) -> {}",
            crate::terminal_text::terminal_safe(&a.dir.display().to_string()),
            p.files,
            p.bytes,
            crate::terminal_text::terminal_safe(&out.display().to_string())
        );
        outln!(
            "root {}  signer {} ({})",
            hex::encode(p.root.0),
            crate::terminal_text::terminal_safe(&p.signer.name),
            crate::terminal_text::terminal_safe(&p.signer.role)
        );
    }
    Ok(ExitStatus::Verified)
}
