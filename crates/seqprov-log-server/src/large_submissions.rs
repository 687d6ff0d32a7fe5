//! A gate for large submissions: at most [`AT_ONCE`] submissions over [`LARGE`] bytes
//! are read and checked at a time.
//!
//! Why: a submission carries a seal of up to 16 MiB, and checking it decodes the seal's
//! CBOR into a tree before any signature can be checked (the signer's key is inside it).
//! A hostile seal of one-byte items takes about 35 times its size in memory (a 16 MiB
//! seal: 560 MB) and seconds of CPU; sixteen workers doing that at once would take the
//! host's memory. Small submissions (custody events, ordinary seals) never wait here.

use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

/// Submissions whose `Content-Length` is over this many bytes pass the gate.
pub const LARGE: usize = 1 << 20;

/// How many large submissions are read and checked at once.
pub const AT_ONCE: usize = 2;

/// How long a large submission waits for its turn before it is answered 503.
pub const WAIT: Duration = Duration::from_secs(30);

/// The gate: how many large submissions are in progress.
#[derive(Default)]
pub struct LargeSubmissions {
    in_progress: Mutex<usize>,
    freed: Condvar,
}

/// A turn through the gate, given back when dropped.
pub struct Turn<'a> {
    gate: &'a LargeSubmissions,
}

impl LargeSubmissions {
    /// Waits at most `wait` for a turn; `None` if none came free.
    pub fn turn(&self, wait: Duration) -> Option<Turn<'_>> {
        let until = Instant::now() + wait;
        let mut in_progress = self
            .in_progress
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        while *in_progress >= AT_ONCE {
            let left = until.checked_duration_since(Instant::now())?;
            in_progress = self
                .freed
                .wait_timeout(in_progress, left)
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .0;
        }
        *in_progress += 1;
        Some(Turn { gate: self })
    }
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        let mut in_progress = self
            .gate
            .in_progress
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *in_progress -= 1;
        self.gate.freed.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_most_two_turns_at_once_and_a_freed_turn_is_given_again() {
        let gate = LargeSubmissions::default();
        let first = gate.turn(Duration::ZERO).expect("first");
        let _second = gate.turn(Duration::ZERO).expect("second");
        assert!(gate.turn(Duration::from_millis(20)).is_none());
        drop(first);
        assert!(gate.turn(Duration::ZERO).is_some());
    }
}
