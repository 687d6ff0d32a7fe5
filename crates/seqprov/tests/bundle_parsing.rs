//! Strict parsing of bundles: one encoding per entry, limits checked before decoding.

use ciborium::value::Value;
use seqprov::format::cbor;
use seqprov::format::manifest::{Bytes32, Entry, EntryKind};
use seqprov::seal::{SealOptions, sign_entries};
use seqprov::{Bundle, PrivateKey};

fn one_file_bundle() -> Vec<u8> {
    let entry = Entry {
        path: "a.fastq".into(),
        kind: EntryKind::File,
        salt: Bytes32([3; 32]),
        size: Some(1),
        blake3: Some(Bytes32([4; 32])),
        sha256: None,
        target: None,
        content: None,
    };
    let key = PrivateKey::from_seed(&[1; 32], None);
    sign_entries(vec![entry], "run", &key, &SealOptions::default())
        .unwrap()
        .bundle
}

/// Re-encode the entry list after `edit` changes its first entry's CBOR value.
fn with_edited_entry(edit: impl Fn(Value) -> Value) -> Vec<u8> {
    let bytes = one_file_bundle();
    let (_, seal_len) = cbor::decode_first(&bytes).unwrap();
    let (list, _) = cbor::decode_first(&bytes[seal_len..]).unwrap();
    let Value::Array(mut items) = list else {
        panic!()
    };
    let first = items.remove(0);
    items.insert(0, edit(first));
    let mut out = bytes[..seal_len].to_vec();
    out.extend(cbor::encode(Value::Array(items)).unwrap());
    out
}

#[test]
fn the_untouched_bundle_parses() {
    let bundle = Bundle::parse(&one_file_bundle()).unwrap();
    assert!(bundle.root_matches());
}

/// Regression: a null optional field, a tag around an entry, or another enum spelling
/// was read as the plain entry, so one entry had several encodings and leaf hashes.
#[test]
fn other_spellings_of_an_entry_are_rejected() {
    let add_null = |v: Value| match v {
        Value::Map(mut m) => {
            m.push((Value::Text("target".into()), Value::Null));
            Value::Map(m)
        }
        other => other,
    };
    let tagged = |v: Value| Value::Tag(24, Box::new(v));
    let kind_as_map = |v: Value| match v {
        Value::Map(m) => Value::Map(
            m.into_iter()
                .map(|(k, v)| {
                    if k == Value::Text("kind".into()) {
                        (k, Value::Map(vec![(v, Value::Null)]))
                    } else {
                        (k, v)
                    }
                })
                .collect(),
        ),
        other => other,
    };
    for (name, bytes) in [
        ("null field", with_edited_entry(add_null)),
        ("tagged entry", with_edited_entry(tagged)),
        ("kind as map", with_edited_entry(kind_as_map)),
    ] {
        let err = Bundle::parse(&bytes).unwrap_err().to_string();
        assert!(err.contains("malformed bundle"), "{name}: {err}");
    }
}

#[test]
fn declared_entry_count_over_the_limit_is_refused_before_decoding() {
    let bytes = one_file_bundle();
    let (_, seal_len) = cbor::decode_first(&bytes).unwrap();
    let mut out = bytes[..seal_len].to_vec();
    out.extend([0x9b, 0, 0, 0, 1, 0, 0, 0, 0]);
    let err = Bundle::parse(&out).unwrap_err().to_string();
    assert!(err.contains("more than the limit"), "{err}");
}
