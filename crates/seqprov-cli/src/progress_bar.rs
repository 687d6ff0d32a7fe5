//! A terminal progress bar (bytes, rate, ETA) on stderr, shown only on a terminal.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Progress sink backed by an `indicatif` bar; hidden when stderr is not a terminal.
pub struct TerminalProgress {
    bar: ProgressBar,
    /// Decided once: a hidden bar is not updated at all (its updates still take a lock,
    /// once per file, which shows on trees of many small files).
    visible: bool,
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
        TerminalProgress { bar, visible }
    }

    /// Remove the bar from the terminal.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
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

    fn is_visible(&self) -> bool {
        self.visible
    }
}
