//! Submitting one message to a seqprov transparency log and checking the receipt it
//! answers (spec/log.md §4, §5, §7.2), before the caller stores anything.
//!
//! The exchange is `POST <URL>/add` with the deterministic CBOR submission as
//! `application/cbor` (ureq: timeouts, no redirects, the answer read to at most
//! [`MAX_RECEIPT_BYTES`]). A status other than 200 is an error naming the status and the
//! first line of the server's answer. A 200 answer must be a `c2sp.org/tlog-proof@v1`
//! receipt whose inclusion proof proves the expected entry under its checkpoint's root,
//! and, when the log's vkey is known, whose checkpoint the log key signed. Nothing here
//! writes a bundle: [`crate::log_receipts`] appends what this returns.

use std::time::Duration;

use seqprov_log::checkpoint;
use seqprov_log::merkle;
use seqprov_log::note_keys::LogVerifier;
use seqprov_log::proof_text::{MAX_PROOF_LEN, TlogProof};

use crate::error::{Error, Result};

/// Largest answer read from a log (a receipt is at most [`MAX_PROOF_LEN`] bytes).
pub const MAX_RECEIPT_BYTES: u64 = MAX_PROOF_LEN as u64;
/// Default time limit of one exchange with a log.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// Most characters of a log's error line kept in an error message.
pub const MAX_ERROR_LINE_CHARS: usize = 200;

/// A receipt that proves its entry (and, when the log's key was given, whose checkpoint
/// the log signed).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckedReceipt {
    /// The log's origin, as its checkpoint names it.
    pub origin: String,
    /// The entry's index in the log.
    pub index: u64,
    /// The tree size of the checkpoint the receipt proves against.
    pub size: u64,
    /// Whether the checkpoint's signature was checked against a trusted log key.
    pub signature_checked: bool,
    /// The receipt text, exactly as the log answered it.
    pub proof: String,
}

fn log_error(log: &str, reason: impl Into<String>) -> Error {
    Error::Log {
        log: log.to_owned(),
        reason: reason.into(),
    }
}

/// The `/add` URL of the log at `log` (`http://` or `https://`, a trailing `/` allowed).
pub fn add_url(log: &str) -> Result<String> {
    if !(log.starts_with("http://") || log.starts_with("https://")) {
        return Err(log_error(
            log,
            "the URL must start with http:// or https://",
        ));
    }
    Ok(format!("{}/add", log.trim_end_matches('/')))
}

/// The first line of a log's error answer, at most [`MAX_ERROR_LINE_CHARS`] characters;
/// invalid UTF-8 is replaced. Control characters are kept: whoever prints it escapes it
/// (the command prints every error through its terminal escaping).
pub fn error_line(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let line = text.lines().next().unwrap_or("").trim_end();
    let mut kept: String = line.chars().take(MAX_ERROR_LINE_CHARS).collect();
    if line.chars().count() > MAX_ERROR_LINE_CHARS {
        kept.push('…');
    }
    kept
}

/// Check a receipt against the entry it must prove (spec/log.md §7.2 steps 2–4, without
/// witnesses): it parses as `c2sp.org/tlog-proof@v1`, its checkpoint is well formed (and
/// signed by `log_key` when given, whose origin it must then carry), and its inclusion
/// proof proves `SHA-256(0x00 ‖ entry)` at its index under the checkpoint's root.
/// The error is the reason in words.
pub fn check_receipt(
    text: &[u8],
    entry: &[u8],
    log_key: Option<&LogVerifier>,
) -> std::result::Result<CheckedReceipt, String> {
    let proof = TlogProof::parse(text).map_err(|e| format!("the receipt does not parse: {e}"))?;
    let (origin, size, root) = match log_key {
        Some(key) => {
            let opened = checkpoint::open(&proof.checkpoint, key, &[]).map_err(|e| {
                format!("the receipt's checkpoint is not signed by the log key: {e}")
            })?;
            (opened.origin, opened.size, opened.root)
        }
        None => checkpoint::parse_unverified(&proof.checkpoint)
            .map_err(|e| format!("the receipt's checkpoint does not parse: {e}"))?,
    };
    if proof.index >= size {
        return Err(format!(
            "the receipt's index {} is not below its checkpoint's size {size}",
            proof.index
        ));
    }
    merkle::check_inclusion(
        &proof.path,
        size,
        &root,
        proof.index,
        &merkle::record_hash(entry),
    )
    .map_err(|e| format!("the receipt does not prove the entry: {e}"))?;
    let text = String::from_utf8(text.to_vec()).map_err(|_| "the receipt is not UTF-8")?;
    Ok(CheckedReceipt {
        origin,
        index: proof.index,
        size,
        signature_checked: log_key.is_some(),
        proof: text,
    })
}

/// Submit `submission` (the deterministic CBOR of a `seqprov.log-submission`) to the log
/// at `log` and return its receipt, checked against `entry` (the log entry the submission
/// makes, spec/log.md §2) as [`check_receipt`] does. Every failure is an
/// [`Error::Log`]: the log could not be reached, answered another status than 200 (the
/// status and the first line of its answer are named), answered more than
/// [`MAX_RECEIPT_BYTES`], or answered a receipt that does not check.
pub fn submit(
    log: &str,
    submission: &[u8],
    entry: &[u8],
    log_key: Option<&LogVerifier>,
    timeout: Duration,
) -> Result<CheckedReceipt> {
    let url = add_url(log)?;
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into();
    let mut response = agent
        .post(&url)
        .header("Content-Type", "application/cbor")
        .header("Accept", "text/plain")
        .send(submission)
        .map_err(|e| log_error(log, format!("cannot be reached: {e}")))?;
    let status = response.status();
    let body = response
        .body_mut()
        .with_config()
        .limit(MAX_RECEIPT_BYTES)
        .read_to_vec()
        .map_err(|e| log_error(log, format!("reading its answer (HTTP {status}): {e}")));
    if status != 200 {
        let line = body.as_deref().map(error_line).unwrap_or_default();
        return Err(log_error(
            log,
            format!("refused the submission: HTTP {status}: {line}"),
        ));
    }
    let body = body?;
    check_receipt(&body, entry, log_key)
        .map_err(|why| log_error(log, format!("{why}; nothing was stored")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_add_url_needs_http_and_drops_a_trailing_slash() {
        assert_eq!(
            add_url("http://127.0.0.1:8080/").unwrap(),
            "http://127.0.0.1:8080/add"
        );
        assert_eq!(
            add_url("https://log.example/seqprov").unwrap(),
            "https://log.example/seqprov/add"
        );
        assert!(add_url("/var/log/seqprov").is_err());
        assert!(add_url("ftp://x").is_err());
    }

    #[test]
    fn the_error_line_is_the_first_line_bounded() {
        assert_eq!(
            error_line(b"signer not allowed\nsecond"),
            "signer not allowed"
        );
        assert_eq!(error_line(b""), "");
        let long = vec![b'a'; 1000];
        assert_eq!(error_line(&long).chars().count(), MAX_ERROR_LINE_CHARS + 1);
        assert_eq!(error_line(b"\xff\x1b[2K"), "\u{fffd}\u{1b}[2K");
    }

    use ed25519_dalek::SigningKey;
    use seqprov_log::note_keys::LogSigner;
    use sha2::{Digest, Sha256};

    fn signer(seed: u8) -> LogSigner {
        LogSigner {
            origin: "lab.example.org/seqprov".into(),
            key: SigningKey::from_bytes(&[seed; 32]),
        }
    }

    /// A receipt of entry `index` (0 or 1) in the two-entry tree of `entries`.
    fn receipt(entries: [&[u8]; 2], index: usize, signer: &LogSigner) -> Vec<u8> {
        let leaves = entries.map(merkle::record_hash);
        let mut node = Sha256::new();
        node.update([1u8]);
        node.update(leaves[0]);
        node.update(leaves[1]);
        let root: [u8; 32] = node.finalize().into();
        TlogProof {
            index: index as u64,
            path: vec![leaves[1 - index]],
            checkpoint: checkpoint::sign(signer, 2, &root),
        }
        .to_text()
        .into_bytes()
    }

    #[test]
    fn a_receipt_proving_its_entry_under_the_log_key_is_accepted() {
        let log = signer(7);
        let text = receipt([b"first", b"second"], 1, &log);
        let checked = check_receipt(&text, b"second", Some(&log.verifier())).unwrap();
        assert_eq!(checked.index, 1);
        assert_eq!(checked.size, 2);
        assert_eq!(checked.origin, "lab.example.org/seqprov");
        assert!(checked.signature_checked);
        assert_eq!(checked.proof.as_bytes(), text.as_slice());
        // Without the key only the inclusion proof is checked.
        assert!(
            !check_receipt(&text, b"second", None)
                .unwrap()
                .signature_checked
        );
    }

    #[test]
    fn a_receipt_of_another_entry_another_key_or_garbage_is_refused() {
        let log = signer(7);
        let text = receipt([b"first", b"second"], 1, &log);
        let why = check_receipt(&text, b"first", Some(&log.verifier())).unwrap_err();
        assert!(why.contains("does not prove the entry"), "{why}");
        let why = check_receipt(&text, b"second", Some(&signer(8).verifier())).unwrap_err();
        assert!(why.contains("not signed by the log key"), "{why}");
        let why = check_receipt(b"HTTP/1.1 200 OK\n", b"second", None).unwrap_err();
        assert!(why.contains("does not parse"), "{why}");
        // An index at or beyond the checkpoint's size.
        let mut proof = TlogProof::parse(&text).unwrap();
        proof.index = 2;
        let why = check_receipt(proof.to_text().as_bytes(), b"second", None).unwrap_err();
        assert!(why.contains("not below"), "{why}");
    }

    #[test]
    fn an_unreachable_log_is_a_log_error() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let error = submit(
            &format!("http://127.0.0.1:{port}"),
            b"x",
            b"y",
            None,
            Duration::from_secs(5),
        )
        .unwrap_err();
        assert!(matches!(error, Error::Log { .. }), "{error}");
        assert!(error.to_string().contains("cannot be reached"), "{error}");
    }
}
