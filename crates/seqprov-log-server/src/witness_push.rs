//! The log's side of c2sp.org/tlog-witness (spec/log.md §6): sending a new checkpoint to a
//! witness with a consistency proof from the size the witness last cosigned, and taking
//! back its `cosignature/v1` lines.
//!
//! A 409 answer carries the witness's stored size: the request is sent again once from
//! that size. Only the lines of the expected witness key (name and key id) that verify
//! over the checkpoint body are kept; anything else in the answer is ignored. Every
//! exchange has a time limit and a bounded answer.

use std::time::Duration;

use base64ct::{Base64, Encoding};

use seqprov_log::checkpoint;
use seqprov_log::note_keys::WitnessVerifier;
use seqprov_log::{Hash, LogError};

/// Default time limit of one exchange with a witness.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// The largest witness answer read.
pub const MAX_ANSWER_LEN: u64 = 16 * 1024;

/// A witness the log asks to cosign.
#[derive(Clone, Debug)]
pub struct WitnessEndpoint {
    /// The submission prefix; requests go to `<url>/add-checkpoint`.
    pub url: String,
    /// The witness's key (vkey of type 0x04).
    pub verifier: WitnessVerifier,
    /// Time limit of one exchange.
    pub timeout: Duration,
}

/// Why a witness gave no cosignature.
#[derive(Debug, thiserror::Error)]
pub enum PushError {
    /// The witness could not be reached or did not answer in time.
    #[error("witness {url}: {detail}")]
    Unreachable {
        /// The URL asked.
        url: String,
        /// What failed.
        detail: String,
    },
    /// The witness refused the checkpoint (status and its one line, escaped).
    #[error("witness {url} refused the checkpoint: HTTP {status}: {detail}")]
    Refused {
        /// The URL asked.
        url: String,
        /// The HTTP status.
        status: u16,
        /// Its message.
        detail: String,
    },
    /// The witness answered 200 without a valid cosignature of its key.
    #[error("witness {url} answered without a valid cosignature of {name}")]
    NoCosignature {
        /// The URL asked.
        url: String,
        /// The witness name expected.
        name: String,
    },
    /// The checkpoint could not be read, or the consistency proof could not be made.
    #[error(transparent)]
    Log(#[from] LogError),
}

/// The cosignature lines a witness gave, and the size it now holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cosigned {
    /// The verified `cosignature/v1` lines (each ending in a newline).
    pub lines: Vec<String>,
    /// The size the witness cosigned (the checkpoint's): the next request's old size.
    pub size: u64,
}

/// The add-checkpoint body: `old <size>`, the proof lines, an empty line, the note.
pub fn request_body(old: u64, proof: &[Hash], note: &[u8]) -> Vec<u8> {
    let mut body = format!("old {old}\n").into_bytes();
    for hash in proof {
        body.extend_from_slice(Base64::encode_string(hash).as_bytes());
        body.push(b'\n');
    }
    body.push(b'\n');
    body.extend_from_slice(note);
    body
}

fn shown(text: &str) -> String {
    let line = text.lines().next().unwrap_or("");
    let cut: String = line.chars().take(200).collect();
    cut.escape_debug().to_string()
}

/// Asks one witness to cosign the checkpoint `note`. `old` is the size the log believes
/// the witness holds (0 when it does not know); `proof(old_size)` gives the consistency
/// proof from that size to the checkpoint's. On 409 the request is sent once more from
/// the size the witness answered.
pub fn cosign(
    endpoint: &WitnessEndpoint,
    note: &[u8],
    old: u64,
    proof: &dyn Fn(u64) -> Result<Vec<Hash>, LogError>,
) -> Result<Cosigned, PushError> {
    let (origin, size, root) = checkpoint::parse_unverified(note)?;
    let body = checkpoint::body(&origin, size, &root);
    let url = format!("{}/add-checkpoint", endpoint.url.trim_end_matches('/'));
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(endpoint.timeout))
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into();
    let mut old = old.min(size);
    for attempt in 0..2 {
        let proof_hashes = if old == 0 || old == size {
            Vec::new()
        } else {
            proof(old)?
        };
        let mut response = agent
            .post(&url)
            .header("Content-Type", "text/plain; charset=utf-8")
            .send(&request_body(old, &proof_hashes, note)[..])
            .map_err(|e| PushError::Unreachable {
                url: url.clone(),
                detail: e.to_string(),
            })?;
        let status = response.status().as_u16();
        let answer = response
            .body_mut()
            .with_config()
            .limit(MAX_ANSWER_LEN)
            .read_to_string()
            .map_err(|e| PushError::Unreachable {
                url: url.clone(),
                detail: format!("reading its answer: {e}"),
            })?;
        match status {
            200 => {
                let lines = verified_lines(&endpoint.verifier, body.as_bytes(), &answer);
                if lines.is_empty() {
                    return Err(PushError::NoCosignature {
                        url,
                        name: endpoint.verifier.name.clone(),
                    });
                }
                return Ok(Cosigned { lines, size });
            }
            409 if attempt == 0 => {
                let stored = answer
                    .strip_suffix('\n')
                    .and_then(|digits| digits.parse::<u64>().ok())
                    .filter(|&stored| stored <= size)
                    .ok_or_else(|| PushError::Refused {
                        url: url.clone(),
                        status,
                        detail: format!("its stored size {:?} is not usable", shown(&answer)),
                    })?;
                old = stored;
            }
            _ => {
                return Err(PushError::Refused {
                    url,
                    status,
                    detail: shown(&answer),
                });
            }
        }
    }
    Err(PushError::Refused {
        url,
        status: 409,
        detail: "the witness's size changed again".to_string(),
    })
}

/// The lines of `answer` that are valid `cosignature/v1` lines of `verifier` over `body`.
fn verified_lines(verifier: &WitnessVerifier, body: &[u8], answer: &str) -> Vec<String> {
    let mut lines = Vec::new();
    for line in answer.lines().take(16) {
        let Ok(signature) = signed_line(line) else {
            continue;
        };
        if signature.0 == verifier.name
            && signature.1 == verifier.key_id
            && verifier.verifies(body, &signature.2).is_some()
        {
            lines.push(format!("{line}\n"));
        }
    }
    lines
}

/// Splits `— <name> <base64>` into name, key id and the signature bytes after it.
fn signed_line(line: &str) -> Result<(String, [u8; 4], Vec<u8>), ()> {
    let rest = line.strip_prefix("\u{2014} ").ok_or(())?;
    let (name, b64) = rest.split_once(' ').ok_or(())?;
    let bytes = Base64::decode_vec(b64).map_err(|_| ())?;
    if bytes.len() < 5 {
        return Err(());
    }
    let mut id = [0u8; 4];
    id.copy_from_slice(&bytes[..4]);
    Ok((name.to_string(), id, bytes[4..].to_vec()))
}

/// `new_note` with the cosignature lines of `old_note` added for every witness of
/// `witnesses` that has a line in `old_note` and none in `new_note`, when both state the
/// same tree (a `cosignature/v1` signs the checkpoint body and its own time, so a line of
/// the same body stays valid); only lines that verify are carried over. When the bodies
/// differ, `new_note` is returned as it is.
pub fn carry_over_cosignatures(
    old_note: &[u8],
    new_note: &[u8],
    witnesses: &[WitnessVerifier],
) -> Result<Vec<u8>, LogError> {
    let (Some(old_text), Some(new_text)) = (note_text(old_note), note_text(new_note)) else {
        return Ok(new_note.to_vec());
    };
    if old_text != new_text {
        return Ok(new_note.to_vec());
    }
    let signed_by = |note: &[u8]| -> Vec<(String, [u8; 4])> {
        String::from_utf8_lossy(&note[old_text.len() + 1..])
            .lines()
            .filter_map(|line| signed_line(line).ok())
            .map(|(name, id, _)| (name, id))
            .collect()
    };
    let fresh = signed_by(new_note);
    let old_lines = String::from_utf8_lossy(&old_note[old_text.len() + 1..]).into_owned();
    let mut kept: Vec<String> = Vec::new();
    for verifier in witnesses {
        let key = (verifier.name.clone(), verifier.key_id);
        if fresh.contains(&key) {
            continue;
        }
        if let Some(line) = verified_lines(verifier, old_text, &old_lines)
            .into_iter()
            .next()
        {
            kept.push(line);
        }
    }
    if kept.is_empty() {
        return Ok(new_note.to_vec());
    }
    checkpoint::add_signature_lines(new_note, &kept)
}

/// The text of a note (its lines up to and with the newline before the empty line).
fn note_text(note: &[u8]) -> Option<&[u8]> {
    note.windows(2)
        .position(|w| w == b"\n\n")
        .map(|at| &note[..=at])
}

/// Asks every witness in turn and returns the lines to append to the checkpoint, with
/// each witness's result (its new size, or why it gave nothing). A witness that fails is
/// left out (spec/log.md §6).
pub fn cosign_all(
    endpoints: &[(WitnessEndpoint, u64)],
    note: &[u8],
    proof: &dyn Fn(u64) -> Result<Vec<Hash>, LogError>,
) -> (Vec<String>, Vec<Result<u64, PushError>>) {
    let mut lines = Vec::new();
    let mut results = Vec::new();
    for (endpoint, old) in endpoints {
        match cosign(endpoint, note, *old, proof) {
            Ok(cosigned) => {
                lines.extend(cosigned.lines);
                results.push(Ok(cosigned.size));
            }
            Err(e) => results.push(Err(e)),
        }
    }
    (lines, results)
}

/// The witnesses of one log, with the size each last cosigned: what `seqprov log serve
/// --witness URL --witness-key VKEY` runs for every new checkpoint. Consistency proofs
/// are read from the log's own hash tiles, which [`seqprov_log::log_dir::LogDir::append`]
/// makes durable before it asks for the checkpoint.
pub struct WitnessPusher {
    log_dir: std::path::PathBuf,
    witnesses: Vec<(WitnessEndpoint, u64)>,
    failures: Vec<(String, String)>,
}

impl WitnessPusher {
    /// Witnesses of the log in `log_dir` (its directory or its `public/`); each starts at
    /// size 0 (a witness that holds more answers 409 with its size).
    pub fn new(log_dir: &std::path::Path, witnesses: Vec<WitnessEndpoint>) -> WitnessPusher {
        WitnessPusher {
            log_dir: log_dir.to_path_buf(),
            witnesses: witnesses.into_iter().map(|w| (w, 0)).collect(),
            failures: Vec::new(),
        }
    }

    /// Asks every witness to cosign `note` (a signed checkpoint of this log) and returns
    /// the verified cosignature lines to append; witnesses that failed are left out and
    /// listed by [`WitnessPusher::failures`]. Fits `log_service::CosignCheckpoint`.
    pub fn cosign(&mut self, note: &[u8]) -> Vec<String> {
        self.failures.clear();
        let log_dir = self.log_dir.to_string_lossy().into_owned();
        let proof = |old: u64| -> Result<Vec<Hash>, LogError> {
            let (_, size, _) = checkpoint::parse_unverified(note)?;
            let source = seqprov_log::tile_source::open_source(&log_dir)?;
            let hashes = seqprov_log::tile_source::SourceHashes::new(&*source, size);
            seqprov_log::merkle::consistency_proof(&hashes, size, old)
        };
        let (lines, results) = cosign_all(&self.witnesses, note, &proof);
        for ((endpoint, size), result) in self.witnesses.iter_mut().zip(results) {
            match result {
                Ok(new_size) => *size = new_size,
                Err(e) => self.failures.push((endpoint.url.clone(), e.to_string())),
            }
        }
        lines
    }

    /// The witnesses (URL) that gave no cosignature in the last [`WitnessPusher::cosign`],
    /// and why.
    pub fn failures(&self) -> &[(String, String)] {
        &self.failures
    }
}
