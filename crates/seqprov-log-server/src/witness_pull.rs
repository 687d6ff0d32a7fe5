//! The witness's pull mode (spec/log.md §6.3): `seqprov log witness --log URL_OR_DIR`
//! reads a log's latest checkpoint and tiles itself, builds the add-checkpoint request
//! the log would have sent, and hands it to the same [`Witness::add_checkpoint`] a
//! listening witness runs. Nothing read from the log is trusted: the checkpoint must be
//! signed by a log key the witness follows, and the consistency proof built from the
//! source's tiles must check against the tree the witness cosigned last.

use seqprov_log::checkpoint::{self, MAX_CHECKPOINT_LEN};
use seqprov_log::merkle;
use seqprov_log::tile_source::{SourceHashes, TileSource};

use crate::witness_push::request_body;
use crate::witness_service::Witness;

/// What one pull ended with.
#[derive(Debug, PartialEq, Eq)]
pub enum PullOutcome {
    /// Cosigned: the checkpoint as read with the witness's cosignature line appended.
    Cosigned {
        /// The log's origin.
        origin: String,
        /// The tree size cosigned.
        size: u64,
        /// The tree size the witness had cosigned before (0 for none).
        previous: u64,
        /// The checkpoint note followed by the new `cosignature/v1` line (ending in a
        /// newline).
        note: Vec<u8>,
    },
}

/// Why a pull did not end in a cosignature.
#[derive(Debug, thiserror::Error)]
pub enum PullError {
    /// The log could not be read (exit 2).
    #[error("reading the log {log}: {detail}")]
    Unreadable {
        /// The log as given.
        log: String,
        /// Why.
        detail: String,
    },
    /// The checkpoint is not signed by a log the witness follows (exit 3).
    #[error("the log {log}: {detail}")]
    Untrusted {
        /// The log as given.
        log: String,
        /// Why.
        detail: String,
    },
    /// The checkpoint does not extend the tree the witness cosigned (a fork, or the
    /// source served wrong tiles): nothing is cosigned (exit 1).
    #[error("the log {log}: {detail}")]
    Inconsistent {
        /// The log as given.
        log: String,
        /// Why.
        detail: String,
    },
    /// The witness refused for another reason (its status and reason).
    #[error("the log {log}: the witness refused ({status}): {detail}")]
    Refused {
        /// The log as given.
        log: String,
        /// The HTTP status the witness service would have answered.
        status: u16,
        /// Its reason.
        detail: String,
    },
}

/// Pull the latest checkpoint of the log at `source` (described as `log`) into
/// `witness`, cosigning it at POSIX `time` if it is signed by a followed log and extends
/// the tree cosigned last.
pub fn pull(
    witness: &Witness,
    source: &dyn TileSource,
    log: &str,
    time: u64,
) -> Result<PullOutcome, PullError> {
    let unreadable = |detail: String| PullError::Unreadable {
        log: log.to_owned(),
        detail,
    };
    let note = source
        .get("checkpoint", MAX_CHECKPOINT_LEN)
        .map_err(|e| unreadable(format!("its checkpoint: {e}")))?;
    let (origin, _, _) = checkpoint::parse_unverified(&note)
        .map_err(|e| unreadable(format!("its checkpoint: {e}")))?;
    let Some(key) = witness.followed_log(&origin) else {
        return Err(PullError::Untrusted {
            log: log.to_owned(),
            detail: format!("its origin {origin:?} is not a log this witness follows (--log-key)"),
        });
    };
    let opened = checkpoint::open(&note, &key, &[]).map_err(|e| PullError::Untrusted {
        log: log.to_owned(),
        detail: format!("its checkpoint does not verify with the log key of {origin:?}: {e}"),
    })?;
    let previous = witness.witnessed(&origin).map_or(0, |tree| tree.size);
    if previous > opened.size {
        return Err(PullError::Inconsistent {
            log: log.to_owned(),
            detail: format!(
                "it serves a tree of {} entries, smaller than the {previous} this witness \
                 cosigned (a rollback or a stale copy)",
                opened.size
            ),
        });
    }
    let proof = if previous == 0 || previous == opened.size {
        Vec::new()
    } else {
        let hashes = SourceHashes::new(source, opened.size);
        merkle::consistency_proof(&hashes, opened.size, previous)
            .map_err(|e| unreadable(format!("its tiles: {e}")))?
    };
    let answer = witness.add_checkpoint(&request_body(previous, &proof, &note), time);
    match answer.status {
        200 => {
            let mut cosigned = opened.note.clone();
            cosigned.extend_from_slice(answer.body.as_bytes());
            Ok(PullOutcome::Cosigned {
                origin,
                size: opened.size,
                previous,
                note: cosigned,
            })
        }
        422 => Err(PullError::Inconsistent {
            log: log.to_owned(),
            detail: answer.body.trim_end().to_owned(),
        }),
        403 | 404 => Err(PullError::Untrusted {
            log: log.to_owned(),
            detail: answer.body.trim_end().to_owned(),
        }),
        status => Err(PullError::Refused {
            log: log.to_owned(),
            status,
            detail: answer.body.trim_end().to_owned(),
        }),
    }
}
