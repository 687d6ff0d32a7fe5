//! Sealing a directory: walk, hash, build entries, Merkle root, sign, encode the bundle.

use std::path::Path;

use rayon::prelude::*;
use zeroize::Zeroizing;

use crate::cose;
use crate::entry_list;
use crate::error::{Error, Result};
use crate::hashing::{self, FileDigests, HashOptions, Progress};
use crate::keys::PrivateKey;
use crate::manifest::{
    Bytes32, Entry, EntryKind, FORMAT_VERSION, SEAL_CONTENT_TYPE, SEAL_FORMAT, SealPayload,
    SignerInfo, Subject, format_time,
};
use crate::merkle;
use crate::walk::{self, NodeKind};

/// Name and version written in the `tool` field of seals.
pub const TOOL: &str = concat!("seqprov ", env!("CARGO_PKG_VERSION"));
/// Role recorded when none is given.
pub const DEFAULT_ROLE: &str = "sealer";
/// Meaning recorded when none is given.
pub const DEFAULT_MEANING: &str = "authorship: sealed as received from the instrument";

/// How to seal.
#[derive(Clone, Debug)]
pub struct SealOptions {
    /// Printed name of the signer; defaults to the key file's `Signer:` name, then to
    /// `key <first 16 hex digits of the key id>`.
    pub signer_name: Option<String>,
    /// Role of the signer.
    pub role: String,
    /// Meaning of the signature.
    pub meaning: String,
    /// Digests and read mode.
    pub hash: HashOptions,
    /// Seal time to record; `None` means now. Injected by test vectors.
    pub time: Option<time::OffsetDateTime>,
    /// The input this data was derived from, recorded in the seal.
    pub derived_from: Option<crate::manifest::DerivedFrom>,
    /// Seed from which entry salts are derived; `None` means fresh random bytes.
    /// Only test vectors fix it: a known seed makes salts guessable.
    pub salt_seed: Option<[u8; 32]>,
}

impl Default for SealOptions {
    fn default() -> Self {
        SealOptions {
            signer_name: None,
            role: DEFAULT_ROLE.into(),
            meaning: DEFAULT_MEANING.into(),
            hash: HashOptions::default(),
            time: None,
            derived_from: None,
            salt_seed: None,
        }
    }
}

/// A finished seal, ready to be written.
#[derive(Clone, Debug)]
pub struct Sealed {
    /// The complete bundle bytes.
    pub bundle: Vec<u8>,
    /// The signed payload.
    pub payload: SealPayload,
    /// The entries, sorted by path.
    pub entries: Vec<Entry>,
}

/// Refuse a bundle path inside the directory being sealed.
pub fn check_bundle_outside(dir: &Path, bundle_path: &Path) -> Result<()> {
    let dir_real = dir.canonicalize().map_err(|e| Error::io(dir, e))?;
    let absolute = std::path::absolute(bundle_path).map_err(|e| Error::io(bundle_path, e))?;
    let parent = absolute.parent().unwrap_or(Path::new("/"));
    let parent_real = parent.canonicalize().map_err(|e| Error::io(parent, e))?;
    if parent_real.starts_with(&dir_real) {
        return Err(Error::Refused(format!(
            "the bundle {} would be written inside the sealed directory {}; choose another --out",
            bundle_path.display(),
            dir.display()
        )));
    }
    Ok(())
}

/// Seal `dir` with `key`.
pub fn seal_directory(
    dir: &Path,
    key: &PrivateKey,
    options: &SealOptions,
    progress: &dyn Progress,
) -> Result<Sealed> {
    let (tree, nodes) = walk::walk(dir)?;
    for node in &nodes {
        if let Some(why) = &node.name_error {
            return Err(Error::UnsealableTree {
                path: node.full.clone(),
                reason: why.clone(),
            });
        }
        if let NodeKind::Symlink {
            target: Err(escaped),
        } = &node.kind
        {
            return Err(Error::UnsealableTree {
                path: node.full.clone(),
                reason: format!(
                    "symlink target is not valid UTF-8 (bytes: \"{escaped}\"); seqprov refuses such targets"
                ),
            });
        }
        if let NodeKind::Special(kind) = node.kind {
            return Err(Error::UnsealableTree {
                path: node.full.clone(),
                reason: format!(
                    "is a {kind}; seqprov seals regular files, symlinks and empty directories only"
                ),
            });
        }
    }

    let mut files: Vec<(usize, u64)> = nodes
        .iter()
        .enumerate()
        .filter_map(|(i, n)| match n.kind {
            NodeKind::File { size, .. } => Some((i, size)),
            _ => None,
        })
        .collect();
    files.sort_by_key(|f| std::cmp::Reverse(f.1));
    progress.set_total(files.iter().map(|f| f.1).sum());
    let mut digests: Vec<Option<FileDigests>> = vec![None; nodes.len()];
    let hashed: Vec<(usize, FileDigests)> = files
        .par_iter()
        .with_max_len(1)
        .map(|&(i, _)| {
            let node = &nodes[i];
            let NodeKind::File { stamp, .. } = node.kind else {
                unreachable!("only files are hashed")
            };
            hashing::hash_in_tree(
                &tree,
                &node.relative,
                &node.full,
                stamp,
                options.hash,
                progress,
            )
            .map(|d| (i, d))
        })
        .collect::<Result<_>>()?;
    for (i, d) in hashed {
        digests[i] = Some(d);
    }

    let seed = Zeroizing::new(match options.salt_seed {
        Some(seed) => seed,
        None => random_seed()?,
    });
    let mut entries: Vec<Entry> = nodes
        .iter()
        .zip(&digests)
        .filter_map(|(node, digest)| {
            let salt = Bytes32(*blake3::keyed_hash(&seed, node.path.as_bytes()).as_bytes());
            let base = Entry {
                path: node.path.clone(),
                kind: EntryKind::File,
                salt,
                size: None,
                blake3: None,
                sha256: None,
                target: None,
            };
            match &node.kind {
                NodeKind::File { .. } => {
                    let d = digest.expect("every file was hashed");
                    Some(Entry {
                        size: Some(d.size),
                        blake3: Some(Bytes32(d.blake3)),
                        sha256: d.sha256.map(Bytes32),
                        ..base
                    })
                }
                NodeKind::Symlink { target } => Some(Entry {
                    kind: EntryKind::Symlink,
                    target: Some(
                        target
                            .clone()
                            .expect("non-UTF-8 targets were refused above"),
                    ),
                    ..base
                }),
                NodeKind::Dir { empty: true } => Some(Entry {
                    kind: EntryKind::Dir,
                    ..base
                }),
                NodeKind::Dir { empty: false } | NodeKind::Special(_) => None,
            }
        })
        .collect();
    entries.par_sort_unstable_by(|a, b| a.path.as_bytes().cmp(b.path.as_bytes()));
    for entry in &entries {
        entry.validate().map_err(|reason| Error::UnsealableTree {
            path: dir.join(&entry.path),
            reason,
        })?;
    }

    let subject_name = std::path::absolute(dir)
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_default();
    Ok(sign_entries(entries, &subject_name, key, options))
}

/// Build and sign a bundle from entries as given: no sorting, no validation.
///
/// [`seal_directory`] calls this after it has checked everything. It is public so that
/// tests and tools can build bundles exactly as an attacker holding a trusted key could
/// (for example with a `..` path), to show that verification rejects them.
pub fn sign_entries(
    entries: Vec<Entry>,
    subject_name: &str,
    key: &PrivateKey,
    options: &SealOptions,
) -> Sealed {
    let encoded: Vec<Vec<u8>> = entries.par_iter().map(Entry::to_cbor).collect();
    let root = merkle::root(&merkle::leaf_hashes(&encoded));
    let public = key.public();
    let signer_name = options
        .signer_name
        .clone()
        .or_else(|| key.signer_name.clone())
        .unwrap_or_else(|| format!("key {}", &public.id().to_hex()[..16]));
    let payload = SealPayload {
        format: SEAL_FORMAT.into(),
        version: FORMAT_VERSION,
        tool: TOOL.into(),
        time: format_time(options.time.unwrap_or_else(time::OffsetDateTime::now_utc)),
        signer: SignerInfo {
            name: signer_name,
            role: options.role.clone(),
            meaning: options.meaning.clone(),
            public_key: Bytes32(public.to_bytes()),
        },
        subject: Subject {
            name: subject_name.to_string(),
            kind: "directory".into(),
        },
        entries: entries.len() as u64,
        files: entries.iter().filter(|e| e.kind == EntryKind::File).count() as u64,
        bytes: entries.iter().filter_map(|e| e.size).sum(),
        digests: if options.hash.sha256 {
            vec!["blake3".into(), "sha256".into()]
        } else {
            vec!["blake3".into()]
        },
        root: Bytes32(root),
        derived_from: options.derived_from.clone(),
    };
    let mut bundle = cose::sign(payload.to_cbor(), SEAL_CONTENT_TYPE, key);
    bundle.extend_from_slice(&entry_list::encode(&encoded));
    Sealed {
        bundle,
        payload,
        entries,
    }
}

fn random_seed() -> Result<[u8; 32]> {
    let mut seed = [0u8; 32];
    getrandom::getrandom(&mut seed).map_err(|e| {
        Error::io(
            "random source",
            std::io::Error::other(format!("getrandom failed: {e}")),
        )
    })?;
    Ok(seed)
}
