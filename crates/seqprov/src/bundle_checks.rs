//! Everything about a bundle that can be checked without its files: signatures, root,
//! custody chain, lineage, the seal's own warnings and the policy's requirements.

use seqprov_engine::ReadMode;
use seqprov_format::Bundle;
use seqprov_format::entry_path::link_leaves_tree;
use seqprov_format::manifest::SealPayload;

/// How many links leading outside the folder a report names one by one.
const MAX_LINKS_NAMED: usize = 20;

use crate::chain::{self, ChainCheck};
use crate::integrity::check_seal_signature;
use crate::lineage::{self, LineageReport};
use crate::policy::{Policy, RuleFailure};
use crate::report::{RootStatus, SignatureStatus};
use crate::timestamp_checks::{MessageTime, check_timestamps};

/// How to verify.
#[derive(Clone, Copy, Debug, Default)]
pub struct VerifyOptions<'a> {
    /// How to read file contents.
    pub read_mode: ReadMode,
    /// Bundles the seal may say it was derived from (`--derived-from`).
    pub lineage_inputs: &'a [Bundle],
    /// Require a recorded, given and valid derived-from bundle (also set by policy).
    pub require_lineage: bool,
    /// How `verify FILE... --proof` pairs files with disclosed entries.
    pub proof_matching: ProofMatching,
    /// Digests computed elsewhere (`verify --from-parts`): a file whose stamp still equals
    /// the one given is not read; its digests are taken from here.
    pub precomputed: Option<&'a PrecomputedDigests>,
}

/// Digests of files computed elsewhere, by entry path, with the stamp of the file they
/// were computed from (`spec/sharded.md` §8).
pub type PrecomputedDigests = std::collections::HashMap<
    String,
    (
        seqprov_format::shard::PlanStamp,
        seqprov_engine::FileDigests,
    ),
>;

/// How files given to `verify FILE... --proof` are paired with the entries the proof
/// discloses (`spec/proof.md` §7).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ProofMatching {
    /// A file is checked only as the entry whose last path component is its name (or the
    /// entry named for it explicitly). The default.
    #[default]
    ByName,
    /// A file is checked as whichever disclosed entry has its content, whatever its name
    /// (`--match-content-ignoring-names`): gives up the check that a file is the entry it
    /// claims to be. The report still names the entry each file was taken as.
    ContentIgnoringNames,
}

/// Everything about a bundle that can be checked without its files: signatures, root,
/// custody chain, lineage and policy.
#[derive(Clone, Debug)]
pub struct BundleChecks {
    /// Seal signature status.
    pub signature: SignatureStatus,
    /// Merkle root status.
    pub root: RootStatus,
    /// Whether the seal's signer is trusted under the policy for its role at its time.
    pub trusted: bool,
    /// The custody chain as checked.
    pub chain: ChainCheck,
    /// Integrity problems (exit 1).
    pub integrity: Vec<String>,
    /// Failed policy rules (exit 3).
    pub policy: Vec<RuleFailure>,
    /// Lineage section.
    pub lineage: Option<LineageReport>,
    /// Warnings from the seal itself (what it recorded as incomplete or broken, a
    /// contradicted run-mode claim) and from the chain.
    pub warnings: Vec<String>,
    /// Claimed and attested time of each message (empty when the seal does not hold).
    pub times: Vec<MessageTime>,
    /// The log receipt records as checked (empty when the seal does not hold).
    pub log_receipts: Vec<crate::log_receipt_checks::ReceiptReport>,
}

/// Check signatures, root, chain, lineage and policy of a bundle.
pub fn check_bundle(bundle: &Bundle, policy: &Policy, options: &VerifyOptions<'_>) -> BundleChecks {
    let mut checks = BundleChecks {
        signature: SignatureStatus::Valid,
        root: RootStatus::Match,
        trusted: false,
        chain: ChainCheck::default(),
        integrity: Vec::new(),
        policy: Vec::new(),
        lineage: None,
        warnings: Vec::new(),
        times: Vec::new(),
        log_receipts: Vec::new(),
    };
    // The chain is listed even when the seal fails, so reports show every event.
    checks.chain = chain::check(bundle);
    if let Err(why) = check_seal_signature(bundle) {
        checks.signature = SignatureStatus::Invalid;
        checks.root = RootStatus::NotChecked;
        checks
            .integrity
            .push(format!("the seal's signature does not verify: {why}"));
        return checks;
    }
    if !bundle.root_matches() {
        checks.root = RootStatus::Mismatch;
        checks.integrity.push(
            "the entry list does not match the signed Merkle root (the entry list was edited)"
                .into(),
        );
        return checks;
    }
    let seal = &bundle.payload;
    checks.warnings.extend(seal_warnings(seal));
    if let Some(required) = policy.requirements.require_mode {
        let failure = match &seal.mode {
            None => Some("the seal makes no run-mode claim".to_string()),
            Some(m) if m.claim != required => Some(format!("the seal claims `{}`", m.claim.name())),
            Some(m) if m.corroboration == "disagrees" => Some(format!(
                "the claim is contradicted by the run parameters: {}",
                m.detail.as_deref().unwrap_or("")
            )),
            Some(_) => None,
        };
        if let Some(why) = failure {
            checks.policy.push(RuleFailure::new(
                "run_mode",
                "seal",
                format!("the policy requires run mode `{}`; {why}", required.name()),
            ));
        }
    }
    // Issue 12 item 11: links whose data is not sealed.
    let external: Vec<(&str, &str)> = bundle
        .entries
        .iter()
        .filter_map(|e| Some((e.path(), e.target()?)))
        .filter(|(path, target)| link_leaves_tree(path, target))
        .collect();
    for (path, target) in external.iter().take(MAX_LINKS_NAMED) {
        checks
            .warnings
            .push(crate::seal::external_link_warning(path, target));
    }
    let count = seal.external_symlinks.max(external.len() as u64);
    let named = external.len().min(MAX_LINKS_NAMED) as u64;
    if count > named {
        checks.warnings.push(format!(
            "... and {} more symlink(s) pointing outside the sealed folder",
            count - named
        ));
    }
    if count > 0 && !policy.requirements.allow_external_symlinks {
        let named: Vec<String> = external
            .iter()
            .take(MAX_LINKS_NAMED)
            .map(|(path, target)| format!("{path} -> {target}"))
            .collect();
        checks.policy.push(RuleFailure::new(
            "external_symlinks",
            "seal",
            format!(
                "{count} symlink(s) point outside the sealed folder{}{}",
                if named.is_empty() { "" } else { ": " },
                named.join(", ")
            ),
        ));
    }
    if policy.requirements.refuse_run_mismatch
        && let Some(mismatch) = &seal.run_mismatch
    {
        checks.policy.push(RuleFailure::new(
            "run_mismatch",
            "seal",
            format!("the policy refuses run metadata that names two runs: {mismatch}"),
        ));
    }
    // Trusted time (spec/timestamps.md): a token that does not belong to its message is an
    // integrity failure; keys are judged at the attested time where one exists.
    let claimed: Vec<Option<String>> = std::iter::once(Some(seal.time.clone()))
        .chain(
            checks
                .chain
                .events
                .iter()
                .map(|r| r.payload.as_ref().map(|p| p.time.clone())),
        )
        .collect();
    let stamped = check_timestamps(bundle, policy, &claimed);
    checks.integrity.extend(stamped.integrity.iter().cloned());
    checks.policy.extend(stamped.policy.iter().cloned());
    checks.warnings.extend(stamped.warnings.iter().cloned());
    let seal_time = stamped.attested(0).unwrap_or(&seal.time).to_owned();
    let seal_failures = policy.judge_at(
        "seal",
        bundle.seal.key_id,
        &seal.signer.role,
        &seal_time,
        seal.signer.key_storage,
        stamped.attested(0).is_some(),
    );
    checks.trusted = seal_failures.is_empty();
    // The compact record of missing files must expand, against the signed layout, to
    // exactly its count and digest (spec/bundle.md §6.3). Only a trusted signer's record
    // is expanded: an untrusted seal is refused anyway (exit 3), and expanding costs time
    // in proportion to the count a forged record could claim (hostile review round 2).
    if checks.trusted
        && let Some(missing) = seal.missing.as_ref().filter(|m| m.is_exact())
    {
        let expanded = match &seal.run {
            Some(run) => seqprov_illumina::run_layout::expand_file_set(missing, run, 0).map(drop),
            None => Err("the seal records no run layout to expand it against".into()),
        };
        if let Err(why) = expanded {
            checks.integrity.push(format!(
                "the seal's record of missing files is inconsistent: {why}"
            ));
        }
    }

    checks.policy.extend(seal_failures);
    let roles = &policy.requirements.seal_roles;
    if checks.trusted && !roles.is_empty() && !roles.contains(&seal.signer.role) {
        checks.policy.push(RuleFailure::new(
            "seal_role",
            "seal",
            format!(
                "sealed in role {:?}; the policy lets only {roles:?} seal",
                seal.signer.role
            ),
        ));
    }

    checks.integrity.extend(checks.chain.integrity_problems());
    let mut good_events = Vec::new();
    for record in &checks.chain.events {
        let Some(payload) = &record.payload else {
            continue;
        };
        if !record.problems.is_empty() {
            continue;
        }
        let subject = format!("custody event {}", record.position);
        let key_id = bundle.events[(record.position - 1) as usize].key_id;
        let attested = stamped.attested(record.position as usize);
        let at = attested.unwrap_or(&payload.time);
        let failures = policy.judge_at(
            &subject,
            key_id,
            &payload.signer.role,
            at,
            payload.signer.key_storage,
            attested.is_some(),
        );
        if failures.is_empty() {
            good_events.push(payload);
        }
        checks.policy.extend(failures);
    }
    for required in &policy.requirements.required_events {
        let found = good_events.iter().any(|e| {
            e.kind.name() == required.kind
                && required.role.as_ref().is_none_or(|r| *r == e.signer.role)
        });
        if !found {
            checks.policy.push(RuleFailure::new(
                "required_event",
                "bundle",
                match &required.role {
                    Some(role) => format!("no trusted `{}` event by role {role:?}", required.kind),
                    None => format!("no trusted `{}` event", required.kind),
                },
            ));
        }
    }
    if let Some(max) = policy.max_gap() {
        let mut previous = ("seal".to_string(), seal.time.clone());
        for record in &checks.chain.events {
            let Some(payload) = &record.payload else {
                continue;
            };
            if let Some(gap) = gap_between(&previous.1, &payload.time)
                && gap > max
            {
                checks.policy.push(RuleFailure::new(
                    "custody_gap",
                    &format!("custody event {}", record.position),
                    format!(
                        "{} between {} ({}) and this event ({}); the policy allows {}",
                        describe_duration(gap),
                        previous.0,
                        previous.1,
                        payload.time,
                        describe_duration(max)
                    ),
                ));
            }
            previous = (
                format!("custody event {}", record.position),
                payload.time.clone(),
            );
        }
    }
    let lineage = lineage::check(
        bundle,
        options.lineage_inputs,
        policy,
        options.require_lineage || policy.requirements.require_lineage,
    );
    checks.integrity.extend(lineage.integrity);
    checks.policy.extend(lineage.policy);
    checks.lineage = lineage.report;
    checks.times = stamped.times;
    // Transparency-log receipts (spec/log.md §7.2).
    let logged = crate::log_receipt_checks::check_receipts(bundle, policy);
    checks.integrity.extend(logged.integrity);
    checks.policy.extend(logged.policy);
    checks.warnings.extend(logged.warnings);
    checks.log_receipts = logged.receipts;
    checks
}

/// What the seal itself recorded that a verifier should be told.
fn seal_warnings(seal: &SealPayload) -> Vec<String> {
    let mut out = Vec::new();
    if !seal.incomplete.is_empty() {
        out.push(format!(
            "sealed incomplete: {} file(s) the run layout expects were missing at seal time: {}",
            seal.incomplete.len(),
            seal.incomplete
                .iter()
                .take(10)
                .cloned()
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if let Some(missing) = &seal.missing {
        // A few files are named by path; more are described by their ranges.
        let named = seal
            .run
            .as_ref()
            .filter(|_| missing.count <= 10)
            .and_then(|run| seqprov_illumina::run_layout::expand_file_set(missing, run, 10).ok())
            .map(|paths| paths.join(", "));
        out.push(format!(
            "sealed incomplete: {} file(s) the run layout expects were missing at seal time: {}",
            missing.count,
            named.unwrap_or_else(|| seqprov_illumina::run_layout::describe_file_set(missing, 10))
        ));
    }
    if let Some(unexpected) = &seal.unexpected {
        out.push(format!(
            "sealed with {} base-call or filter file(s) of lanes the run layout does not have: {}",
            unexpected.count,
            seqprov_illumina::run_layout::describe_file_set(unexpected, 10)
        ));
    }
    for broken in &seal.broken {
        out.push(format!(
            "sealed although a format check failed: {}: {}",
            broken.path, broken.reason
        ));
    }
    if let Some(mismatch) = &seal.run_mismatch {
        out.push(format!("run metadata: {mismatch}"));
    }
    if let Some(mode) = &seal.mode
        && mode.corroboration == "disagrees"
    {
        out.push(format!(
            "run mode: {}",
            mode.detail
                .as_deref()
                .unwrap_or("the claim is contradicted by the software the run parameters name")
        ));
    }
    out
}

/// Time from `earlier` to `later` (both payload times), if both parse.
pub fn gap_between(earlier: &str, later: &str) -> Option<time::Duration> {
    let a = seqprov_format::manifest::parse_time(earlier).ok()?;
    let b = seqprov_format::manifest::parse_time(later).ok()?;
    Some(b - a)
}

/// A duration in words (`3d 4h 5m`).
pub fn describe_duration(d: time::Duration) -> String {
    describe_seconds(d.whole_seconds())
}

/// A number of seconds in words (`3d 4h 5m`).
pub fn describe_seconds(total: i64) -> String {
    let (days, hours, minutes, seconds) = (
        total / 86_400,
        total % 86_400 / 3600,
        total % 3600 / 60,
        total % 60,
    );
    let mut parts = Vec::new();
    if days != 0 {
        parts.push(format!("{days}d"));
    }
    if hours != 0 {
        parts.push(format!("{hours}h"));
    }
    if minutes != 0 {
        parts.push(format!("{minutes}m"));
    }
    if seconds != 0 || parts.is_empty() {
        parts.push(format!("{seconds}s"));
    }
    parts.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::PrivateKey;
    use crate::seal::{SealFacts, SealOptions, sign_entries_with};

    /// Issue 12 item 27: a signed `missing` record whose groups do not expand, against the
    /// signed layout, to its count and digest is an integrity failure, not a warning.
    #[test]
    fn a_missing_record_that_does_not_expand_to_its_digest_is_malformed() {
        let info = br#"<RunInfo Version="2"><Run Id="R" Number="1"><Reads>
            <Read Number="1" NumCycles="3" IsIndexedRead="N"/></Reads>
            <FlowcellLayout LaneCount="1" SurfaceCount="1" SwathCount="1" TileCount="2"/>
            </Run></RunInfo>"#;
        let run = seqprov_illumina::run_info::RunMetadata {
            run_info: seqprov_illumina::run_info::parse_run_info(info, "RunInfo.xml").unwrap(),
            run_parameters: None,
        };
        let only_info = ["RunInfo.xml".to_string()].into();
        let completeness =
            seqprov_illumina::run_layout::check_completeness(&run, &only_info).unwrap();
        let honest = completeness.missing.unwrap();
        let key = PrivateKey::from_seed(&[7; 32], None);
        let policy = Policy::trusting(vec![key.public()]);
        let check = |missing| {
            let facts = SealFacts {
                run: Some(run.clone()),
                missing: Some(missing),
                ..SealFacts::default()
            };
            let sealed = sign_entries_with(
                Vec::new(),
                "R",
                &key,
                &SealOptions::default(),
                facts,
                &seqprov_engine::hashing::NoProgress,
            )
            .unwrap();
            let bundle = Bundle::parse(&sealed.bundle).unwrap();
            check_bundle(&bundle, &policy, &VerifyOptions::default())
        };
        let good = check(honest.clone());
        assert!(good.integrity.is_empty(), "{:?}", good.integrity);
        assert!(good.warnings[0].contains("sealed incomplete: 9 file(s)"));
        let mut fewer = honest.clone();
        fewer.groups[0].clast -= 1;
        let mut recounted = honest.clone();
        recounted.count -= 1;
        let mut unknown = honest;
        unknown.groups[0].lane = 2;
        for forged in [fewer, recounted, unknown] {
            let checks = check(forged);
            assert!(
                checks.integrity[0].contains("record of missing files is inconsistent"),
                "{:?}",
                checks.integrity
            );
        }
    }
}
