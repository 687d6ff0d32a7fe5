//! Hostile review of the streaming bundle reader (`Bundle::read_from`, `ByteWindow`,
//! `entry_list::walk_window`, `merkle::RootBuilder`): the reader must give exactly what
//! `Bundle::parse` gives over the same bytes whatever the stream's read sizes (one byte
//! per read, short reads, `Interrupted` errors), at every truncation, byte flip and with
//! bytes appended; entries that straddle the 1 MiB refill point are checked as any other;
//! and what follows the entry list (custody events, garbage) is bounded before it is
//! decoded.

use std::io::{self, Read};

use proptest::prelude::*;
use seqprov::custody::{EventDraft, sign_next_event};
use seqprov::format::bundle::{MAX_EVENT_BYTES, MAX_SEAL_BYTES};
use seqprov::format::event::EventKind;
use seqprov::format::manifest::{Bytes32, Entry, EntryKind};
use seqprov::seal::{SealOptions, sign_entries};
use seqprov::{Bundle, PrivateKey};

/// A reader that hands out its bytes in the sizes `steps` gives (cycling), and fails with
/// `Interrupted` before every read when `interrupt` is set (a caller must retry).
struct ChoppyReader<'a> {
    data: &'a [u8],
    at: usize,
    steps: Vec<usize>,
    step: usize,
    interrupt: bool,
    interrupted: bool,
}

impl<'a> ChoppyReader<'a> {
    fn new(data: &'a [u8], steps: Vec<usize>, interrupt: bool) -> ChoppyReader<'a> {
        ChoppyReader {
            data,
            at: 0,
            steps,
            step: 0,
            interrupt,
            interrupted: false,
        }
    }
}

impl Read for ChoppyReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.interrupt && !self.interrupted {
            self.interrupted = true;
            return Err(io::Error::from(io::ErrorKind::Interrupted));
        }
        self.interrupted = false;
        let step = self.steps[self.step % self.steps.len()].max(1);
        self.step += 1;
        let n = step.min(buf.len()).min(self.data.len() - self.at);
        buf[..n].copy_from_slice(&self.data[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

/// The whole outcome of a parse, as text: the bundle's every field, or the error line.
fn outcome(result: Result<Bundle, String>) -> String {
    match result {
        Ok(bundle) => format!("{bundle:?}"),
        Err(e) => format!("error: {e}"),
    }
}

fn parsed(bytes: &[u8]) -> String {
    outcome(Bundle::parse(bytes).map_err(|e| e.to_string()))
}

fn streamed(bytes: &[u8], steps: Vec<usize>, interrupt: bool) -> String {
    let reader = ChoppyReader::new(bytes, steps, interrupt);
    outcome(Bundle::read_from(reader, bytes.len() as u64, |_, _| true).map_err(|e| e.to_string()))
}

fn key() -> PrivateKey {
    PrivateKey::from_seed(&[0x42; 32], Some("Core".into()))
}

fn entry(path: String, i: usize) -> Entry {
    let salt = Bytes32(*blake3::hash(path.as_bytes()).as_bytes());
    if i.is_multiple_of(3) {
        Entry {
            path,
            kind: EntryKind::Dir,
            salt,
            size: None,
            blake3: None,
            sha256: None,
            target: None,
            content: None,
        }
    } else {
        Entry {
            path,
            kind: EntryKind::File,
            salt,
            size: Some(i as u64),
            blake3: Some(Bytes32([i as u8; 32])),
            sha256: None,
            target: None,
            content: None,
        }
    }
}

/// `n` entries with paths of one width (`f0000000`, …), sorted.
fn entries(n: usize) -> Vec<Entry> {
    (0..n).map(|i| entry(format!("f{i:07}"), i)).collect()
}

/// A bundle of `entries` with `events` custody events after the list.
fn bundle_bytes(entries: Vec<Entry>, events: usize) -> Vec<u8> {
    let key = key();
    let mut bytes = sign_entries(entries, "run", &key, &SealOptions::default())
        .unwrap()
        .bundle;
    for _ in 0..events {
        let bundle = Bundle::parse(&bytes).unwrap();
        let draft = EventDraft {
            kind: EventKind::Attest,
            signer_name: None,
            role: "qc".into(),
            meaning: "approved".into(),
            host: None,
            to: None,
            note: Some("ok".into()),
            verification: None,
            derived: None,
            time: None,
        };
        let (_, raw) = sign_next_event(&bundle, &key, &draft).unwrap();
        bytes.extend_from_slice(&raw);
    }
    bytes
}

/// Where the entry list starts (the seal's length).
fn seal_len(bytes: &[u8]) -> usize {
    seqprov::format::cbor::item_len(bytes).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Differential: any bundle, cut, flipped or extended, read through any pattern of
    /// short reads and interruptions, gives exactly what `Bundle::parse` gives.
    #[test]
    fn the_stream_reader_agrees_with_parse_on_every_mutation(
        n in 0usize..12,
        events in 0usize..3,
        mutation in 0u8..4,
        at in any::<prop::sample::Index>(),
        flip in 1u8..=255,
        extra in prop::collection::vec(any::<u8>(), 1..40),
        steps in prop::collection::vec(1usize..5000, 1..5),
        interrupt in any::<bool>(),
    ) {
        let mut bytes = bundle_bytes(entries(n), events);
        match mutation {
            0 => {}
            1 => bytes.truncate(at.index(bytes.len())),
            2 => {
                let i = at.index(bytes.len());
                bytes[i] ^= flip;
            }
            _ => bytes.extend_from_slice(&extra),
        }
        prop_assert_eq!(streamed(&bytes, steps, interrupt), parsed(&bytes));
    }
}

/// One byte per read, and every truncation and a flip of every byte of a small bundle
/// with an event: the stream reader and `parse` agree on each (and the intact bundle
/// parses with its root matching).
#[test]
fn one_byte_reads_agree_with_parse_at_every_cut_and_flip() {
    let bytes = bundle_bytes(entries(3), 1);
    let whole = Bundle::parse(&bytes).unwrap();
    assert!(whole.root_matches());
    assert_eq!(whole.events.len(), 1);
    assert_eq!(streamed(&bytes, vec![1], true), parsed(&bytes));
    let without_events = bundle_bytes(entries(3), 0).len();
    for cut in 0..bytes.len() {
        let cut_bytes = &bytes[..cut];
        let expected = parsed(cut_bytes);
        // Only the cut that drops the whole event leaves a bundle.
        assert_eq!(
            expected.starts_with("error: "),
            cut != without_events,
            "cut {cut}: {expected}"
        );
        assert_eq!(streamed(cut_bytes, vec![1], false), expected, "cut {cut}");
    }
    for i in 0..bytes.len() {
        let mut flipped = bytes.clone();
        flipped[i] ^= 0x01;
        assert_eq!(
            streamed(&flipped, vec![1], false),
            parsed(&flipped),
            "flip {i}"
        );
    }
}

/// An entry list longer than one 1 MiB read: one-byte reads agree with `parse`, and a
/// flip in the entry that straddles the refill point, or a duplicate path across it, is
/// refused by both with the same error.
#[test]
fn entries_straddling_the_refill_point_are_checked_like_any_other() {
    let n = 14_000; // about 1.3 MiB of entries
    let list = entries(n);
    let bytes = bundle_bytes(list.clone(), 1);
    assert!(bytes.len() > 1 << 20);
    let whole = Bundle::parse(&bytes).unwrap();
    assert!(whole.root_matches());
    assert_eq!(whole.entries.to_entries(), list);
    assert_eq!(streamed(&bytes, vec![4093, 1, 7], true), parsed(&bytes));

    // Entry lengths differ by kind; find the entry that straddles 1 MiB by walking them.
    let list_at = seal_len(&bytes) + 3; // 14000 takes a two-byte argument
    let mut at = list_at;
    let mut straddling = None;
    for (i, e) in list.iter().enumerate() {
        let len = e.to_cbor().len();
        if at < 1 << 20 && at + len > 1 << 20 {
            straddling = Some((i, at, len));
        }
        at += len;
    }
    let (index, start, len) = straddling.expect("an entry straddles 1 MiB");
    for offset in [0, len / 2] {
        let mut flipped = bytes.clone();
        flipped[start + offset] ^= 0x20;
        let expected = parsed(&flipped);
        assert_eq!(
            streamed(&flipped, vec![1], false),
            expected,
            "offset {offset}"
        );
        // A flip either breaks the encoding (an error) or changes a signed byte: the
        // bundle parses but its root no longer matches.
        if let Ok(b) = Bundle::parse(&flipped) {
            assert!(
                !b.root_matches(),
                "flip at {offset} of entry {index} went unseen"
            );
        }
    }

    // The same entry made a duplicate of the one before it (signed: the signer is
    // trusted, the path list is still refused).
    let mut duplicated = list.clone();
    duplicated[index].path = duplicated[index - 1].path.clone();
    let bytes = bundle_bytes(duplicated, 0);
    let expected = parsed(&bytes);
    assert!(
        expected.contains("entries are not sorted by path bytes, or repeat a path"),
        "{expected}"
    );
    assert_eq!(streamed(&bytes, vec![1], false), expected);
}

/// A valid seal followed by another entry list (one entry's salt changed, every byte
/// well-formed): parsed, but the recomputed root does not match the signed one.
#[test]
fn a_forged_entry_list_after_a_valid_seal_does_not_match_its_root() {
    let bytes = bundle_bytes(entries(5), 0);
    let mut forged = bundle_bytes(
        {
            let mut list = entries(5);
            list[2].salt = Bytes32([9; 32]);
            list
        },
        0,
    );
    let original_seal = &bytes[..seal_len(&bytes)];
    let forged_list = forged.split_off(seal_len(&forged));
    let mut spliced = original_seal.to_vec();
    spliced.extend_from_slice(&forged_list);
    let bundle = Bundle::parse(&spliced).unwrap();
    assert!(!bundle.root_matches());
    assert_eq!(streamed(&spliced, vec![1], false), parsed(&spliced));
}

/// An entry list whose head declares one entry more or one fewer than the seal signs
/// (the entries themselves intact): refused, naming both counts.
#[test]
fn an_entry_count_that_disagrees_with_the_seal_is_refused() {
    let bytes = bundle_bytes(entries(5), 0);
    let at = seal_len(&bytes);
    assert_eq!(bytes[at], 0x85);
    let mut fewer = bytes.clone();
    fewer[at] = 0x84;
    let entry = entries(6).pop().unwrap().to_cbor();
    let mut more = bytes.clone();
    more[at] = 0x86;
    more.extend_from_slice(&entry);
    for (name, altered, found) in [("fewer", &fewer, 4), ("more", &more, 6)] {
        let err = Bundle::parse(altered).unwrap_err().to_string();
        assert!(
            err.starts_with(&format!(
                "malformed bundle: the entry list ({found} entries,"
            )) && err.contains("does not match the seal (5 entries,"),
            "{name}: {err}"
        );
        assert_eq!(streamed(altered, vec![1], false), parsed(altered), "{name}");
    }
}

/// Head bytes of a tagged COSE_Sign1-shaped item whose payload is `payload_len` zero
/// bytes (not a valid message: its key id is missing).
fn cose_shaped(payload_len: usize) -> Vec<u8> {
    let mut item = vec![0xd2, 0x84, 0x43, 0xa1, 0x01, 0x27, 0xa0];
    seqprov::format::cbor::write_bytes(&mut item, &vec![0; payload_len]);
    seqprov::format::cbor::write_bytes(&mut item, &[0; 64]);
    item
}

/// A custody event item longer than `MAX_EVENT_BYTES` is refused from its heads, before
/// it is decoded; one of exactly the limit is decoded (and refused here for what it
/// holds). Issue found in review: a 200 MB event made `custody show` peak at 830 MB.
#[test]
fn a_custody_event_longer_than_the_limit_is_refused_before_it_is_decoded() {
    let bytes = bundle_bytes(entries(2), 0);
    let overhead = cose_shaped(0).len() - 1 + 5; // the payload's head grows to 5 bytes
    let exact = cose_shaped(MAX_EVENT_BYTES - overhead);
    assert_eq!(exact.len(), MAX_EVENT_BYTES);
    let over = cose_shaped(MAX_EVENT_BYTES - overhead + 1);
    let mut at_limit = bytes.clone();
    at_limit.extend_from_slice(&exact);
    let mut past_limit = bytes.clone();
    past_limit.extend_from_slice(&over);
    let err = Bundle::parse(&at_limit).unwrap_err().to_string();
    assert_eq!(
        err,
        format!(
            "malformed bundle: custody event at byte {}: protected header key id is not 32 bytes",
            bytes.len()
        )
    );
    let err = Bundle::parse(&past_limit).unwrap_err().to_string();
    assert_eq!(
        err,
        format!(
            "malformed bundle: custody event at byte {} is more than the limit of {MAX_EVENT_BYTES} bytes",
            bytes.len()
        )
    );
    // A head claiming a 4 GiB event in a few bytes: refused the same way, nothing read.
    let mut claimed = bytes.clone();
    claimed.extend_from_slice(&[0xd2, 0x84, 0x5b, 0, 0, 0, 1, 0, 0, 0, 0]);
    let err = Bundle::parse(&claimed).unwrap_err().to_string();
    assert!(err.contains("ends early"), "{err}");
    assert_eq!(streamed(&claimed, vec![1], false), parsed(&claimed));
    assert_eq!(streamed(&past_limit, vec![4096], true), parsed(&past_limit));
}

/// Garbage after the events is reported with the number of bytes from it to the end of
/// the file, also when they are far more than one read (they are counted, not held).
#[test]
fn garbage_after_the_list_is_counted_to_the_end_of_the_file() {
    let bytes = bundle_bytes(entries(2), 1);
    for (garbage, message) in [
        (
            vec![0u8; 8],
            "8 bytes of garbage after byte {}: the item there is not a custody event (tagged COSE_Sign1) nor a timestamp record",
        ),
        (
            vec![0u8; 3 << 20],
            "3145728 bytes of garbage after byte {}: the item there is not a custody event (tagged COSE_Sign1) nor a timestamp record",
        ),
        (
            vec![0xd2, 0x84],
            "2 bytes of garbage or a torn write after byte {}: the custody event there ends early",
        ),
    ] {
        let mut altered = bytes.clone();
        altered.extend_from_slice(&garbage);
        let err = Bundle::parse(&altered).unwrap_err().to_string();
        assert_eq!(
            err,
            format!(
                "malformed bundle: {}",
                message.replace("{}", &bytes.len().to_string())
            )
        );
        assert_eq!(streamed(&altered, vec![65_536], true), parsed(&altered));
    }
}

/// A seal whose heads claim many small items (the window is doubled, not rescanned per
/// read), a seal of 10 MB and one past `MAX_SEAL_BYTES`: each refused with one error,
/// quickly.
#[test]
fn huge_or_many_item_seals_are_refused_quickly() {
    let started = std::time::Instant::now();
    // An array claiming 2^26 items, followed by 10 MB of small items (zeros).
    let mut many = vec![0xd2, 0x9a, 0x04, 0, 0, 0];
    many.resize(10 << 20, 0);
    assert_eq!(
        Bundle::parse(&many).unwrap_err().to_string(),
        "malformed bundle: truncated: the seal starting at byte 0 ends early"
    );
    assert_eq!(streamed(&many, vec![100_000], false), parsed(&many));
    // A 10 MB seal shaped like a COSE_Sign1, and an entry list after it.
    let mut big = cose_shaped(10 << 20);
    big.push(0x80);
    assert_eq!(
        Bundle::parse(&big).unwrap_err().to_string(),
        "malformed bundle: seal: protected header key id is not 32 bytes"
    );
    // One byte past the limit, read from the heads.
    let over = cose_shaped(MAX_SEAL_BYTES);
    assert_eq!(
        Bundle::parse(&over).unwrap_err().to_string(),
        format!(
            "malformed bundle: the seal is {} bytes, more than the limit of {MAX_SEAL_BYTES}",
            over.len()
        )
    );
    assert!(started.elapsed().as_secs() < 20, "{:?}", started.elapsed());
}

/// The entry list's head: a long form of the right count, a count past the limit, and a
/// count of millions in a file of a few bytes (nothing reserved by it: refused at once).
#[test]
fn entry_list_heads_that_are_long_huge_or_empty_handed_are_refused() {
    let bytes = bundle_bytes(entries(5), 0);
    let at = seal_len(&bytes);
    assert_eq!(bytes[at], 0x85);
    let with_head = |head: &[u8]| {
        let mut altered = bytes[..at].to_vec();
        altered.extend_from_slice(head);
        altered.extend_from_slice(&bytes[at + 1..]);
        altered
    };
    for (head, expected) in [
        (
            &[0x98, 0x05][..],
            "malformed bundle: entry list at byte {at}: the list head is not in the single \
             encoding format version 1 allows (deterministic CBOR)",
        ),
        (
            &[0x9b, 0, 0, 0, 0, 0x7f, 0xff, 0xff, 0xff][..],
            "malformed bundle: entry list at byte {at}: the entry list declares 2147483647 \
             entries, more than the limit of 50000000",
        ),
        (
            &[0x9a, 0x02, 0xfa, 0xf0, 0x80][..],
            "malformed bundle: truncated: the entry list starting at byte {at} ends early",
        ),
    ] {
        let altered = with_head(head);
        let expected = expected.replace("{at}", &at.to_string());
        assert_eq!(Bundle::parse(&altered).unwrap_err().to_string(), expected);
        assert_eq!(
            streamed(&altered, vec![1], false),
            format!("error: {expected}")
        );
    }
}

/// Custody events that straddle the 1 MiB refill point (about 2 MiB of events after a
/// small entry list): read one at a time, one byte per read, they are exactly the events
/// `parse` finds, and a flip inside the straddling one is refused by both alike.
#[test]
fn custody_events_straddling_the_refill_point_are_read_whole() {
    let key = key();
    let mut bytes = bundle_bytes(entries(3), 0);
    let mut bundle = Bundle::parse(&bytes).unwrap();
    let draft = EventDraft {
        kind: EventKind::Attest,
        signer_name: None,
        role: "qc".into(),
        meaning: "approved".into(),
        host: None,
        to: None,
        note: Some("n".repeat(60_000)),
        verification: None,
        derived: None,
        time: None,
    };
    let mut straddling = None;
    while bytes.len() < 2 << 20 {
        let (_, raw) = sign_next_event(&bundle, &key, &draft).unwrap();
        if bytes.len() < 1 << 20 && bytes.len() + raw.len() > 1 << 20 {
            straddling = Some(bytes.len() + raw.len() / 2);
        }
        bytes.extend_from_slice(&raw);
        bundle
            .events
            .push(seqprov::format::cose::parse(&raw).unwrap());
    }
    let whole = Bundle::parse(&bytes).unwrap();
    assert_eq!(whole.events.len(), bundle.events.len());
    assert_eq!(streamed(&bytes, vec![1], false), parsed(&bytes));
    let mut flipped = bytes.clone();
    flipped[straddling.expect("an event straddles 1 MiB")] ^= 0x40;
    let expected = parsed(&flipped);
    assert_eq!(streamed(&flipped, vec![1], true), expected);
}

/// An entry longer than `MAX_ENTRY_BYTES` can only be one whose text fields break the
/// path rules (a valid entry is at most about 8.4 KiB): a 20 000-byte path is refused by
/// the path rule (the entry whole), and a path that claims 2 MiB is refused by the entry limit once 16 KiB
/// of it are held, without reading to its end; a long path that ends early is truncated.
#[test]
fn entries_longer_than_the_entry_limit_are_refused() {
    use seqprov::format::entry_list::MAX_ENTRY_BYTES;
    let bytes = bundle_bytes(entries(1), 0);
    let at = seal_len(&bytes);
    assert_eq!(bytes[at], 0x81);
    let entry = &bytes[at + 1..];
    let path_at = entry.windows(4).position(|w| w == b"path").unwrap() + 4;
    let with_path = |head: &[u8], body_len: usize| {
        let mut altered = bytes[..at + 1].to_vec();
        altered.extend_from_slice(&entry[..path_at]);
        altered.extend_from_slice(head);
        altered.extend(std::iter::repeat_n(b'a', body_len));
        altered
    };
    // The rest of the entry (salt, size, digest) after the original 8-byte path.
    assert_eq!(entry[path_at], 0x68);
    let mut long = with_path(&[0x79, 0x4e, 0x20], 20_000);
    long.extend_from_slice(&entry[path_at + 9..]);
    let err = Bundle::parse(&long).unwrap_err().to_string();
    assert!(err.contains("longer than 4096 bytes"), "{err}");
    assert_eq!(streamed(&long, vec![1], false), parsed(&long));
    let claimed = with_path(&[0x7a, 0, 0x20, 0, 0], 1 << 20);
    assert_eq!(
        Bundle::parse(&claimed).unwrap_err().to_string(),
        format!(
            "malformed bundle: entry list at byte {at}: entry 0 is longer than the limit of \
             {MAX_ENTRY_BYTES} bytes"
        )
    );
    assert_eq!(streamed(&claimed, vec![1000], true), parsed(&claimed));
    let short = with_path(&[0x7a, 0, 0x20, 0, 0], 10_000);
    assert_eq!(
        Bundle::parse(&short).unwrap_err().to_string(),
        format!("malformed bundle: truncated: the entry list starting at byte {at} ends early")
    );
}

/// `custody append` never writes an event no reader would accept: a note that makes the
/// event longer than `MAX_EVENT_BYTES` is refused (exit 2) and the bundle is unchanged.
#[test]
fn appending_an_event_longer_than_the_limit_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.seqprov");
    let bytes = bundle_bytes(entries(2), 0);
    std::fs::write(&path, &bytes).unwrap();
    let draft = |note: usize| EventDraft {
        kind: EventKind::Attest,
        signer_name: None,
        role: "qc".into(),
        meaning: "approved".into(),
        host: None,
        to: None,
        note: Some("n".repeat(note)),
        verification: None,
        derived: None,
        time: None,
    };
    let err = seqprov::custody::append_event(&path, &key(), &draft(MAX_EVENT_BYTES)).unwrap_err();
    assert_eq!(err.exit_status().code(), 2, "{err}");
    assert!(
        err.to_string().contains(&format!(
            "more than the {MAX_EVENT_BYTES} bytes an event may take"
        )),
        "{err}"
    );
    assert_eq!(std::fs::read(&path).unwrap(), bytes);
    seqprov::custody::append_event(&path, &key(), &draft(100_000)).unwrap();
    assert_eq!(
        Bundle::parse(&std::fs::read(&path).unwrap())
            .unwrap()
            .events
            .len(),
        1
    );
}
