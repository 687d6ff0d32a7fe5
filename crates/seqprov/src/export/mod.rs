//! Exports for other tools (see `spec/export.md`): an in-toto Statement v1 about a seal,
//! wrapped in a DSSE envelope signed with an Ed25519 key, and a FHIR R4 `Provenance`
//! resource that carries the seal's own COSE_Sign1.
//!
//! Nothing here re-signs or re-encodes what the seal or a custody event signed: both
//! exports carry the exact message bytes (base64), so a consumer can check them again
//! with any COSE implementation. [`judge`] judges a bundle (or proof) for export as
//! `verify` does — integrity, trust, policy and, given a directory, the files;
//! [`check_exportable`] is the integrity-only check of an export made without a trust
//! check, which [`ExportChecks`] records in the export itself.
//!
//! The builders take an [`ExportSource`] — the seal, the chosen entries and the custody
//! events — so that a subset of entries (an inclusion proof's files) can be exported the
//! same way as a whole bundle.

use std::path::Path;

use base64ct::{Base64, Encoding};
use seqprov_engine::Progress;
use serde_json::{Value, json};

use crate::bundle_checks::{VerifyOptions, check_bundle};
use crate::error::{Error, Result};
use crate::policy::Policy;
use crate::report::Report;
use crate::verdict::{Allowed, finish, report_for};
use seqprov_format::Bundle;
use seqprov_format::cose::SignedMessage;
use seqprov_format::entry_table::EntryRef;
use seqprov_format::event::EventPayload;
use seqprov_format::manifest::SealPayload;

mod fhir;
mod in_toto;

pub use fhir::{fhir_json_pretty, fhir_provenance, provenance_for};
pub use in_toto::{dir_hash, dsse_envelope, in_toto_statement, pae, statement_for};

/// `_type` of an in-toto Statement v1.
pub const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v1";
/// The predicate type of a seqprov seal statement: a name, not a fetchable document.
pub const PREDICATE_TYPE: &str = "https://seqprov.dev/provenance/seal/v1";
/// DSSE payload type of an in-toto statement.
pub const DSSE_PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";
/// DigestSet key of the seal's Merkle root (BLAKE3 tree of `spec/bundle.md` §9).
pub const MERKLE_DIGEST_KEY: &str = "seqprov-merkle-blake3";
/// DigestSet key of the in-toto `dirHash` (Go dirhash Hash1 over SHA-256, in hex).
pub const DIRHASH_DIGEST_KEY: &str = "dirHash";

/// `Signature.sigFormat` of a COSE message (RFC 9052 media type).
pub const COSE_SIG_FORMAT: &str = "application/cose";
/// Code system of `Signature.type` (ASTM E1762-95).
pub const SIGNATURE_TYPE_SYSTEM: &str = "urn:iso-astm:E1762-95:2013";
/// ASTM E1762 code of the FHIR signature that carries an RFC 3161 token.
pub const TIMESTAMP_SIGNATURE_CODE: &str = "1.2.840.10065.1.12.1.18";
/// `sigFormat` of a carried RFC 3161 token: a CMS SignedData.
pub const TIMESTAMP_SIG_FORMAT: &str = "application/pkcs7-mime";
/// Code system of `Provenance.agent.type`.
pub const PARTICIPANT_TYPE_SYSTEM: &str =
    "http://terminology.hl7.org/CodeSystem/provenance-participant-type";
/// Identifier system of a seal's Merkle root (lower-case hex).
pub const ROOT_ID_SYSTEM: &str = "urn:seqprov:merkle-root";
/// Identifier system of a file's BLAKE3 digest (lower-case hex).
pub const BLAKE3_ID_SYSTEM: &str = "urn:seqprov:blake3";
/// Identifier system of a file's SHA-256 digest (lower-case hex).
pub const SHA256_ID_SYSTEM: &str = "urn:seqprov:sha256";
/// Identifier system of a signer's key id (SHA-256 of the SPKI DER, lower-case hex).
pub const KEY_ID_SYSTEM: &str = "urn:seqprov:key-id";

/// A custody event as exported: its exact message and its decoded payload.
#[derive(Clone, Debug)]
pub struct ExportedEvent<'a> {
    /// The event message, exactly as in the bundle.
    pub message: &'a SignedMessage,
    /// Its decoded payload.
    pub payload: EventPayload,
}

/// An RFC 3161 token as exported (spec/timestamps.md, spec/export.md): the message it
/// covers, what it states, and its exact DER bytes.
#[derive(Clone, Debug)]
pub struct ExportedToken<'a> {
    /// The covered message: 0 for the seal, `i` for custody event `i`.
    pub covers: u64,
    /// The token's `genTime` (RFC 3339).
    pub gen_time: String,
    /// The TSA's name as the token states it.
    pub tsa: String,
    /// The content type of the covered message.
    pub target_format: &'a str,
    /// The DER `TimeStampToken`, exactly as in the bundle.
    pub token: &'a [u8],
}

/// What an export describes: the seal, the chosen entries and the custody events.
#[derive(Clone, Debug)]
pub struct ExportSource<'a> {
    /// The seal message, exactly as in the bundle.
    pub seal: &'a SignedMessage,
    /// Its decoded payload.
    pub payload: &'a SealPayload,
    /// The entries to describe, in entry-list order: all of them, or a proof's subset.
    pub entries: Vec<EntryRef<'a>>,
    /// The custody events, in chain order.
    pub events: Vec<ExportedEvent<'a>>,
    /// The timestamp tokens that belong to their messages, in bundle order (a proof has
    /// none).
    pub timestamps: Vec<ExportedToken<'a>>,
}

impl<'a> ExportSource<'a> {
    /// Every entry and every custody event of a bundle.
    pub fn whole_bundle(bundle: &'a Bundle) -> ExportSource<'a> {
        let entries: Vec<EntryRef<'a>> = bundle.entries.iter().collect();
        ExportSource::with_entries(bundle, &entries)
    }

    /// The chosen entries of a bundle with its seal and custody events. Events whose
    /// payload does not decode are left out ([`check_exportable`] refuses such bundles).
    pub fn with_entries(bundle: &'a Bundle, entries: &[EntryRef<'a>]) -> ExportSource<'a> {
        let events = bundle
            .events
            .iter()
            .filter_map(|message| {
                EventPayload::from_cbor(message.payload())
                    .ok()
                    .map(|payload| ExportedEvent { message, payload })
            })
            .collect();
        let timestamps = bundle
            .timestamps
            .iter()
            .filter_map(|record| {
                let message = match record.covers {
                    0 => &bundle.seal,
                    i => bundle.events.get(usize::try_from(i - 1).ok()?)?,
                };
                let imprint = crate::timestamp_token::message_imprint(&message.raw);
                let checked = crate::timestamp_token::check_token(&record.token, &imprint).ok()?;
                Some(ExportedToken {
                    covers: record.covers,
                    gen_time: checked.gen_time_text(),
                    tsa: checked.tsa_name,
                    target_format: &message.content_type,
                    token: &record.token,
                })
            })
            .collect();
        ExportSource {
            seal: &bundle.seal,
            payload: &bundle.payload,
            entries: entries.to_vec(),
            events,
            timestamps,
        }
    }

    /// True when the source describes every entry the seal covers.
    fn is_complete(&self) -> bool {
        self.entries.len() as u64 == self.payload.entries
    }
}

/// URL of the FHIR extension that says whether trust was judged before the export.
pub const TRUST_CHECKED_EXTENSION: &str =
    "https://seqprov.dev/fhir/StructureDefinition/trust-checked";
/// URL of the FHIR extension that says whether the files were verified before the export.
pub const FILES_VERIFIED_EXTENSION: &str =
    "https://seqprov.dev/fhir/StructureDefinition/files-verified";

/// What was checked before an export, recorded in the export (`spec/export.md` §2.3,
/// §4.1): the in-toto predicate's `trustChecked` and `filesVerified`, the FHIR
/// Provenance's extensions [`TRUST_CHECKED_EXTENSION`] and [`FILES_VERIFIED_EXTENSION`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExportChecks {
    /// The seal's and every event's signer were judged under a policy and trusted.
    pub trust_checked: bool,
    /// A directory was verified against the bundle, every file identical.
    pub files_verified: bool,
}

impl ExportChecks {
    /// Record the checks in an in-toto statement's predicate.
    pub fn record_in_statement(&self, statement: &mut Value) {
        if let Some(predicate) = statement
            .get_mut("predicate")
            .and_then(Value::as_object_mut)
        {
            predicate.insert("trustChecked".into(), self.trust_checked.into());
            predicate.insert("filesVerified".into(), self.files_verified.into());
        }
    }

    /// Record the checks as extensions of a FHIR Provenance.
    pub fn record_in_provenance(&self, resource: &mut Value) {
        if let Some(resource) = resource.as_object_mut() {
            resource.insert(
                "extension".into(),
                json!([
                    { "url": TRUST_CHECKED_EXTENSION, "valueBoolean": self.trust_checked },
                    { "url": FILES_VERIFIED_EXTENSION, "valueBoolean": self.files_verified },
                ]),
            );
        }
    }
}

/// Judge a bundle (or a proof) for export as `seqprov verify` judges it under `policy`:
/// the seal's signature, the root, the custody chain, every signer's trust and every
/// policy rule, and, with `dir`, every file of the directory. The export may be made only
/// when the report's verdict is `verified`.
pub fn judge(
    bundle: &Bundle,
    policy: &Policy,
    dir: Option<&Path>,
    progress: &dyn Progress,
) -> Result<Report> {
    match dir {
        Some(dir) => {
            crate::verify::verify_directory(dir, bundle, policy, VerifyOptions::default(), progress)
        }
        None => {
            let checks = check_bundle(bundle, policy, &VerifyOptions::default());
            Ok(finish(
                report_for(bundle, checks, policy),
                Allowed::default(),
            ))
        }
    }
}

/// Refuse to export a bundle whose seal signature, Merkle root or custody chain does not
/// hold (an integrity failure, exit 1). Trust is not judged (an export made so says it:
/// [`ExportChecks`]).
pub fn check_exportable(bundle: &Bundle) -> Result<()> {
    crate::integrity::check_integrity(bundle).map_err(Error::Integrity)?;
    Ok(())
}

pub(super) fn base64(bytes: &[u8]) -> String {
    Base64::encode_string(bytes)
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};
    use sha2::{Digest, Sha256};

    use seqprov_format::event::EventKind;
    use seqprov_format::manifest::{Entry, EntryKind, SEAL_CONTENT_TYPE};

    use super::fhir::{fhir_string, reference, signature_type};
    use super::*;
    use crate::keys::PrivateKey;

    use crate::custody::{EventDraft, sign_next_event};
    use crate::keys::PublicKey;
    use crate::seal::{SealOptions, sign_entries};
    use seqprov_format::manifest::Bytes32;

    fn file(path: &str, fill: u8, sha256: bool) -> Entry {
        Entry {
            path: path.into(),
            kind: EntryKind::File,
            salt: Bytes32([fill; 32]),
            size: Some(u64::from(fill)),
            blake3: Some(Bytes32([fill.wrapping_add(1); 32])),
            sha256: sha256.then_some(Bytes32([fill.wrapping_add(2); 32])),
            target: None,
            content: None,
        }
    }

    fn bundle_bytes(sha256: bool, key: &PrivateKey) -> Vec<u8> {
        let entries = vec![
            file("a b/ü.fastq", 3, sha256),
            Entry {
                path: "link".into(),
                kind: EntryKind::Symlink,
                salt: Bytes32([7; 32]),
                size: None,
                blake3: None,
                sha256: None,
                target: Some("z.txt".into()),
                content: None,
            },
            file("z.txt", 5, sha256),
        ];
        let options = SealOptions {
            hash: crate::HashOptions {
                sha256,
                ..Default::default()
            },
            ..Default::default()
        };
        sign_entries(entries, "run-1", key, &options)
            .unwrap()
            .bundle
    }

    fn with_event(bytes: Vec<u8>, key: &PrivateKey, kind: EventKind, meaning: &str) -> Vec<u8> {
        let bundle = Bundle::parse(&bytes).unwrap();
        let draft = EventDraft {
            kind,
            signer_name: Some("Carol Courier".into()),
            role: "courier".into(),
            meaning: meaning.into(),
            host: None,
            to: Some("LIS".into()),
            note: None,
            verification: None,
            derived: None,
            time: None,
        };
        let (_, raw) = sign_next_event(&bundle, key, &draft).unwrap();
        let mut out = bytes;
        out.extend_from_slice(&raw);
        out
    }

    #[test]
    fn pae_matches_the_hand_computed_example() {
        // By hand: "DSSEv1" SP "28" SP type SP "11" SP "hello world".
        let expected: &[u8] = b"DSSEv1 28 application/vnd.in-toto+json 11 hello world";
        assert_eq!(pae(DSSE_PAYLOAD_TYPE, b"hello world"), expected);
        // The example of the DSSE specification (protocol.md).
        assert_eq!(
            pae("http://example.com/HelloWorld", b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
        );
        assert_eq!(pae("", b""), b"DSSEv1 0  0 ");
        // Lengths are bytes, not characters.
        assert_eq!(pae("t", "ü".as_bytes()), "DSSEv1 1 t 2 ü".as_bytes());
    }

    #[test]
    fn envelope_signature_verifies_strictly_over_the_pae() {
        let key = PrivateKey::from_seed(&[0x42; 32], None);
        let statement = br#"{"_type":"https://in-toto.io/Statement/v1"}"#;
        let envelope = dsse_envelope(statement, &key).unwrap();
        assert_eq!(envelope["payloadType"], DSSE_PAYLOAD_TYPE);
        let payload = Base64::decode_vec(envelope["payload"].as_str().unwrap()).unwrap();
        assert_eq!(payload, statement);
        let signatures = envelope["signatures"].as_array().unwrap();
        assert_eq!(signatures.len(), 1);
        assert_eq!(signatures[0]["keyid"], key.public().id().to_hex());
        let sig = Base64::decode_vec(signatures[0]["sig"].as_str().unwrap()).unwrap();
        let public: PublicKey = key.public();
        assert!(
            public
                .verify_strict(&pae(DSSE_PAYLOAD_TYPE, statement), &sig)
                .is_ok()
        );
        // Not over the bare payload, and not with another payload type.
        assert!(public.verify_strict(statement, &sig).is_err());
        assert!(
            public
                .verify_strict(&pae("application/json", statement), &sig)
                .is_err()
        );
    }

    #[test]
    fn statement_has_one_subject_with_root_and_dirhash_and_every_entry() {
        let key = PrivateKey::from_seed(&[1; 32], Some("Sam Sealer".into()));
        let bundle = Bundle::parse(&bundle_bytes(true, &key)).unwrap();
        let s = in_toto_statement(&bundle);
        assert_eq!(s["_type"], STATEMENT_TYPE);
        assert_eq!(s["predicateType"], PREDICATE_TYPE);
        let subjects = s["subject"].as_array().unwrap();
        assert_eq!(subjects.len(), 1);
        assert_eq!(subjects[0]["name"], "run-1");
        let digest = subjects[0]["digest"].as_object().unwrap();
        assert_eq!(
            digest[MERKLE_DIGEST_KEY],
            hex::encode(bundle.payload.root.0)
        );
        // dirHash by hand: the files in path-byte order, `sha256sum` lines, SHA-256.
        let lines = format!(
            "{}  a b/ü.fastq\n{}  z.txt\n",
            hex::encode([5u8; 32]),
            hex::encode([7u8; 32])
        );
        assert_eq!(
            digest[DIRHASH_DIGEST_KEY],
            hex::encode(Sha256::digest(lines.as_bytes()))
        );
        assert_eq!(digest.len(), 2);

        let seal = &s["predicate"]["seal"];
        assert_eq!(seal["format"], "seqprov.seal");
        assert_eq!(seal["signer"]["name"], "Sam Sealer");
        assert_eq!(seal["key_id"], key.public().id().to_hex());
        assert_eq!(seal["root"], hex::encode(bundle.payload.root.0));
        assert_eq!(seal["digests"], json!(["blake3", "sha256"]));
        assert_eq!(
            Base64::decode_vec(seal["cose_sign1"].as_str().unwrap()).unwrap(),
            bundle.seal.raw
        );
        let entries = s["predicate"]["entries"].as_array().unwrap();
        assert_eq!(entries.len(), 3);
        assert_eq!(
            entries[0],
            json!({"path": "a b/ü.fastq", "kind": "file", "size": 3,
                   "blake3": hex::encode([4u8; 32]), "sha256": hex::encode([5u8; 32])})
        );
        assert_eq!(
            entries[1],
            json!({"path": "link", "kind": "symlink", "target": "z.txt"})
        );
        assert_eq!(s["predicate"]["custody"], json!([]));
    }

    #[test]
    fn without_sha256_the_subject_has_only_the_root() {
        let key = PrivateKey::from_seed(&[1; 32], None);
        let bundle = Bundle::parse(&bundle_bytes(false, &key)).unwrap();
        let s = in_toto_statement(&bundle);
        let digest = s["subject"][0]["digest"].as_object().unwrap();
        assert_eq!(digest.len(), 1);
        assert!(digest.contains_key(MERKLE_DIGEST_KEY));
        assert!(s["predicate"]["entries"][0].get("sha256").is_none());
    }

    #[test]
    fn dir_hash_is_absent_for_a_newline_in_a_file_name() {
        let a = file("ok", 1, true);
        let b = file("new\nline", 2, true);
        let table = seqprov_format::entry_table::EntryTable::try_from([a, b].as_slice()).unwrap();
        let (a, b) = (table.get(0).unwrap(), table.get(1).unwrap());
        assert!(dir_hash(&[a]).is_some());
        assert!(dir_hash(&[a, b]).is_none());
        // No files at all: SHA-256 of nothing, like `sha256sum` of empty input.
        assert_eq!(
            dir_hash(&[]).unwrap(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn custody_events_are_exported_with_their_exact_bytes() {
        let sealer = PrivateKey::from_seed(&[1; 32], None);
        let courier = PrivateKey::from_seed(&[2; 32], None);
        let bytes = with_event(
            bundle_bytes(true, &sealer),
            &courier,
            EventKind::Transfer,
            "responsibility: handed over custody",
        );
        let bundle = Bundle::parse(&bytes).unwrap();
        check_exportable(&bundle).unwrap();
        let s = in_toto_statement(&bundle);
        let custody = s["predicate"]["custody"].as_array().unwrap();
        assert_eq!(custody.len(), 1);
        assert_eq!(custody[0]["kind"], "transfer");
        assert_eq!(custody[0]["seq"], 1);
        assert_eq!(custody[0]["to"], "LIS");
        assert_eq!(custody[0]["key_id"], courier.public().id().to_hex());
        assert_eq!(
            custody[0]["prev"],
            hex::encode(blake3::hash(&bundle.seal.raw).as_bytes())
        );
        assert_eq!(
            Base64::decode_vec(custody[0]["cose_sign1"].as_str().unwrap()).unwrap(),
            bundle.events[0].raw
        );
    }

    #[test]
    fn broken_bundles_are_not_exportable() {
        let key = PrivateKey::from_seed(&[1; 32], None);
        let good = bundle_bytes(true, &key);
        // A byte of the signed payload changed: the signature fails.
        let mut bad_sig = good.clone();
        let at = bad_sig.windows(5).position(|w| w == b"run-1").unwrap();
        bad_sig[at] = b'R';
        let err = check_exportable(&Bundle::parse(&bad_sig).unwrap()).unwrap_err();
        assert!(err.to_string().contains("signature"), "{err}");
        assert_eq!(err.exit_status().code(), 1);
        // A custody event whose link is broken: its predecessor was removed.
        let courier = PrivateKey::from_seed(&[2; 32], None);
        let one = with_event(good.clone(), &courier, EventKind::Attest, "approval");
        let two = with_event(one.clone(), &courier, EventKind::Attest, "approval");
        let mut spliced = good.clone();
        spliced.extend_from_slice(&two[one.len()..]);
        let err = check_exportable(&Bundle::parse(&spliced).unwrap()).unwrap_err();
        assert!(err.to_string().contains("custody event 1"), "{err}");
    }

    #[test]
    fn provenance_targets_agents_and_signatures() {
        let sealer = PrivateKey::from_seed(&[1; 32], Some("Sam Sealer".into()));
        let courier = PrivateKey::from_seed(&[2; 32], None);
        let bytes = {
            let base = bundle_bytes(true, &sealer);
            let bundle = Bundle::parse(&base).unwrap();
            let draft = EventDraft {
                kind: EventKind::Receive,
                signer_name: Some("Lab".into()),
                role: "receiver".into(),
                meaning: "responsibility: received and verified intact".into(),
                host: None,
                to: None,
                note: None,
                verification: Some(seqprov_format::event::ReceiveSummary {
                    ok: 3,
                    files: 2,
                    bytes: 8,
                    root: bundle.payload.root,
                }),
                derived: None,
                time: None,
            };
            let (_, raw) = sign_next_event(&bundle, &courier, &draft).unwrap();
            let mut out = base;
            out.extend_from_slice(&raw);
            out
        };
        let bundle = Bundle::parse(&bytes).unwrap();
        check_exportable(&bundle).unwrap();
        let all: Vec<EntryRef<'_>> = bundle.entries.iter().collect();
        let p = fhir_provenance(&bundle, &all);
        assert_eq!(p["resourceType"], "Provenance");
        assert_eq!(p["recorded"], bundle.payload.time);
        let targets = p["target"].as_array().unwrap();
        assert_eq!(targets.len(), 1 + 3);
        assert_eq!(
            targets[0],
            json!({"identifier": {"system": ROOT_ID_SYSTEM,
                                  "value": hex::encode(bundle.payload.root.0)},
                   "display": "run-1"})
        );
        assert_eq!(targets[1]["identifier"]["system"], SHA256_ID_SYSTEM);
        assert_eq!(targets[1]["display"], "a b/ü.fastq");
        assert_eq!(targets[2], json!({"display": "link"}));

        let agents = p["agent"].as_array().unwrap();
        assert_eq!(agents.len(), 2);
        assert_eq!(agents[0]["type"]["coding"][0]["code"], "author");
        assert_eq!(agents[0]["role"][0]["text"], "sealer");
        assert_eq!(agents[0]["who"]["display"], "Sam Sealer");
        assert_eq!(
            agents[0]["who"]["identifier"]["value"],
            sealer.public().id().to_hex()
        );
        assert_eq!(agents[1]["type"]["coding"][0]["code"], "verifier");

        let signatures = p["signature"].as_array().unwrap();
        assert_eq!(signatures.len(), 2);
        assert_eq!(signatures[0]["sigFormat"], COSE_SIG_FORMAT);
        assert_eq!(signatures[0]["targetFormat"], SEAL_CONTENT_TYPE);
        assert_eq!(signatures[0]["when"], bundle.payload.time);
        assert_eq!(signatures[0]["type"][0]["code"], "1.2.840.10065.1.12.1.1");
        assert_eq!(
            Base64::decode_vec(signatures[0]["data"].as_str().unwrap()).unwrap(),
            bundle.seal.raw
        );
        assert_eq!(signatures[1]["type"][0]["code"], "1.2.840.10065.1.12.1.5");
        // The carried seal re-checks as it is: parse and verify the exact bytes.
        let carried = seqprov_format::cose::parse(
            &Base64::decode_vec(signatures[0]["data"].as_str().unwrap()).unwrap(),
        )
        .unwrap();
        assert!(carried.verify(sealer.public().verifying_key()).is_ok());
    }

    #[test]
    fn provenance_of_a_subset_names_only_the_chosen_files() {
        let key = PrivateKey::from_seed(&[1; 32], None);
        let bundle = Bundle::parse(&bundle_bytes(false, &key)).unwrap();
        let chosen = vec![bundle.entries.get(2).unwrap()];
        let p = fhir_provenance(&bundle, &chosen);
        let targets = p["target"].as_array().unwrap();
        assert_eq!(targets.len(), 2);
        assert_eq!(targets[1]["display"], "z.txt");
        assert_eq!(targets[1]["identifier"]["system"], BLAKE3_ID_SYSTEM);
        // The subset's statement keeps the root but claims no dirHash.
        let s = statement_for(&ExportSource::with_entries(&bundle, &chosen));
        assert_eq!(s["subject"][0]["digest"].as_object().unwrap().len(), 1);
    }

    #[test]
    fn fhir_json_starts_with_the_resource_type() {
        let key = PrivateKey::from_seed(&[1; 32], None);
        let bundle = Bundle::parse(&bundle_bytes(false, &key)).unwrap();
        let all: Vec<EntryRef<'_>> = bundle.entries.iter().collect();
        let p = fhir_provenance(&bundle, &all);
        let text = fhir_json_pretty(&p);
        assert!(
            text.starts_with("{\n  \"resourceType\": \"Provenance\",\n"),
            "{text}"
        );
        assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), p);
    }

    #[test]
    fn signature_types_follow_the_meaning() {
        assert_eq!(
            signature_type("authorship: sealed", None).0,
            "1.2.840.10065.1.12.1.1"
        );
        assert_eq!(signature_type("Review", None).0, "1.2.840.10065.1.12.1.13");
        assert_eq!(
            signature_type("approval: QC passed", Some(EventKind::Attest)).0,
            "1.2.840.10065.1.12.1.6"
        );
        assert_eq!(
            signature_type("responsibility", Some(EventKind::Receive)).0,
            "1.2.840.10065.1.12.1.5"
        );
        assert_eq!(
            signature_type("responsibility", Some(EventKind::Transfer)).0,
            "1.2.840.10065.1.12.1.1"
        );
    }

    #[test]
    fn fhir_strings_are_never_empty_and_carry_no_control_characters() {
        assert_eq!(fhir_string(""), None);
        assert_eq!(fhir_string("a\tb\nc").unwrap(), "a\tb\nc");
        assert_eq!(fhir_string("a\u{1}b\u{7f}").unwrap(), "a\\x01b\\x7f");
        assert_eq!(fhir_string("a\u{85}b").unwrap(), "a\\u{0085}b");
        assert_eq!(
            reference("s", "v", ""),
            json!({"identifier": {"system": "s", "value": "v"}})
        );
    }
}
