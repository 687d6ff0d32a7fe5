//! Property tests of the bundle format: encode/decode round trips of entries, seal
//! payloads and custody event payloads; every single-bit flip of a complete signed bundle
//! (seal, entry list and one custody event) is rejected; parsing never panics on
//! arbitrary bytes, truncations or extensions.

use proptest::prelude::*;
use seqprov::Bundle;
use seqprov::chain;
use seqprov::custody::{
    self, DerivedRef, EVENT_FORMAT, EVENT_VERSION, EventDraft, EventKind, EventPayload,
    ReceiveSummary,
};
use seqprov::format::entry_list;
use seqprov::format::manifest::{
    BrokenFile, Bytes32, DerivedFrom, Entry, EntryKind, FORMAT_VERSION, KeyStorage, ModeClaim,
    SEAL_FORMAT, SealPayload, SignerInfo, Subject, format_time,
};
use seqprov::illumina::fastq::FastqContent;
use seqprov::illumina::run_mode::RunMode;
use seqprov::seal::{SealOptions, sign_entries};
use seqprov::{HashOptions, PrivateKey};

/// `cases` cases; failures are saved beside this file (`properties.proptest-regressions`).
fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: Some(Box::new(
            proptest::test_runner::FileFailurePersistence::WithSource("proptest-regressions"),
        )),
        ..ProptestConfig::default()
    }
}

// ---------------------------------------------------------------------------------------
// Strategies
// ---------------------------------------------------------------------------------------

fn bytes32() -> impl Strategy<Value = Bytes32> {
    any::<[u8; 32]>().prop_map(Bytes32)
}

/// One path component that `entry_path::validate` accepts: non-empty, no `/`, NUL or
/// backslash, not `.` or `..`. Mostly plain names, sometimes any Unicode.
fn component() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "[A-Za-z0-9_.-]{1,8}",
        1 => r"[^/\\\x00]{1,6}",
        1 => Just(".x".to_string()),
        1 => Just("..x".to_string()),
        1 => "[a-z]{20,300}",
    ]
    .prop_filter("`.` and `..` are not valid components", |c| {
        c != "." && c != ".."
    })
}

fn entry_path() -> impl Strategy<Value = String> {
    prop::collection::vec(component(), 1..4).prop_map(|parts| parts.join("/"))
}

fn size() -> impl Strategy<Value = u64> {
    prop_oneof![
        Just(0u64),
        Just(u64::MAX),
        Just(u64::MAX - 1),
        0u64..=24,
        0u64..=70_000,
        any::<u64>(),
    ]
}

fn fastq_content() -> impl Strategy<Value = FastqContent> {
    (size(), size(), bytes32()).prop_map(|(reads, bases, digest)| FastqContent {
        reads,
        bases,
        digest,
    })
}

fn entry() -> impl Strategy<Value = Entry> {
    (
        entry_path(),
        0u8..3,
        bytes32(),
        size(),
        bytes32(),
        prop::option::of(bytes32()),
        any::<String>(),
        prop::option::of(fastq_content()),
    )
        .prop_map(
            |(path, kind, salt, size, blake3, sha256, target, content)| {
                let base = Entry::bare(path, EntryKind::Dir, salt);
                match kind {
                    0 => Entry {
                        kind: EntryKind::File,
                        size: Some(size),
                        blake3: Some(blake3),
                        sha256,
                        content: content.map(Box::new),
                        ..base
                    },
                    1 => Entry {
                        kind: EntryKind::Symlink,
                        target: Some(target),
                        ..base
                    },
                    _ => base,
                }
            },
        )
}

/// Valid entry lists: sorted by path bytes, no path twice.
fn entries() -> impl Strategy<Value = Vec<Entry>> {
    prop::collection::vec(entry(), 0..40).prop_map(|mut entries| {
        entries.sort_by(|a, b| a.path.as_bytes().cmp(b.path.as_bytes()));
        entries.dedup_by(|a, b| a.path == b.path);
        entries
    })
}

/// Any time between 1970 and 9999, whole seconds, in the payload form.
fn payload_time() -> impl Strategy<Value = String> {
    (0i64..=253_402_300_799)
        .prop_map(|t| format_time(time::OffsetDateTime::from_unix_timestamp(t).expect("in range")))
}

fn signer() -> impl Strategy<Value = SignerInfo> {
    (
        any::<String>(),
        any::<String>(),
        any::<String>(),
        bytes32(),
        prop_oneof![
            Just(None),
            Just(Some(KeyStorage::File)),
            Just(Some(KeyStorage::Pkcs11)),
            Just(Some(KeyStorage::SshAgent)),
        ],
    )
        .prop_map(
            |(name, role, meaning, public_key, key_storage)| SignerInfo {
                name,
                role,
                meaning,
                public_key,
                key_storage,
            },
        )
}

fn derived_from() -> impl Strategy<Value = DerivedFrom> {
    (
        bytes32(),
        bytes32(),
        any::<String>(),
        any::<String>(),
        prop::option::of(bytes32()),
    )
        .prop_map(|(seal, root, subject, step, sample_sheet)| DerivedFrom {
            seal,
            root,
            subject,
            step,
            sample_sheet,
        })
}

/// A payload as the library makes it (every field this test does not know about keeps
/// the value `sign_entries` gives it), to be overwritten field by field.
fn base_payload() -> SealPayload {
    let key = PrivateKey::from_seed(&[9; 32], None);
    sign_entries(Vec::new(), "base", &key, &SealOptions::default())
        .unwrap()
        .payload
}

fn mode_claim() -> impl Strategy<Value = ModeClaim> {
    (
        any::<bool>(),
        prop::option::of(any::<String>()),
        prop_oneof![Just("agrees"), Just("disagrees"), Just("unknown")],
        prop::option::of(any::<String>()),
    )
        .prop_map(|(clinical, software, corroboration, detail)| ModeClaim {
            claim: if clinical {
                RunMode::Clinical
            } else {
                RunMode::Ruo
            },
            software,
            corroboration: corroboration.into(),
            detail,
        })
}

/// Exclude patterns: the payload only accepts globs that compile.
fn exclude_patterns() -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec(
        prop_oneof![
            Just("**/._*".to_string()),
            Just(".DS_Store".to_string()),
            Just("Thumbnail_Images".to_string()),
            Just("Logs/**".to_string()),
            "[a-z]{1,8}".prop_map(|s| format!("{s}/*.tmp")),
        ],
        0..4,
    )
}

fn strings() -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec(any::<String>(), 0..4)
}

fn seal_payload() -> impl Strategy<Value = SealPayload> {
    (
        (any::<String>(), payload_time(), signer(), any::<String>()),
        (size(), size(), size()),
        any::<bool>(),
        bytes32(),
        prop::option::of(derived_from()),
        prop::option::of(mode_claim()),
        (
            strings(),
            prop::collection::vec((any::<String>(), any::<String>()), 0..3),
            exclude_patterns(),
        ),
    )
        .prop_map(
            |(
                (tool, time, signer, subject),
                (entries, files, bytes),
                sha,
                root,
                derived,
                mode,
                (incomplete, broken, exclude),
            )| {
                let mut p = base_payload();
                p.format = SEAL_FORMAT.into();
                p.version = FORMAT_VERSION;
                p.tool = tool;
                p.time = time;
                p.signer = signer;
                p.subject = Subject {
                    name: subject,
                    kind: "directory".into(),
                };
                p.entries = entries;
                p.files = files;
                p.bytes = bytes;
                p.digests = if sha {
                    vec!["blake3".into(), "sha256".into()]
                } else {
                    vec!["blake3".into()]
                };
                p.root = root;
                p.derived_from = derived;
                p.mode = mode;
                p.incomplete = incomplete;
                p.broken = broken
                    .into_iter()
                    .map(|(path, reason)| BrokenFile { path, reason })
                    .collect();
                p.exclude = exclude;
                p
            },
        )
}

fn event_kind() -> impl Strategy<Value = EventKind> {
    prop_oneof![
        Just(EventKind::Transfer),
        Just(EventKind::Receive),
        Just(EventKind::Attest),
        Just(EventKind::Derive),
    ]
}

fn event_payload() -> impl Strategy<Value = EventPayload> {
    (
        (event_kind(), 1u64..=u64::MAX, bytes32(), bytes32()),
        (payload_time(), signer()),
        (
            prop::option::of(any::<String>()),
            prop::option::of(any::<String>()),
            prop::option::of(any::<String>()),
        ),
        (size(), size(), size(), bytes32()),
        (bytes32(), bytes32(), any::<String>()),
    )
        .prop_map(
            |(
                (kind, seq, prev, root),
                (time, signer),
                (host, to, note),
                (ok, files, bytes, verified_root),
                (derived_seal, derived_root, derived_subject),
            )| EventPayload {
                format: EVENT_FORMAT.into(),
                version: EVENT_VERSION,
                kind,
                seq,
                prev,
                root,
                time,
                signer,
                host,
                to,
                note,
                verification: (kind == EventKind::Receive).then_some(ReceiveSummary {
                    ok,
                    files,
                    bytes,
                    root: verified_root,
                }),
                derived: (kind == EventKind::Derive).then_some(DerivedRef {
                    seal: derived_seal,
                    root: derived_root,
                    subject: derived_subject,
                }),
            },
        )
}

// ---------------------------------------------------------------------------------------
// (a), (b): round trips
// ---------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(config(512))]

    #[test]
    fn entry_list_encode_then_decode_is_identity(entries in entries(), tail in prop::collection::vec(any::<u8>(), 0..8)) {
        for e in &entries {
            prop_assert_eq!(e.validate(), Ok(()), "the strategy makes valid entries");
        }
        let encoded: Vec<Vec<u8>> = entries.iter().map(Entry::to_cbor).collect();
        let list = entry_list::encode(&encoded);
        let mut bytes = list.clone();
        bytes.extend_from_slice(&tail);
        let decoded = entry_list::decode(&bytes).expect("a valid entry list decodes");
        prop_assert_eq!(&decoded.entries, &entries);
        let leaves: Vec<[u8; 32]> = encoded.iter().map(|e| seqprov::format::merkle::leaf_hash(e)).collect();
        prop_assert_eq!(&decoded.leaves, &leaves);
        prop_assert_eq!(decoded.len, list.len());
    }

    #[test]
    fn seal_payload_round_trips(payload in seal_payload()) {
        prop_assert_eq!(payload.validate(), Ok(()));
        let bytes = payload.to_cbor();
        let back = SealPayload::from_cbor(&bytes).expect("a valid payload decodes");
        prop_assert_eq!(&back, &payload);
        prop_assert_eq!(back.to_cbor(), bytes);
    }

    #[test]
    fn event_payload_round_trips(payload in event_payload()) {
        prop_assert_eq!(payload.validate(), Ok(()));
        let bytes = payload.to_cbor();
        let back = EventPayload::from_cbor(&bytes).expect("a valid event payload decodes");
        prop_assert_eq!(&back, &payload);
        prop_assert_eq!(back.to_cbor(), bytes);
    }
}

// ---------------------------------------------------------------------------------------
// (c): every single-bit flip of a complete bundle is rejected
// ---------------------------------------------------------------------------------------

const SIGNER_SEED: [u8; 32] = [0x42; 32];
const COURIER_SEED: [u8; 32] = [0x43; 32];

fn fixed_time(text: &str) -> time::OffsetDateTime {
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).unwrap()
}

/// A small bundle with all three item kinds: a seal over a file, a symlink and an empty
/// directory entry (the file with both digests and a FASTQ content identity), then one
/// signed transfer event.
/// Returns the bytes and where the entry list and the event start.
fn small_bundle() -> (Vec<u8>, usize, usize) {
    let entries = vec![
        Entry {
            path: "Logs".into(),
            kind: EntryKind::Dir,
            salt: Bytes32([1; 32]),
            size: None,
            blake3: None,
            sha256: None,
            target: None,
            content: None,
        },
        Entry {
            path: "RunInfo.link".into(),
            kind: EntryKind::Symlink,
            salt: Bytes32([2; 32]),
            size: None,
            blake3: None,
            sha256: None,
            target: Some("RunInfo.xml".into()),
            content: None,
        },
        Entry {
            path: "RunInfo.xml".into(),
            kind: EntryKind::File,
            salt: Bytes32([3; 32]),
            size: Some(300),
            blake3: Some(Bytes32([4; 32])),
            sha256: Some(Bytes32([5; 32])),
            target: None,
            content: Some(Box::new(FastqContent {
                reads: 2,
                bases: 300,
                digest: Bytes32([6; 32]),
            })),
        },
    ];
    let key = PrivateKey::from_seed(&SIGNER_SEED, Some("Core".into()));
    let options = SealOptions {
        time: Some(fixed_time("2026-01-02T03:04:05Z")),
        hash: HashOptions {
            sha256: true,
            ..Default::default()
        },
        ..Default::default()
    };
    let sealed = sign_entries(entries, "run", &key, &options).unwrap();
    let bundle = Bundle::parse(&sealed.bundle).expect("the untouched bundle parses");
    let courier = PrivateKey::from_seed(&COURIER_SEED, Some("Courier".into()));
    let draft = EventDraft {
        kind: EventKind::Transfer,
        signer_name: None,
        role: "courier".into(),
        meaning: "responsibility".into(),
        host: Some("van".into()),
        to: Some("lab".into()),
        note: None,
        verification: None,
        derived: None,
        time: Some(fixed_time("2026-01-02T04:00:00Z")),
    };
    let (_, raw) = custody::sign_next_event(&bundle, &courier, &draft).unwrap();
    let list_at = bundle.seal.raw.len();
    let event_at = sealed.bundle.len();
    let mut bytes = sealed.bundle;
    bytes.extend_from_slice(&raw);
    (bytes, list_at, event_at)
}

/// Why a bundle is rejected, or `None` if every check passes.
fn rejection(bytes: &[u8]) -> Option<&'static str> {
    let bundle = match Bundle::parse(bytes) {
        Err(_) => return Some("parse"),
        Ok(bundle) => bundle,
    };
    if seqprov::integrity::check_seal_signature(&bundle).is_err() {
        return Some("seal signature");
    }
    if !bundle.root_matches() {
        return Some("root");
    }
    if !chain::check(&bundle).integrity_problems().is_empty() {
        return Some("custody chain");
    }
    None
}

#[test]
fn the_small_bundle_is_accepted_whole() {
    let (bytes, _, _) = small_bundle();
    assert_eq!(rejection(&bytes), None);
    let bundle = Bundle::parse(&bytes).unwrap();
    assert_eq!(bundle.entries.len(), 3);
    assert_eq!(bundle.events.len(), 1);
}

/// Exhaustive: every bit of every byte (a few thousand flips; about a second or two).
#[test]
fn every_single_bit_flip_is_rejected() {
    let (bytes, list_at, event_at) = small_bundle();
    let mut tally = std::collections::BTreeMap::<(&str, &str), usize>::new();
    let mut accepted = Vec::new();
    let mut flipped = bytes.clone();
    for at in 0..bytes.len() {
        let region = if at < list_at {
            "seal"
        } else if at < event_at {
            "entry list"
        } else {
            "custody event"
        };
        for bit in 0..8 {
            flipped[at] ^= 1 << bit;
            match rejection(&flipped) {
                Some(why) => *tally.entry((region, why)).or_default() += 1,
                None => accepted.push(format!("byte {at} ({region}) bit {bit}")),
            }
            flipped[at] ^= 1 << bit;
        }
    }
    println!(
        "{} bytes, {} flips: {tally:#?}",
        bytes.len(),
        bytes.len() * 8
    );
    assert!(
        accepted.is_empty(),
        "flips accepted as a valid bundle: {accepted:?}"
    );
    assert_eq!(
        tally.values().sum::<usize>(),
        bytes.len() * 8,
        "every flip was tried"
    );
}

/// Every truncation either fails to parse or, cut exactly at the end of the entry list,
/// is the bundle as it was before the event was appended (which is by design).
#[test]
fn every_truncation_is_rejected_except_at_the_append_boundary() {
    let (bytes, _, event_at) = small_bundle();
    for cut in 0..bytes.len() {
        match Bundle::parse(&bytes[..cut]) {
            Err(e) => assert_eq!(
                seqprov::Error::from(e.clone()).exit_status().code(),
                1,
                "cut {cut}: {e}"
            ),
            Ok(bundle) => {
                assert_eq!(cut, event_at, "cut {cut} parsed");
                assert!(bundle.events.is_empty());
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// (c) sampled with several bytes changed, and (d): no panics
// ---------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn arbitrary_byte_substitutions_are_rejected(
        changes in prop::collection::vec((any::<prop::sample::Index>(), 1u8..=255), 1..5)
    ) {
        let (bytes, _, _) = small_bundle();
        let mut changed = bytes.clone();
        for (index, xor) in &changes {
            changed[index.index(bytes.len())] ^= xor;
        }
        if changed != bytes {
            prop_assert!(rejection(&changed).is_some());
        }
    }

    #[test]
    fn parse_never_panics_on_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..4096)) {
        let _ = Bundle::parse(&bytes);
    }

    #[test]
    fn parse_never_panics_on_cbor_shaped_bytes(
        head in prop_oneof![Just(vec![0xd2u8, 0x84]), Just(vec![0xd2u8]), Just(vec![0x84u8])],
        bytes in prop::collection::vec(any::<u8>(), 0..512),
    ) {
        let mut input = head;
        input.extend(bytes);
        let _ = Bundle::parse(&input);
    }

    #[test]
    fn truncations_and_extensions_never_panic(
        cut in any::<prop::sample::Index>(),
        tail in prop::collection::vec(any::<u8>(), 1..256),
    ) {
        let (bytes, _, _) = small_bundle();
        let cut = cut.index(bytes.len() + 1);
        let _ = Bundle::parse(&bytes[..cut]);
        let mut extended = bytes.clone();
        extended.extend_from_slice(&tail);
        // A random tail is never a whole, canonical, tagged COSE_Sign1: it is garbage.
        let err = Bundle::parse(&extended).expect_err("garbage after the last event");
        prop_assert_eq!(seqprov::Error::from(err).exit_status().code(), 1);
        let mut cut_then_extended = bytes[..cut].to_vec();
        cut_then_extended.extend_from_slice(&tail);
        let _ = Bundle::parse(&cut_then_extended);
    }
}

// ---------------------------------------------------------------------------------------
// (e) the compact entry table (issue 12 item 7) returns what went in, read whole or streamed
// ---------------------------------------------------------------------------------------

/// A reader that hands out at most `chunk` bytes per read, as a pipe or a slow disk may.
struct Chunked<'a> {
    bytes: &'a [u8],
    chunk: usize,
}

impl std::io::Read for Chunked<'_> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let n = self.chunk.min(out.len()).min(self.bytes.len());
        out[..n].copy_from_slice(&self.bytes[..n]);
        self.bytes = &self.bytes[n..];
        Ok(n)
    }
}

proptest! {
    #![proptest_config(config(256))]

    /// Every accessor of every entry returns that entry's field, whatever its neighbours
    /// hold: an empty link target is a target, a size of 0 a size, an entry with SHA-256
    /// or content but not the other keeps exactly what it has.
    #[test]
    fn the_entry_table_returns_every_field_as_it_went_in(entries in entries()) {
        use seqprov::format::entry_table::EntryTable;
        let table = EntryTable::try_from(entries.as_slice()).unwrap();
        prop_assert_eq!(table.len(), entries.len());
        prop_assert_eq!(table.to_entries(), entries.clone());
        for (i, entry) in entries.iter().enumerate() {
            let got = table.get(i).unwrap();
            prop_assert_eq!(got.path(), entry.path.as_str());
            prop_assert_eq!(got.kind(), entry.kind);
            prop_assert_eq!(*got.salt(), entry.salt);
            prop_assert_eq!(got.size(), entry.size);
            prop_assert_eq!(got.blake3(), entry.blake3);
            prop_assert_eq!(got.sha256(), entry.sha256);
            prop_assert_eq!(got.target(), entry.target.as_deref());
            prop_assert_eq!(got.content(), entry.content.as_deref());
            for (j, other) in entries.iter().enumerate() {
                prop_assert_eq!(got == table.get(j).unwrap(), entry == other);
            }
        }
        prop_assert!(table.get(entries.len()).is_none());
        let backwards: Vec<Entry> = table.iter().rev().map(|e| e.to_entry()).collect();
        prop_assert!(backwards.iter().eq(entries.iter().rev()));
    }

    /// A bundle signed over any valid entries reads back exactly those entries, the same
    /// whether parsed from bytes or read from a stream that hands out a few bytes at a time.
    #[test]
    fn a_signed_bundle_reads_back_its_entries_parsed_or_streamed(
        entries in entries(),
        sha256 in any::<bool>(),
        chunk in 1usize..200,
    ) {
        let entries: Vec<Entry> = entries
            .into_iter()
            .map(|mut e| {
                if e.kind == EntryKind::File {
                    e.sha256 = if sha256 { Some(e.sha256.unwrap_or(Bytes32([7; 32]))) } else { None };
                }
                e
            })
            .collect();
        prop_assume!(entries.iter().filter_map(|e| e.size).try_fold(0u64, u64::checked_add).is_some());
        prop_assume!(seqprov::format::entry_path::normalisation_collision(
            entries.iter().map(|e| e.path.as_str())
        )
        .is_none());
        let key = PrivateKey::from_seed(&SIGNER_SEED, Some("Core".into()));
        let options = SealOptions {
            time: Some(fixed_time("2026-01-02T03:04:05Z")),
            hash: HashOptions { sha256, ..Default::default() },
            ..Default::default()
        };
        let bytes = sign_entries(entries.clone(), "run", &key, &options).unwrap().bundle;
        let parsed = Bundle::parse(&bytes).expect("a signed bundle of valid entries parses");
        prop_assert_eq!(parsed.entries.to_entries(), entries.clone());
        prop_assert!(parsed.root_matches());
        prop_assert!(seqprov::integrity::check_seal_signature(&parsed).is_ok());
        let streamed = Bundle::read_from(Chunked { bytes: &bytes, chunk }, 0, |_, _| true)
            .expect("the same bundle streams");
        prop_assert_eq!(&streamed.entries, &parsed.entries);
        prop_assert_eq!(streamed.root_evidence, parsed.root_evidence);
    }
}
