//! Waiting for a run folder to be complete (`seal --wait`, `watch`): a pipeline step can
//! start sealing as soon as the copy from the instrument has finished.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::run_info;
use crate::run_layout;

/// Waiting for a run folder gave up (an I/O error, exit 2, naming what was missing).
#[derive(Debug, thiserror::Error)]
#[error("{}: {source}", path.display())]
pub struct WaitError {
    /// The run folder waited on.
    pub path: PathBuf,
    /// What was still missing when time ran out (kind `TimedOut`).
    pub source: std::io::Error,
}

/// Where a run folder stands on its way to being complete (one look, no waiting).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Completion {
    /// The folder holds a readable `RunInfo.xml` and its family's final marker, at this
    /// path.
    Complete(PathBuf),
    /// Still missing: a description of what (the marker's path, `RunInfo.xml`, or a
    /// readable `RunInfo.xml` with the reason it does not parse yet).
    Waiting(String),
}

/// Look once whether `dir` holds a readable `RunInfo.xml` and the completion marker of
/// its layout family (see `spec/run-folders.md` §4). A `RunInfo.xml` that does not parse
/// yet (it may still be being copied) counts as waiting, not as an error.
pub fn completion_state(dir: &Path) -> Completion {
    match run_info::read_run_folder(dir) {
        Ok(Some(meta)) => {
            let marker = dir.join(run_layout::family_from_metadata(&meta).final_marker());
            if marker.is_file() {
                Completion::Complete(marker)
            } else {
                Completion::Waiting(marker.display().to_string())
            }
        }
        Ok(None) => Completion::Waiting(format!("{}", dir.join("RunInfo.xml").display())),
        Err(e) => Completion::Waiting(format!("a readable RunInfo.xml ({e})")),
    }
}

/// Wait until `dir` holds a readable `RunInfo.xml` and the completion marker of its layout
/// family (see `spec/run-folders.md`), polling every `poll`; give up after `timeout`.
///
/// Returns the marker's path. Timing out is an I/O error (exit 2) that says what was
/// still missing.
pub fn wait_for_completion(
    dir: &Path,
    timeout: Duration,
    poll: Duration,
) -> Result<PathBuf, WaitError> {
    let started = Instant::now();
    loop {
        let waiting_for = match completion_state(dir) {
            Completion::Complete(marker) => return Ok(marker),
            Completion::Waiting(what) => what,
        };
        if started.elapsed() >= timeout {
            return Err(WaitError {
                path: dir.to_path_buf(),
                source: std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    format!(
                        "gave up after {}s waiting for {waiting_for}",
                        timeout.as_secs()
                    ),
                ),
            });
        }
        std::thread::sleep(
            poll.min(timeout.saturating_sub(started.elapsed()))
                .max(Duration::from_millis(10)),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RUN_INFO: &str = r#"<?xml version="1.0"?>
<RunInfo Version="2"><Run Id="R1" Number="1"><Flowcell>F</Flowcell><Instrument>M1</Instrument>
<Date>160919</Date><Reads><Read Number="1" NumCycles="1" IsIndexedRead="N"/></Reads>
<FlowcellLayout LaneCount="1" SurfaceCount="1" SwathCount="1" TileCount="1"/></Run></RunInfo>"#;

    #[test]
    fn returns_once_the_marker_appears() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("RunInfo.xml"), RUN_INFO).unwrap();
        let meta = run_info::read_run_folder(dir.path()).unwrap().unwrap();
        let marker = run_layout::family_from_metadata(&meta).final_marker();
        let path = dir.path().join(marker);
        let writer = {
            let path = path.clone();
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(150));
                std::fs::write(path, "done").unwrap();
            })
        };
        let found = wait_for_completion(
            dir.path(),
            Duration::from_secs(20),
            Duration::from_millis(20),
        )
        .unwrap();
        writer.join().unwrap();
        assert_eq!(found, path);
    }

    #[test]
    fn times_out_naming_what_is_missing() {
        let dir = tempfile::tempdir().unwrap();
        let err = wait_for_completion(
            dir.path(),
            Duration::from_millis(100),
            Duration::from_millis(20),
        )
        .unwrap_err();
        assert!(err.to_string().contains("RunInfo.xml"), "{err}");
        assert_eq!(err.source.kind(), std::io::ErrorKind::TimedOut);
    }
}
