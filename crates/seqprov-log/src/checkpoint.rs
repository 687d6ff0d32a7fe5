//! Checkpoints (tlog-checkpoint): a signed note whose body is origin, size and root.
//!
//! The note's shape (UTF-8, no control characters but newline, the last empty line
//! separating the text from at most 100 well-formed signature lines) is checked by
//! `signed_note`; the body grammar and the signatures are checked here, so that every
//! line naming a trusted key must verify (spec/log.md §7.2 step 3).

use base64ct::{Base64, Encoding};

use crate::note_keys::{LogSigner, LogVerifier, WitnessVerifier, check_key_name};
use crate::{Hash, LogError};

/// The largest checkpoint note accepted (body and every signature line).
pub const MAX_CHECKPOINT_LEN: usize = 16 * 1024;

/// The most signature lines a checkpoint may carry (as `signed_note` also bounds them).
pub const MAX_SIGNATURE_LINES: usize = 100;

fn malformed(detail: impl Into<String>) -> LogError {
    LogError::Malformed {
        what: "checkpoint",
        detail: detail.into(),
    }
}

/// At most 40 characters of `text`, escaped, for an error message.
fn shown(text: &str) -> String {
    let cut: String = text.chars().take(40).collect();
    let mut escaped = cut.escape_debug().to_string();
    if cut.len() < text.len() {
        escaped.push('…');
    }
    escaped
}

/// The body `<origin>\n<size>\n<base64 root>\n`.
pub fn body(origin: &str, size: u64, root: &Hash) -> String {
    format!("{origin}\n{size}\n{}\n", Base64::encode_string(root))
}

/// Signs a new checkpoint: the body followed by an empty line and the log's signature.
pub fn sign(signer: &LogSigner, size: u64, root: &Hash) -> Vec<u8> {
    let body = body(&signer.origin, size, root);
    let line = signer.signature_line(body.as_bytes());
    format!("{body}\n{line}").into_bytes()
}

/// Appends signature lines (e.g. witness cosignatures) to a signed note.
pub fn add_signature_lines(note: &[u8], lines: &[String]) -> Result<Vec<u8>, LogError> {
    split_note(note)?;
    let mut out = note.to_vec();
    for line in lines {
        let bare = line.strip_suffix('\n').unwrap_or(line);
        if bare.contains('\n') {
            return Err(malformed(format!(
                "signature line \"{}\" spans several lines",
                shown(bare)
            )));
        }
        signed_note::Signature::from_bytes(bare.as_bytes())
            .map_err(|_| malformed(format!("\"{}\" is not a signature line", shown(bare))))?;
        out.extend_from_slice(bare.as_bytes());
        out.push(b'\n');
    }
    if out.len() > MAX_CHECKPOINT_LEN {
        return Err(malformed(format!(
            "{} bytes with the new signatures, longer than {MAX_CHECKPOINT_LEN}",
            out.len()
        )));
    }
    Ok(out)
}

/// A checkpoint whose log signature verified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenedCheckpoint {
    /// The origin line.
    pub origin: String,
    /// The tree size.
    pub size: u64,
    /// The tree root.
    pub root: Hash,
    /// The names of the trusted witnesses whose `cosignature/v1` verified, with their
    /// cosignature times (POSIX seconds, the latest of the key's valid lines); each
    /// witness public key counted once (a key listed under two names counts under the
    /// name of its first verified line only, since a `cosignature/v1` does not sign the
    /// witness name).
    pub witnesses: Vec<(String, u64)>,
    /// The exact note bytes.
    pub note: Vec<u8>,
}

/// A note split into its text (ending in newline) and its signature lines (without
/// their newline), each line a well-formed signature line, each distinct line once (an
/// exact repeat of a line is dropped before anything is verified).
struct SplitNote<'a> {
    text: &'a str,
    signatures: Vec<signed_note::Signature>,
}

fn split_note(note: &[u8]) -> Result<SplitNote<'_>, LogError> {
    if note.len() > MAX_CHECKPOINT_LEN {
        return Err(malformed(format!(
            "{} bytes, longer than {MAX_CHECKPOINT_LEN}",
            note.len()
        )));
    }
    let whole = std::str::from_utf8(note).map_err(|_| malformed("not UTF-8"))?;
    if let Some(control) = whole.chars().find(|c| c.is_ascii_control() && *c != '\n') {
        return Err(malformed(format!(
            "contains the control character {control:?}"
        )));
    }
    // The shape checks of the signed-note implementation (signature line syntax, at most
    // 100 signatures), then the same split it makes: text up to the last empty line.
    signed_note::Note::from_bytes(note)
        .map_err(|e| malformed(format!("not a signed note ({e})")))?;
    let (text, signature_block) = whole
        .rsplit_once("\n\n")
        .ok_or_else(|| malformed("no empty line before the signatures"))?;
    let signature_block = signature_block
        .strip_suffix('\n')
        .ok_or_else(|| malformed("does not end in a newline"))?;
    let mut signatures = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (n, line) in signature_block.split('\n').enumerate() {
        if n == MAX_SIGNATURE_LINES {
            return Err(malformed(format!(
                "more than {MAX_SIGNATURE_LINES} signature lines"
            )));
        }
        let signature = signed_note::Signature::from_bytes(line.as_bytes())
            .map_err(|_| malformed(format!("\"{}\" is not a signature line", shown(line))))?;
        // The same key name, key id and signature again says nothing new: verified once.
        if seen.insert(line) {
            signatures.push(signature);
        }
    }
    // `text` lacks its final newline, which is the first of the "\n\n".
    let text = &whole[..text.len() + 1];
    Ok(SplitNote { text, signatures })
}

/// Parses a body: exactly three lines, origin, size without leading zeros, 32-byte root.
fn parse_body(text: &str) -> Result<(String, u64, Hash), LogError> {
    let lines: Vec<&str> = text
        .strip_suffix('\n')
        .ok_or_else(|| malformed("the body does not end in a newline"))?
        .split('\n')
        .collect();
    if lines.iter().any(|line| line.is_empty()) {
        return Err(malformed("the body has an empty line"));
    }
    if lines.len() < 3 {
        return Err(malformed(format!(
            "the body has {} lines, not 3 (origin, size, root)",
            lines.len()
        )));
    }
    if lines.len() > 3 {
        return Err(malformed(format!(
            "extension line \"{}\" (a seqprov checkpoint has none)",
            shown(lines[3])
        )));
    }
    let origin = lines[0];
    check_key_name(origin).map_err(|e| malformed(format!("origin: {e}")))?;
    let size = parse_decimal(lines[1]).ok_or_else(|| {
        malformed(format!(
            "size \"{}\" is not a decimal without leading zeros",
            shown(lines[1])
        ))
    })?;
    let root = parse_hash(lines[2]).ok_or_else(|| {
        malformed(format!(
            "root \"{}\" is not the base64 of 32 bytes",
            shown(lines[2])
        ))
    })?;
    Ok((origin.to_string(), size, root))
}

/// A u64 in ASCII decimal without leading zeros (`0` alone is zero).
pub(crate) fn parse_decimal(text: &str) -> Option<u64> {
    if text.is_empty()
        || !text.bytes().all(|b| b.is_ascii_digit())
        || (text.len() > 1 && text.starts_with('0'))
    {
        return None;
    }
    text.parse().ok()
}

/// A hash in standard, padded, canonical base64.
pub(crate) fn parse_hash(text: &str) -> Option<Hash> {
    if text.len() != 44 {
        return None;
    }
    let mut hash = [0u8; 32];
    let decoded = Base64::decode(text, &mut hash).ok()?;
    (decoded.len() == 32).then_some(hash)
}

/// Parses a checkpoint note without checking any signature (to learn its origin).
pub fn parse_unverified(note: &[u8]) -> Result<(String, u64, Hash), LogError> {
    let split = split_note(note)?;
    parse_body(split.text)
}

/// Opens a checkpoint: it must be well formed (at most [`MAX_CHECKPOINT_LEN`] bytes, no
/// extension lines), its origin must be the log's, and it must carry a valid signature by
/// `log`. Signature lines of unknown keys are ignored; a line that names a trusted key
/// but does not verify is an error.
pub fn open(
    note: &[u8],
    log: &LogVerifier,
    witnesses: &[WitnessVerifier],
) -> Result<OpenedCheckpoint, LogError> {
    let split = split_note(note)?;
    let (origin, size, root) = parse_body(split.text)?;
    if origin != log.origin {
        return Err(LogError::Verification(format!(
            "checkpoint of the log \"{}\", not of \"{}\"",
            shown(&origin),
            shown(&log.origin)
        )));
    }
    let body = split.text.as_bytes();
    let mut log_signed = false;
    let mut counted: Vec<(String, u64)> = Vec::new();
    let mut counted_keys: Vec<[u8; 32]> = Vec::new();
    for signature in &split.signatures {
        let id = signature.id().to_be_bytes();
        if signature.name() == log.origin && id == log.key_id {
            if !log.verifies(body, signature.signature()) {
                return Err(LogError::Verification(format!(
                    "the log signature of \"{}\" on the checkpoint does not verify",
                    shown(&log.origin)
                )));
            }
            log_signed = true;
            continue;
        }
        let Some(witness) = witnesses
            .iter()
            .find(|w| w.name == signature.name() && w.key_id == id)
        else {
            // An unknown key (another log key, another witness): ignored.
            continue;
        };
        let Some(time) = witness.verifies(body, signature.signature()) else {
            return Err(LogError::Verification(format!(
                "the cosignature of the witness \"{}\" on the checkpoint does not verify",
                shown(&witness.name)
            )));
        };
        // One witness key counts once, whatever names the policy lists it under; of its
        // valid lines the latest time is kept (the order of the lines proves nothing).
        let key = witness.key.to_bytes();
        match counted_keys.iter().position(|k| *k == key) {
            Some(at) => counted[at].1 = counted[at].1.max(time),
            None => {
                counted_keys.push(key);
                counted.push((witness.name.clone(), time));
            }
        }
    }
    if !log_signed {
        return Err(LogError::Verification(format!(
            "the checkpoint carries no signature by the log key {}",
            log.vkey().escape_debug()
        )));
    }
    Ok(OpenedCheckpoint {
        origin,
        size,
        root,
        witnesses: counted,
        note: note.to_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::note_keys::WitnessSigner;
    use ed25519_dalek::SigningKey;

    const ORIGIN: &str = "lab.example.org/seqprov";

    fn log_signer() -> LogSigner {
        LogSigner {
            origin: ORIGIN.to_string(),
            key: SigningKey::from_bytes(&[1u8; 32]),
        }
    }

    fn witness(seed: u8, name: &str) -> WitnessSigner {
        WitnessSigner {
            name: name.to_string(),
            key: SigningKey::from_bytes(&[seed; 32]),
        }
    }

    fn root() -> Hash {
        [7u8; 32]
    }

    #[test]
    fn signed_checkpoint_opens_and_go_note_parses_it() {
        let signer = log_signer();
        let note = sign(&signer, 5, &root());
        let opened = open(&note, &signer.verifier(), &[]).unwrap();
        assert_eq!(opened.origin, ORIGIN);
        assert_eq!(opened.size, 5);
        assert_eq!(opened.root, root());
        assert!(opened.witnesses.is_empty());
        assert_eq!(opened.note, note);
        assert_eq!(
            parse_unverified(&note).unwrap(),
            (ORIGIN.to_string(), 5, root())
        );
        let text = String::from_utf8(note).unwrap();
        assert!(text.starts_with(&format!(
            "{ORIGIN}\n5\nBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=\n\n\u{2014} {ORIGIN} "
        )));
    }

    #[test]
    fn cosignatures_are_counted_once_per_trusted_witness() {
        let signer = log_signer();
        let w1 = witness(2, "w1.example");
        let w2 = witness(3, "w2.example");
        let stranger = witness(4, "w3.example");
        let note = sign(&signer, 9, &root());
        let body = body(ORIGIN, 9, &root());
        let note = add_signature_lines(
            &note,
            &[
                w1.cosignature_line(body.as_bytes(), 100),
                w1.cosignature_line(body.as_bytes(), 101),
                stranger.cosignature_line(body.as_bytes(), 102),
                w2.cosignature_line(body.as_bytes(), 103),
            ],
        )
        .unwrap();
        let opened = open(&note, &signer.verifier(), &[w1.verifier(), w2.verifier()]).unwrap();
        assert_eq!(
            opened.witnesses,
            vec![
                ("w1.example".to_string(), 101),
                ("w2.example".to_string(), 103)
            ]
        );
        // Without trusted witnesses every cosignature is an unknown key.
        let opened = open(&note, &signer.verifier(), &[]).unwrap();
        assert!(opened.witnesses.is_empty());
    }

    #[test]
    fn repeated_lines_are_verified_once_and_lines_are_bounded() {
        let signer = log_signer();
        let w1 = witness(2, "w1.example");
        let note = sign(&signer, 9, &root());
        let body = body(ORIGIN, 9, &root());
        let line = w1.cosignature_line(body.as_bytes(), 100);
        let repeated = add_signature_lines(&note, &vec![line.clone(); 60]).unwrap();
        // 61 lines in the note, 2 distinct: only those are kept for verifying.
        let split = split_note(&repeated).unwrap();
        assert_eq!(split.signatures.len(), 2);
        let opened = open(&repeated, &signer.verifier(), &[w1.verifier()]).unwrap();
        assert_eq!(opened.witnesses, vec![("w1.example".to_string(), 100)]);
        // 101 distinct signature lines are refused before any is verified (short lines of
        // an unknown key, so that the note stays under its byte bound).
        let mut many = String::from_utf8(note).unwrap();
        for n in 0..100u32 {
            let mut key = vec![0u8; 4];
            key.extend_from_slice(&n.to_be_bytes());
            many.push_str(&format!("\u{2014} x {}\n", Base64::encode_string(&key)));
        }
        let err = open(many.as_bytes(), &signer.verifier(), &[])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("more than 100 signature lines") || err.contains("not a signed note"),
            "{err}"
        );
    }

    #[test]
    fn one_witness_key_under_two_names_counts_once() {
        let signer = log_signer();
        let w1 = witness(2, "w1.example");
        let alias = witness(2, "alias.example");
        let note = sign(&signer, 9, &root());
        let body = body(ORIGIN, 9, &root());
        // The cosignature does not sign the name: w1's line relabelled verifies as alias's.
        let note = add_signature_lines(
            &note,
            &[
                w1.cosignature_line(body.as_bytes(), 100),
                alias.cosignature_line(body.as_bytes(), 100),
            ],
        )
        .unwrap();
        let opened = open(
            &note,
            &signer.verifier(),
            &[w1.verifier(), alias.verifier()],
        )
        .unwrap();
        assert_eq!(opened.witnesses, vec![("w1.example".to_string(), 100)]);
    }

    #[test]
    fn a_bad_line_of_a_trusted_key_rejects_the_note() {
        let signer = log_signer();
        let w1 = witness(2, "w1.example");
        let note = sign(&signer, 9, &root());
        // w1's cosignature of another body.
        let other = body(ORIGIN, 10, &root());
        let bad = add_signature_lines(&note, &[w1.cosignature_line(other.as_bytes(), 5)]).unwrap();
        let err = open(&bad, &signer.verifier(), &[w1.verifier()]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the cosignature of the witness \"w1.example\" on the checkpoint does not verify"
        );
        // Unknown when w1 is not trusted: ignored.
        open(&bad, &signer.verifier(), &[]).unwrap();
        // A second, bad log signature line after a good one.
        let forged =
            add_signature_lines(&note, &[signer.signature_line(other.as_bytes())]).unwrap();
        let err = open(&forged, &signer.verifier(), &[]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the log signature of \"lab.example.org/seqprov\" on the checkpoint does not verify"
        );
    }

    #[test]
    fn other_origin_or_other_key_is_refused() {
        let signer = log_signer();
        let note = sign(&signer, 1, &root());
        let impostor = LogSigner {
            origin: ORIGIN.to_string(),
            key: SigningKey::from_bytes(&[9u8; 32]),
        };
        let err = open(&note, &impostor.verifier(), &[])
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("the checkpoint carries no signature by the log key"),
            "{err}"
        );
        let other_log = LogSigner {
            origin: "other.example/log".to_string(),
            key: SigningKey::from_bytes(&[1u8; 32]),
        };
        let err = open(&note, &other_log.verifier(), &[])
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "checkpoint of the log \"lab.example.org/seqprov\", not of \"other.example/log\""
        );
    }

    #[test]
    fn malformed_bodies_are_refused() {
        let signer = log_signer();
        let good_root = Base64::encode_string(&root());
        let cases = [
            (format!("{ORIGIN}\n05\n{good_root}\n"), "size \"05\""),
            (format!("{ORIGIN}\n+5\n{good_root}\n"), "size \"+5\""),
            (
                format!("{ORIGIN}\n18446744073709551616\n{good_root}\n"),
                "size",
            ),
            (
                format!("{ORIGIN}\n5\n{good_root}\next\n"),
                "extension line \"ext\"",
            ),
            (
                format!("{ORIGIN}\n5\n{}\n", Base64::encode_string(&[0u8; 31])),
                "root",
            ),
            (format!("{ORIGIN}\n5\n{}\n", &good_root[..43]), "root"),
            (format!("{ORIGIN}\n5\n"), "the body has 2 lines"),
            (
                format!("{ORIGIN}\n5\n\n{good_root}\n"),
                "the body has an empty line",
            ),
        ];
        for (text, expected) in cases {
            let note = format!("{text}\n{}", signer.signature_line(text.as_bytes()));
            let err = open(note.as_bytes(), &signer.verifier(), &[])
                .unwrap_err()
                .to_string();
            assert!(err.contains(expected), "{text:?}: {err}");
        }
    }

    #[test]
    fn notes_are_bounded_and_well_formed() {
        let signer = log_signer();
        let note = sign(&signer, 1, &root());
        let mut long = note.clone();
        while long.len() <= MAX_CHECKPOINT_LEN {
            long.extend_from_slice(signer.signature_line(b"x\n").as_bytes());
        }
        let err = open(&long, &signer.verifier(), &[])
            .unwrap_err()
            .to_string();
        assert!(err.contains("longer than 16384"), "{err}");
        let mut no_newline = note.clone();
        no_newline.pop();
        assert!(open(&no_newline, &signer.verifier(), &[]).is_err());
        let mut control = note.clone();
        control.insert(3, b'\r');
        let err = open(&control, &signer.verifier(), &[])
            .unwrap_err()
            .to_string();
        assert!(err.contains("control character"), "{err}");
        assert!(open(b"", &signer.verifier(), &[]).is_err());
        assert!(open(&[0xff, b'\n'], &signer.verifier(), &[]).is_err());
        assert!(add_signature_lines(&note, &["not a line".to_string()]).is_err());
        assert!(
            add_signature_lines(
                &note,
                &["\u{2014} a AAAAAAA=\n\u{2014} b AAAAAAA=".to_string()]
            )
            .is_err()
        );
    }
}
