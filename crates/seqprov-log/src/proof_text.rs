//! `c2sp.org/tlog-proof@v1` receipts (spec/log.md §7).
//!
//! The grammar is parsed strictly: every line before the checkpoint is ASCII and ends in a
//! newline, the index has no leading zeros, each proof line is the canonical base64 of
//! exactly 32 bytes, and at most 64 of them (the deepest tree of 2^64 leaves). The
//! checkpoint after the empty line must be a well-formed checkpoint note; its signatures
//! are checked by [`crate::checkpoint::open`].

use base64ct::{Base64, Encoding};

use crate::checkpoint::{parse_decimal, parse_hash, parse_unverified};
use crate::{Hash, LogError};

/// The largest receipt text accepted.
pub const MAX_PROOF_LEN: usize = 65_536;

/// The first line of every receipt.
pub const HEADER: &str = "c2sp.org/tlog-proof@v1";

/// The most inclusion proof lines (a tree of at most 2^64 leaves).
pub const MAX_PROOF_HASHES: usize = 64;

fn malformed(detail: impl Into<String>) -> LogError {
    LogError::Malformed {
        what: "tlog-proof",
        detail: detail.into(),
    }
}

/// At most 40 bytes of a line, escaped, for an error message.
fn shown(line: &[u8]) -> String {
    let cut = &line[..line.len().min(40)];
    let mut escaped = cut.escape_ascii().to_string();
    if cut.len() < line.len() {
        escaped.push('…');
    }
    escaped
}

/// A parsed receipt. Its checkpoint is not yet verified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlogProof {
    /// The entry's index.
    pub index: u64,
    /// The inclusion proof, from the leaf's sibling up.
    pub path: Vec<Hash>,
    /// The checkpoint note, verbatim.
    pub checkpoint: Vec<u8>,
}

impl TlogProof {
    /// The receipt text (no `extra` line).
    pub fn to_text(&self) -> String {
        let mut text = format!("{HEADER}\nindex {}\n", self.index);
        for hash in &self.path {
            text.push_str(&Base64::encode_string(hash));
            text.push('\n');
        }
        text.push('\n');
        text.push_str(&String::from_utf8_lossy(&self.checkpoint));
        text
    }

    /// Parses a receipt: first line exactly `c2sp.org/tlog-proof@v1`, an optional `extra`
    /// line (ignored), `index N` without leading zeros, at most 64 base64 hash lines, an
    /// empty line and the checkpoint; at most [`MAX_PROOF_LEN`] bytes.
    pub fn parse(text: &[u8]) -> Result<TlogProof, LogError> {
        if text.len() > MAX_PROOF_LEN {
            return Err(malformed(format!(
                "{} bytes, longer than {MAX_PROOF_LEN}",
                text.len()
            )));
        }
        let mut rest = text;
        let mut next_line = |what: &str| -> Result<&[u8], LogError> {
            let end = rest
                .iter()
                .position(|&b| b == b'\n')
                .ok_or_else(|| malformed(format!("ends before {what}")))?;
            let line = &rest[..end];
            rest = &rest[end + 1..];
            Ok(line)
        };
        let header = next_line("the header line")?;
        if header != HEADER.as_bytes() {
            return Err(malformed(format!(
                "first line \"{}\" is not {HEADER}",
                shown(header)
            )));
        }
        let mut line = next_line("the index line")?;
        if let Some(extra) = line.strip_prefix(b"extra ") {
            // Unauthenticated and unused by seqprov: checked for shape, then ignored.
            if extra.is_empty() || Base64::decode_vec(&String::from_utf8_lossy(extra)).is_err() {
                return Err(malformed(format!(
                    "extra line \"{}\" is not base64",
                    shown(line)
                )));
            }
            line = next_line("the index line")?;
        }
        let index = line
            .strip_prefix(b"index ")
            .and_then(|digits| std::str::from_utf8(digits).ok())
            .and_then(parse_decimal)
            .ok_or_else(|| {
                malformed(format!(
                    "\"{}\" is not \"index N\" (decimal, no leading zeros)",
                    shown(line)
                ))
            })?;
        let mut path = Vec::new();
        loop {
            let line = next_line("the empty line before the checkpoint")?;
            if line.is_empty() {
                break;
            }
            if path.len() == MAX_PROOF_HASHES {
                return Err(malformed(format!(
                    "more than {MAX_PROOF_HASHES} inclusion proof lines"
                )));
            }
            let hash = std::str::from_utf8(line)
                .ok()
                .and_then(parse_hash)
                .ok_or_else(|| {
                    malformed(format!(
                        "proof line \"{}\" is not the base64 of 32 bytes",
                        shown(line)
                    ))
                })?;
            path.push(hash);
        }
        let checkpoint = rest.to_vec();
        parse_unverified(&checkpoint)?;
        Ok(TlogProof {
            index,
            path,
            checkpoint,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checkpoint::sign;
    use crate::note_keys::LogSigner;
    use ed25519_dalek::SigningKey;

    fn checkpoint() -> Vec<u8> {
        let signer = LogSigner {
            origin: "lab.example.org/seqprov".to_string(),
            key: SigningKey::from_bytes(&[1u8; 32]),
        };
        sign(&signer, 3, &[5u8; 32])
    }

    fn proof() -> TlogProof {
        TlogProof {
            index: 2,
            path: vec![[1u8; 32], [2u8; 32]],
            checkpoint: checkpoint(),
        }
    }

    #[test]
    fn text_round_trips() {
        let proof = proof();
        let text = proof.to_text();
        assert!(text.starts_with(
            "c2sp.org/tlog-proof@v1\nindex 2\nAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=\n\
             AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI=\n\nlab.example.org/seqprov\n3\n"
        ));
        assert_eq!(TlogProof::parse(text.as_bytes()).unwrap(), proof);
        let empty_path = TlogProof {
            index: 0,
            path: vec![],
            checkpoint: checkpoint(),
        };
        assert_eq!(
            TlogProof::parse(empty_path.to_text().as_bytes()).unwrap(),
            empty_path
        );
    }

    #[test]
    fn extra_line_is_ignored() {
        let text = proof()
            .to_text()
            .replacen("index 2", "extra aGVsbG8=\nindex 2", 1);
        assert_eq!(TlogProof::parse(text.as_bytes()).unwrap(), proof());
    }

    #[test]
    fn grammar_violations_are_refused() {
        let good = proof().to_text();
        let hash_line = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=\n";
        let too_many = good.replacen(hash_line, &hash_line.repeat(65), 1);
        let cases = [
            (
                good.replacen("@v1", "@v2", 1),
                "is not c2sp.org/tlog-proof@v1",
            ),
            (
                good.replacen("index 2", "index 02", 1),
                "is not \"index N\"",
            ),
            (
                good.replacen("index 2", "index -2", 1),
                "is not \"index N\"",
            ),
            (
                good.replacen("index 2", "index  2", 1),
                "is not \"index N\"",
            ),
            (
                good.replacen("index 2", "index 18446744073709551616", 1),
                "is not \"index N\"",
            ),
            (
                good.replacen("index 2", "extra !!\nindex 2", 1),
                "extra line",
            ),
            (
                good.replacen(hash_line, "AQEB\n", 1),
                "is not the base64 of 32 bytes",
            ),
            (
                good.replacen(
                    hash_line,
                    "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQF=\n",
                    1,
                ),
                "is not the base64 of 32 bytes",
            ),
            (
                good.replacen(
                    hash_line,
                    "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQ==\n",
                    1,
                ),
                "is not the base64 of 32 bytes",
            ),
            (too_many, "more than 64 inclusion proof lines"),
            (
                "c2sp.org/tlog-proof@v1\nindex 2\n".to_string(),
                "ends before the empty line",
            ),
            (
                "c2sp.org/tlog-proof@v1".to_string(),
                "ends before the header line",
            ),
            (good.replacen("\n\nlab", "\n\nother\nlab", 1), "checkpoint"),
            (good.replace("\n\u{2014}", "\nx"), "checkpoint"),
        ];
        for (text, expected) in cases {
            let err = TlogProof::parse(text.as_bytes()).unwrap_err().to_string();
            assert!(err.contains(expected), "{text:?}: {err}");
        }
        let long = format!("{good}{}", "x".repeat(MAX_PROOF_LEN));
        let err = TlogProof::parse(long.as_bytes()).unwrap_err().to_string();
        assert!(err.contains("longer than 65536"), "{err}");
    }

    #[test]
    fn sixty_four_hashes_are_accepted() {
        let proof = TlogProof {
            index: u64::MAX - 1,
            path: vec![[9u8; 32]; 64],
            checkpoint: checkpoint(),
        };
        assert_eq!(TlogProof::parse(proof.to_text().as_bytes()).unwrap(), proof);
    }
}
