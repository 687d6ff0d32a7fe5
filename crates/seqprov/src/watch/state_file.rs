//! The `--state` file of `seqprov watch`: when each run folder was first seen (so that
//! `--timeout` spans restarts and `--once` passes) and which runs were refused (so they
//! are not tried again). A JSON file, rewritten atomically after each change, held by
//! one watcher at a time (an exclusive `flock` on `FILE.lock`).

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The state file's format version.
pub const STATE_VERSION: u32 = 1;
/// Largest state file read, in bytes.
pub const MAX_STATE_BYTES: u64 = 64 << 20;

/// What is remembered of one run folder.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunState {
    /// When the run folder was first seen, seconds since the Unix epoch.
    pub first_seen: i64,
    /// Why it was refused, if it was (it is then not tried again).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refused: Option<String>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StateContents {
    version: u32,
    runs: BTreeMap<String, RunState>,
}

/// The state, in memory and (with a path) on disk.
#[derive(Debug, Default)]
pub struct WatchState {
    contents: StateContents,
    path: Option<PathBuf>,
    /// Held for the watcher's lifetime: the `flock` on `FILE.lock`.
    _lock: Option<File>,
}

impl WatchState {
    /// State kept in memory only (no `--state`).
    pub fn in_memory() -> WatchState {
        WatchState::default()
    }

    /// Open the state file at `path` (missing: empty state), taking its lock; exit 2 if
    /// another watcher holds it, or it cannot be read or parsed.
    pub fn open(path: &Path) -> Result<WatchState> {
        let mut lock_name = path.as_os_str().to_owned();
        lock_name.push(".lock");
        let lock_path = PathBuf::from(lock_name);
        let lock = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| Error::io(&lock_path, e))?;
        rustix::fs::flock(&lock, rustix::fs::FlockOperation::NonBlockingLockExclusive).map_err(
            |_| {
                Error::Refused(format!(
                    "{}: another seqprov watch uses this state file",
                    path.display()
                ))
            },
        )?;
        let contents = match seqprov_engine::bounded_read::read_regular_file(path, MAX_STATE_BYTES)
        {
            Ok(file) => {
                let contents: StateContents = serde_json::from_slice(&file.bytes).map_err(|e| {
                    Error::Refused(format!("{}: not a watch state file: {e}", path.display()))
                })?;
                if contents.version != STATE_VERSION {
                    return Err(Error::Refused(format!(
                        "{}: state file version {} is not {STATE_VERSION}",
                        path.display(),
                        contents.version
                    )));
                }
                contents
            }
            Err(seqprov_engine::EngineError::Io { source, .. })
                if source.kind() == std::io::ErrorKind::NotFound =>
            {
                StateContents {
                    version: STATE_VERSION,
                    runs: BTreeMap::new(),
                }
            }
            Err(e) => return Err(e.into()),
        };
        Ok(WatchState {
            contents,
            path: Some(path.to_path_buf()),
            _lock: Some(lock),
        })
    }

    /// What is remembered of `run_dir`.
    pub fn get(&self, run_dir: &Path) -> Option<&RunState> {
        self.contents.runs.get(&key(run_dir))
    }

    /// Remember `run_dir`'s state and save.
    pub fn set(&mut self, run_dir: &Path, state: RunState) -> Result<()> {
        if self.contents.runs.get(&key(run_dir)) == Some(&state) {
            return Ok(());
        }
        self.contents.runs.insert(key(run_dir), state);
        self.save()
    }

    /// Forget `run_dir` (it was sealed, or is gone) and save.
    pub fn forget(&mut self, run_dir: &Path) -> Result<()> {
        if self.contents.runs.remove(&key(run_dir)).is_some() {
            self.save()?;
        }
        Ok(())
    }

    fn save(&self) -> Result<()> {
        let Some(path) = &self.path else {
            return Ok(());
        };
        let mut bytes = serde_json::to_vec_pretty(&self.contents)
            .map_err(|e| Error::Refused(format!("{}: {e}", path.display())))?;
        bytes.push(b'\n');
        crate::bundle_file::write_atomically(path, &bytes, crate::Overwrite::Replace)
    }
}

fn key(run_dir: &Path) -> String {
    run_dir.display().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_across_opens_and_is_held_by_one_watcher() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("watch.json");
        let run = Path::new("/data/run1");
        {
            let mut state = WatchState::open(&path).unwrap();
            assert!(state.get(run).is_none());
            state
                .set(
                    run,
                    RunState {
                        first_seen: 42,
                        refused: Some("no".into()),
                    },
                )
                .unwrap();
            let second = WatchState::open(&path).unwrap_err();
            assert!(
                second.to_string().contains("another seqprov watch"),
                "{second}"
            );
        }
        let state = WatchState::open(&path).unwrap();
        assert_eq!(state.get(run).unwrap().first_seen, 42);
        std::fs::write(&path, "{\"version\":1,\"runs\":{},\"x\":1}").unwrap();
        drop(state);
        assert!(WatchState::open(&path).is_err());
    }
}
