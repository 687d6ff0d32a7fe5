//! The `seqprov` binary: parses arguments, calls the library, prints, exits with the
//! documented code (0 verified, 1 integrity failure, 2 usage or I/O error, 3 not trusted).

mod args;
mod bundle_commands;
mod command_inputs;
mod custody_commands;
mod export_command;
mod passphrase;
mod progress_bar;
mod seal_command;
mod terminal_text;
mod text_output;
mod timestamp_command;
mod verify_command;

use std::process::ExitCode;

use clap::Parser;
use seqprov::ExitStatus;

use args::{Cli, Command};
pub(crate) use command_inputs::{load_policy, load_private_key, read_mode, validate_text};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Keygen(a) => seal_command::keygen(a),
        Command::Seal(a) => seal_command::seal(a),
        Command::Verify(a) => verify_command::verify(a),
        Command::Show(a) => bundle_commands::show(a),
        Command::Prove(a) => bundle_commands::prove(a),
        Command::Custody(args::CustodyCommand::Append(a)) => custody_commands::append(a),
        Command::Custody(args::CustodyCommand::Show(a)) => custody_commands::show(a),
        Command::Receive(a) => custody_commands::receive(a),
        Command::Export(a) => export_command::export(a),
        Command::Timestamp(a) => timestamp_command::timestamp(a),
    };
    match outcome {
        Ok(status) => ExitCode::from(status.code()),
        Err(error) => {
            eprintln!(
                "seqprov: error: {}",
                terminal_text::terminal_safe(&describe(&error))
            );
            ExitCode::from(exit_status_of(&error).code())
        }
    }
}

/// The error and its context, stopping at the library's error (whose message already
/// includes its operating-system cause).
pub(crate) fn describe(error: &anyhow::Error) -> String {
    let mut parts = Vec::new();
    for cause in error.chain() {
        parts.push(cause.to_string());
        if cause.downcast_ref::<seqprov::Error>().is_some() {
            break;
        }
    }
    parts.join(": ")
}

/// The exit status of an error: the library's classification if it came from there.
pub(crate) fn exit_status_of(error: &anyhow::Error) -> ExitStatus {
    error
        .chain()
        .find_map(|e| e.downcast_ref::<seqprov::Error>())
        .map_or(ExitStatus::UsageOrIo, seqprov::Error::exit_status)
}
