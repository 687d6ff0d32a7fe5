//! `seqprov completions SHELL`: the shell completion script, generated from the same
//! argument definitions the binary parses with (`clap_complete`), on standard output.

use std::io::Write;

use anyhow::{Context, Result};
use clap::CommandFactory;
use seqprov::ExitStatus;

use crate::args::{Cli, CompletionsArgs};

/// The name the scripts complete: the installed binary's.
const BINARY_NAME: &str = "seqprov";

/// The completion script for `shell`, as bytes.
pub(crate) fn completion_script(shell: clap_complete::Shell) -> Vec<u8> {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), BINARY_NAME, &mut script);
    script
}

/// `seqprov completions`.
pub(crate) fn completions(a: CompletionsArgs) -> Result<ExitStatus> {
    // Rendered in memory first: clap_complete panics on a failed write. As for every
    // command, a closed pipe (`seqprov completions bash | head`) is not an error; any
    // other failed write is one error line and exit 2.
    let script = completion_script(a.shell);
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(&script).and_then(|()| stdout.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(ExitStatus::Verified),
        written => {
            written.context("writing to standard output")?;
            Ok(ExitStatus::Verified)
        }
    }
}
