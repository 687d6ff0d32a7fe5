//! Proof files rewritten by an attacker without the signing key (`proof::read_body`,
//! `proof::parse_with`): items reordered or repeated, inclusion paths too long, too short
//! or for an index past the signed count, bodies that are well-formed CBOR but not the
//! one deterministic encoding, and length fields that claim far more than the file holds.
//! Each is refused by the parser, or parses with a root that does not match (the verifier
//! then exits 1); none allocates by a claimed length.

use seqprov::format::cbor::{write_bytes, write_head, write_text, write_uint};
use seqprov::format::manifest::{Bytes32, Entry, EntryKind};
use seqprov::format::proof::{self, ProofItem};
use seqprov::seal::{SealOptions, sign_entries};
use seqprov::{Bundle, PrivateKey};

fn file(i: usize) -> Entry {
    let path = format!("S{i:02}.fastq");
    Entry {
        salt: Bytes32(*blake3::hash(path.as_bytes()).as_bytes()),
        path,
        kind: EntryKind::File,
        size: Some(i as u64),
        blake3: Some(Bytes32([i as u8; 32])),
        sha256: None,
        target: None,
        content: None,
    }
}

/// A sealed bundle of `n` files and a proof disclosing those at `chosen`.
fn proof_of(n: usize, chosen: &[usize]) -> (Vec<u8>, usize, Vec<ProofItem>) {
    let key = PrivateKey::from_seed(&[0x33; 32], Some("Core".into()));
    let bytes = sign_entries(
        (0..n).map(file).collect(),
        "run",
        &key,
        &SealOptions::default(),
    )
    .unwrap()
    .bundle;
    let bundle = Bundle::parse(&bytes).unwrap();
    let patterns: Vec<String> = chosen.iter().map(|&i| format!("S{i:02}.fastq")).collect();
    let proof = proof::prove(&bundle, &patterns).unwrap();
    let (parsed, items) = proof::parse(&proof).unwrap();
    assert!(parsed.root_matches());
    let seal_len = seqprov::format::cbor::item_len(&proof).unwrap();
    (proof, seal_len, items)
}

/// A proof body in the deterministic encoding, exactly as `prove` writes it.
fn body(items: &[ProofItem]) -> Vec<u8> {
    let mut out = Vec::new();
    write_head(&mut out, 5, 3);
    write_text(&mut out, "items");
    write_head(&mut out, 4, items.len() as u64);
    for item in items {
        write_head(&mut out, 5, 3);
        write_text(&mut out, "path");
        write_head(&mut out, 4, item.path.len() as u64);
        for hash in &item.path {
            write_bytes(&mut out, hash);
        }
        write_text(&mut out, "entry");
        item.entry.write_cbor(&mut out);
        write_text(&mut out, "index");
        write_uint(&mut out, item.index);
    }
    write_text(&mut out, "format");
    write_text(&mut out, "seqprov.proof");
    write_text(&mut out, "version");
    write_uint(&mut out, 1);
    out
}

/// The proof with its body replaced by `body`.
fn with_body(proof: &[u8], seal_len: usize, body: &[u8]) -> Vec<u8> {
    let mut out = proof[..seal_len].to_vec();
    out.extend_from_slice(body);
    out
}

fn error_of(bytes: &[u8]) -> String {
    match proof::parse_bundle(bytes) {
        Ok(bundle) => panic!("accepted: {:?}", bundle.root_evidence),
        Err(e) => e.to_string(),
    }
}

/// How the parsed proof's inclusion paths came out: (valid, invalid).
fn evidence(bytes: &[u8]) -> (usize, usize) {
    let bundle = proof::parse_bundle(bytes).unwrap();
    match bundle.root_evidence {
        seqprov::format::bundle::RootEvidence::InclusionPaths { valid, invalid } => {
            assert_eq!(bundle.root_matches(), invalid == 0 && valid > 0);
            (valid, invalid)
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_rebuilt_body_is_byte_for_byte_the_proved_one() {
    let (proof, seal_len, items) = proof_of(7, &[1, 4]);
    assert_eq!(with_body(&proof, seal_len, &body(&items)), proof);
    assert_eq!(evidence(&proof), (2, 0));
}

#[test]
fn items_out_of_order_or_repeated_are_refused() {
    let (proof, seal_len, items) = proof_of(7, &[1, 4]);
    let swapped = vec![items[1].clone(), items[0].clone()];
    let repeated = vec![items[0].clone(), items[0].clone()];
    for (name, items) in [("swapped", swapped), ("repeated", repeated)] {
        assert_eq!(
            error_of(&with_body(&proof, seal_len, &body(&items))),
            "malformed bundle: proof: items are not in strictly increasing index order",
            "{name}"
        );
    }
}

#[test]
fn paths_of_the_wrong_length_or_index_do_not_lead_to_the_root() {
    let (proof, seal_len, items) = proof_of(7, &[1, 4]);
    let mut longer = items.clone();
    longer[0].path.push([0; 32]);
    let mut shorter = items.clone();
    shorter[1].path.pop();
    let mut past = items.clone();
    past[1].index = 7;
    let mut far = items.clone();
    far[1].index = u64::MAX;
    let mut other = items.clone();
    other[0].index = 2; // another sealed entry's position
    for (name, items) in [
        ("longer", longer),
        ("shorter", shorter),
        ("index = count", past),
        ("index u64::MAX", far),
        ("another index", other),
    ] {
        assert_eq!(
            evidence(&with_body(&proof, seal_len, &body(&items))),
            (1, 1),
            "{name}"
        );
    }
}

#[test]
fn a_proof_of_a_one_entry_tree_needs_an_empty_path() {
    let (proof, seal_len, items) = proof_of(1, &[0]);
    assert!(items[0].path.is_empty());
    let mut padded = items.clone();
    padded[0]
        .path
        .push(items[0].path.first().copied().unwrap_or([7; 32]));
    assert_eq!(
        evidence(&with_body(&proof, seal_len, &body(&padded))),
        (0, 1)
    );
}

#[test]
fn a_body_that_is_not_the_deterministic_encoding_is_refused() {
    let (proof, seal_len, items) = proof_of(7, &[1, 4]);
    let good = body(&items);
    // The index 4 of the last item written with a one-byte argument (0x18 0x04).
    let index_at = good.len() - "format".len() - 1 - "seqprov.proof".len() - 1 - 8 - 1 - 1;
    assert_eq!(good[index_at], 0x04);
    let mut long_index = good.clone();
    long_index.splice(index_at..index_at + 1, [0x18, 0x04]);
    // The item count written with a one-byte argument.
    let mut long_count = good.clone();
    assert_eq!(long_count[7], 0x82);
    long_count.splice(7..8, [0x98, 0x02]);
    for (name, bad) in [("index", long_index), ("item count", long_count)] {
        assert_eq!(
            error_of(&with_body(&proof, seal_len, &bad)),
            "malformed bundle: proof: the body is not in its deterministic encoding",
            "{name}"
        );
    }
}

#[test]
fn huge_length_fields_are_refused_without_allocating() {
    let (proof, seal_len, items) = proof_of(7, &[1]);
    let good = body(&items);
    // Item count claiming 2^63.
    let mut huge_count = good[..7].to_vec();
    huge_count.extend_from_slice(&[0x9b, 0x80, 0, 0, 0, 0, 0, 0, 0]);
    assert_eq!(
        error_of(&with_body(&proof, seal_len, &huge_count)),
        format!(
            "malformed bundle: proof: {} items (1 to 100000 allowed)",
            1u64 << 63
        )
    );
    // A path claiming 2^40 hashes.
    let mut huge_path = good[..8].to_vec();
    huge_path.extend_from_slice(&[0xa3, 0x64]);
    huge_path.extend_from_slice(b"path");
    huge_path.extend_from_slice(&[0x9b, 0, 0, 1, 0, 0, 0, 0, 0]);
    assert_eq!(
        error_of(&with_body(&proof, seal_len, &huge_path)),
        "malformed bundle: proof: item 0: path longer than 64"
    );
    // An entry path claiming 4 GiB, in a body that ends there.
    let mut entry = items[0].entry.to_cbor();
    let path_at = entry.windows(4).position(|w| w == b"path").unwrap() + 4;
    entry.truncate(path_at);
    entry.extend_from_slice(&[0x7a, 0xff, 0xff, 0xff, 0xff]);
    let mut huge_text = good[..8].to_vec();
    huge_text.extend_from_slice(&[0xa3, 0x64]);
    huge_text.extend_from_slice(b"path");
    write_head(&mut huge_text, 4, items[0].path.len() as u64);
    for hash in &items[0].path {
        write_bytes(&mut huge_text, hash);
    }
    write_text(&mut huge_text, "entry");
    huge_text.extend_from_slice(&entry);
    assert_eq!(
        error_of(&with_body(&proof, seal_len, &huge_text)),
        "malformed bundle: proof: item 0 ends early"
    );
}
