//! A terminal progress bar (bytes, rate, ETA) on stderr, shown only on a terminal; with
//! `SEQPROV_TIMINGS` set, a line of how long each phase of the work took.

use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Progress sink backed by an `indicatif` bar; hidden when stderr is not a terminal.
pub struct TerminalProgress {
    bar: ProgressBar,
    /// Decided once: a hidden bar is not updated at all (its updates still take a lock,
    /// once per file, which shows on trees of many small files).
    visible: bool,
    /// With `SEQPROV_TIMINGS` set (non-empty): each phase and when it began.
    timings: Option<Mutex<Vec<(&'static str, Instant)>>>,
}

impl TerminalProgress {
    /// A bar with the given verb, or a hidden one if `quiet` or stderr is not a terminal.
    pub fn new(verb: &str, quiet: bool) -> TerminalProgress {
        let bar = if quiet || !std::io::stderr().is_terminal() {
            ProgressBar::hidden()
        } else {
            let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template(
                    "{prefix} [{bar:30}] {bytes}/{total_bytes} {binary_bytes_per_sec} ETA {eta}",
                )
                .expect("static template is valid")
                .progress_chars("=> "),
            );
            bar.set_prefix(verb.to_string());
            bar
        };
        let visible = !bar.is_hidden();
        let timings = std::env::var_os("SEQPROV_TIMINGS")
            .is_some_and(|v| !v.is_empty())
            .then(|| Mutex::new(vec![("start", Instant::now())]));
        TerminalProgress {
            bar,
            visible,
            timings,
        }
    }

    /// Remove the bar from the terminal.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }

    /// With `SEQPROV_TIMINGS` set, print how long each phase took, on stderr:
    /// `seqprov: timings: walk 0.180 s, checks 0.007 s, …, total 1.100 s`.
    pub fn report_timings(&self) {
        let Some(timings) = &self.timings else {
            return;
        };
        let mut marks = timings.lock().expect("timings lock").clone();
        marks.push(("end", Instant::now()));
        let parts: Vec<String> = marks
            .windows(2)
            .filter(|pair| pair[0].0 != "start")
            .map(|pair| {
                let seconds = pair[1].1.duration_since(pair[0].1).as_secs_f64();
                format!("{} {seconds:.3} s", pair[0].0)
            })
            .collect();
        let total = marks[marks.len() - 1].1.duration_since(marks[0].1);
        eprintln!(
            "seqprov: timings: {}, total {:.3} s",
            parts.join(", "),
            total.as_secs_f64()
        );
    }
}

impl seqprov::Progress for TerminalProgress {
    fn set_total(&self, bytes: u64) {
        self.bar.set_length(bytes);
    }

    fn advance(&self, bytes: u64) {
        if self.visible {
            self.bar.inc(bytes);
        }
    }

    fn phase(&self, name: &'static str) {
        if let Some(timings) = &self.timings {
            timings
                .lock()
                .expect("timings lock")
                .push((name, Instant::now()));
        }
    }

    fn is_visible(&self) -> bool {
        self.visible
    }
}
