//! Entry points shared by the `cargo fuzz` targets (`fuzz/`) and the regression test that
//! replays their corpus (`tests/fuzz_corpus.rs`): each takes arbitrary bytes, must never
//! panic, hang or allocate without bound, and exercises one parser of untrusted input.

use std::path::Path;

/// A bundle: parse, then every check a verifier runs without files.
///
/// # Panics
/// When two readers of the same bytes disagree (that is the finding a fuzzer reports).
pub fn bundle(data: &[u8]) {
    if let Ok(bundle) = crate::Bundle::parse(data) {
        let _ = crate::integrity::check_seal_signature(&bundle);
        let _ = bundle.root_matches();
        let _ = crate::chain::check(&bundle);
        let policy = crate::Policy::default();
        let _ = crate::bundle_checks::check_bundle(&bundle, &policy, &Default::default());
        let _ = crate::report::SealSummary::of(&bundle);
    }
    let _ = seqprov_format::entry_list::decode(data);
    // The seal-first reader agrees with the plain parser on bundles whose seal holds, and
    // the head-only length of an item agrees with the decoder's.
    if let Ok(first) = crate::bundle_file::parse_bundle(data)
        && crate::integrity::check_seal_signature(&first).is_ok()
    {
        let plain = crate::Bundle::parse(data).expect("the seal-first reader accepted it");
        assert_eq!(plain.entries, first.entries);
    }
    // `item_len` is stricter than the plain decoder (it refuses indefinite lengths, which
    // the canonical form never has): on every canonical item the two agree, and wherever
    // both accept, they agree on the length.
    if let Ok((_, used)) = seqprov_format::cbor::decode_canonical(data) {
        assert_eq!(seqprov_format::cbor::item_len(data), Ok(used));
    }
    if let (Ok(len), Ok((_, used))) = (
        seqprov_format::cbor::item_len(data),
        seqprov_format::cbor::decode_first(data),
    ) {
        assert_eq!(len, used);
    }
}

/// A per-sample proof.
pub fn proof(data: &[u8]) {
    if let Ok((bundle, _)) = seqprov_format::proof::parse(data) {
        let _ = crate::bundle_checks::check_bundle(
            &bundle,
            &crate::Policy::default(),
            &Default::default(),
        );
    }
}

/// An RFC 3161 time-stamp token (the `token` of a timestamp record): checked against an
/// imprint (the first 32 bytes, when there are as many; else zeros) and, if it belongs,
/// judged against the certificates it carries as if they were trusted roots.
pub fn timestamp_token(data: &[u8]) {
    let imprint: [u8; 32] = data
        .get(..32)
        .and_then(|b| b.try_into().ok())
        .unwrap_or([0; 32]);
    for candidate in [data, data.get(32..).unwrap_or_default()] {
        for imprint in [imprint, [0; 32]] {
            if let Ok(token) = crate::timestamp_token::check_token(candidate, &imprint) {
                let _ = token.gen_time_text();
                let _ = crate::timestamp_token::attest(&token, &[]);
            }
        }
    }
}

/// A lab policy (TOML). Key paths resolve below a directory that does not exist.
pub fn policy(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = crate::Policy::parse(text, Path::new("/nonexistent-seqprov-fuzz"));
    }
}

/// RunInfo.xml and RunParameters.xml.
pub fn run_info(data: &[u8]) {
    let _ = seqprov_illumina::run_info::parse_run_info(data, "RunInfo.xml");
    let _ = seqprov_illumina::run_info::parse_run_parameters(data, "RunParameters.xml");
}

/// Structure checks of every Illumina binary kind, fed in two chunks.
pub fn structure(data: &[u8]) {
    use seqprov_illumina::structure::{CheckOptions, Depth, StrictMode, StructureChecker};
    let split = data.first().map_or(0, |&b| b as usize % (data.len() + 1));
    for name in [
        "x.bcl",
        "x.bcl.gz",
        "x.bcl.bgzf",
        "x.cbcl",
        "x.filter",
        "x.locs",
        "x.clocs",
        "s_1_1101_pos.txt",
    ] {
        for mode in [StrictMode::Strict, StrictMode::Lenient] {
            for depth in [Depth::Framing, Depth::Full] {
                let options = CheckOptions { mode, depth };
                if let Some(checker) = StructureChecker::for_path(name, options) {
                    let mut checker = checker.with_len(data.len() as u64);
                    checker.update(&data[..split]);
                    checker.update(&data[split..]);
                    let _ = checker.finish(data.len() as u64);
                }
            }
        }
    }
}

/// FASTQ content identity (plain, gzip or BGZF).
pub fn fastq(data: &[u8]) {
    let _ = seqprov_illumina::fastq::content_of_reader(data);
}

/// A plan or a part file (`spec/sharded.md`): whatever decodes is in its single encoding
/// and, for a plan, passes every rule; input made of a plan followed by a part has the
/// part checked against the plan.
///
/// # Panics
/// When an accepted file does not re-encode to its own bytes.
pub fn shard(data: &[u8]) {
    use seqprov_format::shard::{Part, Plan, plan_digest};
    let plan = Plan::from_cbor(data).ok();
    if let Some(plan) = &plan {
        assert_eq!(plan.to_cbor(), data);
        assert!(plan.validate().is_ok());
    }
    if let Ok(part) = Part::from_cbor(data) {
        assert_eq!(part.to_cbor(), data);
    }
    // Two items in a row: a plan, then a part of it.
    if let Ok(split) = seqprov_format::cbor::item_len(data) {
        let (head, tail) = data.split_at(split);
        if let (Ok(plan), Ok(part)) = (Plan::from_cbor(head), Part::from_cbor(tail)) {
            let _ = plan.check_part(&plan_digest(head), &part);
        }
    }
}

/// Transparency log texts (spec/log.md §1, §6, §7): a checkpoint note opened with a fixed
/// log key and witness key, a `tlog-proof@v1` receipt (and its checkpoint), and vkeys.
///
/// # Panics
/// When a receipt that parses does not print back to a receipt with the same content.
pub fn log_note(data: &[u8]) {
    use seqprov_log::checkpoint;
    use seqprov_log::note_keys::{LogSigner, LogVerifier, WitnessSigner, WitnessVerifier};
    use seqprov_log::proof_text::TlogProof;
    // The keys of spec/vectors/log/checkpoints.json.
    let log = LogSigner {
        origin: "lab.example.org/seqprov".to_string(),
        key: ed25519_dalek::SigningKey::from_bytes(&[0x11; 32]),
    }
    .verifier();
    let witness = WitnessSigner {
        name: "witness.example.org/w1".to_string(),
        key: ed25519_dalek::SigningKey::from_bytes(&[0x22; 32]),
    }
    .verifier();
    let _ = checkpoint::open(data, &log, std::slice::from_ref(&witness));
    let _ = checkpoint::parse_unverified(data);
    if let Ok(proof) = TlogProof::parse(data) {
        let _ = checkpoint::open(&proof.checkpoint, &log, std::slice::from_ref(&witness));
        let again = TlogProof::parse(proof.to_text().as_bytes()).expect("a printed receipt parses");
        assert_eq!(again, proof);
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = LogVerifier::from_vkey(text);
        let _ = WitnessVerifier::from_vkey(text);
    }
}
