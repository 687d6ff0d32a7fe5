//! The process exit statuses every command maps its outcome to (`spec/cli.md`).

use serde::Serialize;

/// Process exit status (see `spec/cli.md`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ExitStatus {
    /// 0: verified and trusted.
    Verified,
    /// 1: content, signature, root or bundle structure failed.
    IntegrityFailure,
    /// 2: usage or I/O error; nothing was concluded.
    UsageOrIo,
    /// 3: intact and validly signed, but not by a trusted key.
    Untrusted,
}

impl ExitStatus {
    /// The numeric exit code.
    pub fn code(self) -> u8 {
        match self {
            ExitStatus::Verified => 0,
            ExitStatus::IntegrityFailure => 1,
            ExitStatus::UsageOrIo => 2,
            ExitStatus::Untrusted => 3,
        }
    }
}
