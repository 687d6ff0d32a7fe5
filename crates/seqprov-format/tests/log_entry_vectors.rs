//! Log entry vectors in `spec/vectors/log/entries.json` (spec/log.md §2): valid entries
//! with the fields they decode to, and refused bytes with the error a decoder gives.
//! The file is regenerated from the cases below with
//! `SEQPROV_REGENERATE_VECTORS=1 cargo test -p seqprov-format --test log_entry_vectors`;
//! otherwise it must equal them byte for byte, and every case is checked from the file.

use std::path::PathBuf;

use ciborium::value::Value;
use seqprov_format::cbor;
use seqprov_format::log_entry::{LogEntry, LogEntryKind};
use serde_json::json;

fn vectors_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../spec/vectors/log/entries.json")
}

fn base() -> LogEntry {
    LogEntry {
        kind: LogEntryKind::Seal,
        message: [0x11; 32],
        signer: [0x22; 32],
        seal: [0x33; 32],
        covers: 0,
        run: Some("230101_M00001_0001_000000000-A1B2C".into()),
        flowcell: Some("000000000-A1B2C".into()),
    }
}

fn entry_json(e: &LogEntry) -> serde_json::Value {
    json!({
        "kind": e.kind.name(),
        "message": hex::encode(e.message),
        "signer": hex::encode(e.signer),
        "seal": hex::encode(e.seal),
        "covers": e.covers,
        "run": e.run,
        "flowcell": e.flowcell,
    })
}

/// The map of `entry` with `edit` applied to its pairs, encoded deterministically.
fn edited(entry: &LogEntry, edit: impl FnOnce(&mut Vec<(Value, Value)>)) -> Vec<u8> {
    let Value::Map(mut pairs) = cbor::decode_exact(&entry.encode()).unwrap() else {
        unreachable!()
    };
    edit(&mut pairs);
    cbor::encode(Value::Map(pairs)).unwrap()
}

fn set(pairs: &mut [(Value, Value)], key: &str, value: Value) {
    for (k, v) in pairs.iter_mut() {
        if *k == Value::Text(key.into()) {
            *v = value;
            return;
        }
    }
    panic!("no key {key}");
}

fn generate() -> serde_json::Value {
    let valid: Vec<(&str, LogEntry)> = vec![
        ("seal entry with run and flow cell", base()),
        (
            "custody entry without run metadata",
            LogEntry {
                kind: LogEntryKind::Custody,
                covers: 3,
                run: None,
                flowcell: None,
                ..base()
            },
        ),
        (
            "timestamp entry over the seal",
            LogEntry {
                kind: LogEntryKind::Timestamp,
                flowcell: None,
                ..base()
            },
        ),
        (
            "run of exactly 256 bytes",
            LogEntry {
                run: Some("r".repeat(256)),
                ..base()
            },
        ),
    ];
    let mut refused: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "unknown field",
            edited(&base(), |p| {
                p.push((
                    Value::Text("sample".into()),
                    Value::Text("patient 7".into()),
                ))
            }),
            "unknown field \"sample\"",
        ),
        (
            "run of 257 bytes",
            LogEntry {
                run: Some("r".repeat(257)),
                ..base()
            }
            .encode(),
            "`run` is 257 bytes, more than 256",
        ),
        (
            "flow cell of 257 bytes",
            LogEntry {
                flowcell: Some("f".repeat(257)),
                ..base()
            }
            .encode(),
            "`flowcell` is 257 bytes, more than 256",
        ),
        (
            "kind not known",
            edited(&base(), |p| set(p, "kind", Value::Text("sample".into()))),
            "kind \"sample\" is not one of",
        ),
        (
            "version 2",
            edited(&base(), |p| set(p, "version", Value::Integer(2.into()))),
            "version 2 is not supported",
        ),
        (
            "other format",
            edited(&base(), |p| {
                set(p, "format", Value::Text("seqprov.timestamp".into()))
            }),
            "format is \"seqprov.timestamp\"",
        ),
        (
            "message of 31 bytes",
            edited(&base(), |p| set(p, "message", Value::Bytes(vec![0; 31]))),
            "`message` is 31 bytes, not 32",
        ),
        (
            "seal digest missing",
            edited(&base(), |p| {
                p.retain(|(k, _)| *k != Value::Text("seal".into()))
            }),
            "the field `seal` is missing",
        ),
        (
            "seal entry covering 1",
            LogEntry {
                covers: 1,
                ..base()
            }
            .encode(),
            "a seal entry covers 0, not 1",
        ),
        (
            "custody entry covering 0",
            LogEntry {
                kind: LogEntryKind::Custody,
                ..base()
            }
            .encode(),
            "a custody entry covers an event",
        ),
        (
            "negative covers",
            edited(&base(), |p| set(p, "covers", Value::Integer((-1).into()))),
            "`covers` is not an unsigned integer",
        ),
        ("an array", vec![0x80], "not a CBOR map"),
        (
            "trailing byte",
            [base().encode(), vec![0]].concat(),
            "trailing bytes",
        ),
        (
            "over 65535 bytes",
            LogEntry {
                run: None,
                ..base()
            }
            .encode()
            .into_iter()
            .chain(std::iter::repeat_n(0, 65_536))
            .collect(),
            "more than the 65535 an entry may take",
        ),
    ];
    // Keys out of deterministic order: "covers" written before "run".
    let mut unsorted = vec![0xa9];
    let Value::Map(pairs) = cbor::decode_exact(&base().encode()).unwrap() else {
        unreachable!()
    };
    let mut pairs = pairs;
    pairs.swap(0, 1);
    for (k, v) in &pairs {
        ciborium::into_writer(k, &mut unsorted).unwrap();
        ciborium::into_writer(v, &mut unsorted).unwrap();
    }
    refused.push((
        "keys not in deterministic order",
        unsorted,
        "not in deterministic (canonical) encoding",
    ));
    json!({
        "description": "seqprov log entry (spec/log.md §2) vectors. Each `valid` case's `hex` decodes to `entry` and re-encodes to the same bytes; each `refused` case must be refused, with an error containing `error` (this implementation's wording). Regenerate with SEQPROV_REGENERATE_VECTORS=1 cargo test -p seqprov-format --test log_entry_vectors",
        "valid": valid.iter().map(|(name, e)| json!({
            "name": name,
            "hex": hex::encode(e.encode()),
            "entry": entry_json(e),
        })).collect::<Vec<_>>(),
        "refused": refused.iter().map(|(name, bytes, error)| json!({
            "name": name,
            "hex": hex::encode(bytes),
            "error": error,
        })).collect::<Vec<_>>(),
    })
}

#[test]
fn log_entry_vectors_decode_and_refuse_as_stated() {
    let generated = serde_json::to_string_pretty(&generate()).unwrap() + "\n";
    let path = vectors_path();
    if std::env::var_os("SEQPROV_REGENERATE_VECTORS").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let text = std::fs::read_to_string(&path).expect("spec/vectors/log/entries.json");
    assert_eq!(text, generated, "the vectors file is stale: regenerate it");
    let file: serde_json::Value = serde_json::from_str(&text).unwrap();
    let valid = file["valid"].as_array().unwrap();
    let refused = file["refused"].as_array().unwrap();
    assert!(valid.len() >= 4 && refused.len() >= 10);
    for case in valid {
        let bytes = hex::decode(case["hex"].as_str().unwrap()).unwrap();
        let entry = LogEntry::decode(&bytes).unwrap_or_else(|e| panic!("{}: {e}", case["name"]));
        assert_eq!(entry_json(&entry), case["entry"], "{}", case["name"]);
        assert_eq!(entry.encode(), bytes, "{}", case["name"]);
    }
    for case in refused {
        let bytes = hex::decode(case["hex"].as_str().unwrap()).unwrap();
        let error = LogEntry::decode(&bytes)
            .expect_err(case["name"].as_str().unwrap())
            .to_string();
        let expected = case["error"].as_str().unwrap();
        assert!(
            error.contains(expected),
            "{}: {error:?} does not contain {expected:?}",
            case["name"]
        );
    }
}
