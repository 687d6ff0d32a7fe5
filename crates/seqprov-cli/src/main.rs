//! The `seqprov` binary: parses arguments, calls the library, prints, exits with the
//! documented code (0 verified, 1 integrity failure, 2 usage or I/O error, 3 not trusted).

/// `println!` that never panics when standard output is closed: when the reader of a pipe
/// has gone (`seqprov show B | head -1`), the rest of the output is dropped and the command
/// still ends with its own exit code, instead of a panic (exit 101) on the first line it
/// can no longer write. Defined before the modules so that every one of them can use it.
macro_rules! outln {
    () => {
        $crate::print_line(format_args!(""))
    };
    ($($arg:tt)*) => {
        $crate::print_line(format_args!($($arg)*))
    };
}

mod args;
mod bundle_commands;
mod command_inputs;
mod completions_command;
mod custody_commands;
mod export_command;
mod key_reference;
mod log_client_commands;
mod log_commands;
mod log_witness_command;
mod man_pages;
mod passphrase;
mod progress_bar;
mod seal_command;
mod sharded_commands;
mod terminal_text;
mod text_output;
mod timestamp_command;
mod verify_command;
mod watch_command;

use std::process::ExitCode;

use clap::Parser;
use seqprov::ExitStatus;

use args::{Cli, Command};
pub(crate) use command_inputs::{load_policy, read_mode, validate_text};
pub(crate) use key_reference::open_signer;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Keygen(a) => seal_command::keygen(a),
        Command::Pubkey(a) => seal_command::pubkey(a),
        Command::Seal(a) => seal_command::seal(a),
        Command::Plan(a) => sharded_commands::plan(a),
        Command::HashPart(a) => sharded_commands::hash_part(a),
        Command::Verify(a) => verify_command::verify(a),
        Command::Show(a) => bundle_commands::show(a),
        Command::Prove(a) => bundle_commands::prove(a),
        Command::Custody(args::CustodyCommand::Append(a)) => custody_commands::append(*a),
        Command::Custody(args::CustodyCommand::Show(a)) => custody_commands::show(a),
        Command::Receive(a) => custody_commands::receive(a),
        Command::Export(a) => export_command::export(a),
        Command::Timestamp(a) => timestamp_command::timestamp(a),
        Command::Watch(a) => watch_command::watch(a),
        Command::Log(args::LogCommand::Init(a)) => log_commands::init(a),
        Command::Log(args::LogCommand::Serve(a)) => log_commands::serve(a),
        Command::Log(args::LogCommand::Submit(a)) => log_client_commands::submit(a),
        Command::Log(args::LogCommand::Show(a)) => log_client_commands::show(a),
        Command::Log(args::LogCommand::Witness(a)) => log_witness_command::witness(a),
        Command::Completions(a) => completions_command::completions(a),
        Command::Man(a) => man_pages::man(a),
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

/// Write one line to standard output (see [`outln!`]): a closed pipe drops it; any other
/// failure to write (a full disk behind a redirection) ends the command with one error line
/// and exit 2, as an I/O error.
pub(crate) fn print_line(args: std::fmt::Arguments<'_>) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_fmt(args).and_then(|()| out.write_all(b"\n")) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        Err(e) => {
            eprintln!("seqprov: error: writing to standard output: {e}");
            std::process::exit(ExitStatus::UsageOrIo.code().into());
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
