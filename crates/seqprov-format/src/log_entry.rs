//! Log entries: the leaf a seqprov transparency log records for one seal, custody event
//! or timestamp token (spec/log.md §2). An entry is one deterministic CBOR map naming
//! the SHA-256 of the logged bytes, the signer's key id, the seal digest and which
//! message it covers, with the run id and flow cell copied from the seal. Nothing else
//! from a bundle is in an entry. Decoding is bounded and strict: at most
//! [`MAX_ENTRY_BYTES`], the single encoding, no unknown field.

use ciborium::value::Value;

use crate::cbor;

/// Value of an entry's `format` field.
pub const LOG_ENTRY_FORMAT: &str = "seqprov.log-entry";
/// Entry version written and read by this library.
pub const LOG_ENTRY_VERSION: u64 = 1;
/// Largest entry, in bytes: the entry-bundle length prefix is a u16.
pub const MAX_ENTRY_BYTES: usize = 65_535;
/// Largest `run` or `flowcell` text, in bytes.
pub const MAX_RUN_TEXT_BYTES: usize = 256;

/// What a log entry records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LogEntryKind {
    /// The seal message (`covers` 0).
    Seal,
    /// A custody event (`covers` is its `seq`).
    Custody,
    /// An RFC 3161 token over the message `covers`.
    Timestamp,
}

impl LogEntryKind {
    /// The text written in the entry: `seal`, `custody` or `timestamp`.
    pub fn name(self) -> &'static str {
        match self {
            LogEntryKind::Seal => "seal",
            LogEntryKind::Custody => "custody",
            LogEntryKind::Timestamp => "timestamp",
        }
    }

    /// The kind a text names, if any.
    pub fn parse(text: &str) -> Option<LogEntryKind> {
        match text {
            "seal" => Some(LogEntryKind::Seal),
            "custody" => Some(LogEntryKind::Custody),
            "timestamp" => Some(LogEntryKind::Timestamp),
            _ => None,
        }
    }
}

impl std::fmt::Display for LogEntryKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One log entry (spec/log.md §2).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct LogEntry {
    /// What is logged.
    pub kind: LogEntryKind,
    /// SHA-256 of the exact logged bytes (the COSE_Sign1 with its tag, or the DER token).
    pub message: [u8; 32],
    /// Key id (spec/bundle.md §10.1) of the signer of the message (for a timestamp: of
    /// the covered message).
    pub signer: [u8; 32],
    /// The seal digest: BLAKE3 of the bundle's seal message bytes.
    pub seal: [u8; 32],
    /// 0: the seal; `i >= 1`: custody event `i`.
    pub covers: u64,
    /// The seal's `run.run_info.run_id`, when the seal has run metadata.
    pub run: Option<String>,
    /// The seal's `run.run_info.flowcell`, when present.
    pub flowcell: Option<String>,
}

/// Why bytes are not a log entry.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// Longer than [`MAX_ENTRY_BYTES`] (checked before anything is decoded).
    #[error("log entry is {0} bytes, more than the {MAX_ENTRY_BYTES} an entry may take")]
    TooLarge(usize),
    /// Not one whole, well-formed CBOR item in deterministic encoding.
    #[error("log entry is not one deterministic CBOR item: {0}")]
    Cbor(String),
    /// Not a map, or a field missing, of the wrong type or with a value it may not take.
    #[error("log entry: {0}")]
    Invalid(String),
    /// A field this version does not define.
    #[error("log entry: unknown field {0:?}")]
    UnknownField(String),
    /// Decodes, but is not the single encoding of what it holds.
    #[error("log entry is not in the single encoding its version allows")]
    NotSingleEncoding,
}

fn text(value: &str) -> Value {
    Value::Text(value.to_owned())
}

impl LogEntry {
    /// The deterministic CBOR encoding: the exact bytes a log records.
    pub fn encode(&self) -> Vec<u8> {
        let mut pairs = vec![
            (text("format"), text(LOG_ENTRY_FORMAT)),
            (text("version"), Value::Integer(LOG_ENTRY_VERSION.into())),
            (text("kind"), text(self.kind.name())),
            (text("message"), Value::Bytes(self.message.to_vec())),
            (text("signer"), Value::Bytes(self.signer.to_vec())),
            (text("seal"), Value::Bytes(self.seal.to_vec())),
            (text("covers"), Value::Integer(self.covers.into())),
        ];
        if let Some(run) = &self.run {
            pairs.push((text("run"), text(run)));
        }
        if let Some(flowcell) = &self.flowcell {
            pairs.push((text("flowcell"), text(flowcell)));
        }
        cbor::encode(Value::Map(pairs)).expect("a log entry has no floats and no repeated key")
    }

    /// Decode an entry from exactly its bytes: at most [`MAX_ENTRY_BYTES`], one
    /// deterministic CBOR map with the fields of version 1 and no other, `kind` and
    /// `covers` consistent (a seal entry covers 0, a custody entry covers at least 1),
    /// `run` and `flowcell` at most [`MAX_RUN_TEXT_BYTES`] bytes, and the single encoding.
    pub fn decode(bytes: &[u8]) -> Result<LogEntry, DecodeError> {
        if bytes.len() > MAX_ENTRY_BYTES {
            return Err(DecodeError::TooLarge(bytes.len()));
        }
        let value = cbor::decode_exact(bytes).map_err(|e| DecodeError::Cbor(e.to_string()))?;
        let Value::Map(pairs) = value else {
            return Err(DecodeError::Invalid("not a CBOR map".into()));
        };
        let mut format = None;
        let mut version = None;
        let mut kind = None;
        let mut message = None;
        let mut signer = None;
        let mut seal = None;
        let mut covers = None;
        let mut run = None;
        let mut flowcell = None;
        for (key, value) in pairs {
            let Value::Text(key) = key else {
                return Err(DecodeError::Invalid("a map key is not a text".into()));
            };
            match key.as_str() {
                "format" => format = Some(text_field("format", value)?),
                "version" => version = Some(uint_field("version", value)?),
                "kind" => kind = Some(text_field("kind", value)?),
                "message" => message = Some(hash_field("message", value)?),
                "signer" => signer = Some(hash_field("signer", value)?),
                "seal" => seal = Some(hash_field("seal", value)?),
                "covers" => covers = Some(uint_field("covers", value)?),
                "run" => run = Some(run_text_field("run", value)?),
                "flowcell" => flowcell = Some(run_text_field("flowcell", value)?),
                _ => return Err(DecodeError::UnknownField(key)),
            }
        }
        let missing = |name: &str| DecodeError::Invalid(format!("the field `{name}` is missing"));
        let format = format.ok_or_else(|| missing("format"))?;
        if format != LOG_ENTRY_FORMAT {
            return Err(DecodeError::Invalid(format!(
                "format is {format:?}, not {LOG_ENTRY_FORMAT:?}"
            )));
        }
        let version = version.ok_or_else(|| missing("version"))?;
        if version != LOG_ENTRY_VERSION {
            return Err(DecodeError::Invalid(format!(
                "version {version} is not supported (this build reads version {LOG_ENTRY_VERSION})"
            )));
        }
        let kind_text = kind.ok_or_else(|| missing("kind"))?;
        let kind = LogEntryKind::parse(&kind_text).ok_or_else(|| {
            DecodeError::Invalid(format!(
                "kind {kind_text:?} is not one of \"seal\", \"custody\", \"timestamp\""
            ))
        })?;
        let covers = covers.ok_or_else(|| missing("covers"))?;
        match kind {
            LogEntryKind::Seal if covers != 0 => {
                return Err(DecodeError::Invalid(format!(
                    "a seal entry covers 0, not {covers}"
                )));
            }
            LogEntryKind::Custody if covers == 0 => {
                return Err(DecodeError::Invalid(
                    "a custody entry covers an event (1 or more), not 0".into(),
                ));
            }
            _ => {}
        }
        let entry = LogEntry {
            kind,
            message: message.ok_or_else(|| missing("message"))?,
            signer: signer.ok_or_else(|| missing("signer"))?,
            seal: seal.ok_or_else(|| missing("seal"))?,
            covers,
            run,
            flowcell,
        };
        if entry.encode() != bytes {
            return Err(DecodeError::NotSingleEncoding);
        }
        Ok(entry)
    }
}

fn text_field(name: &str, value: Value) -> Result<String, DecodeError> {
    match value {
        Value::Text(text) => Ok(text),
        _ => Err(DecodeError::Invalid(format!("`{name}` is not a text"))),
    }
}

fn run_text_field(name: &str, value: Value) -> Result<String, DecodeError> {
    let text = text_field(name, value)?;
    if text.len() > MAX_RUN_TEXT_BYTES {
        return Err(DecodeError::Invalid(format!(
            "`{name}` is {} bytes, more than {MAX_RUN_TEXT_BYTES}",
            text.len()
        )));
    }
    Ok(text)
}

fn uint_field(name: &str, value: Value) -> Result<u64, DecodeError> {
    match value {
        Value::Integer(n) => u64::try_from(n)
            .map_err(|_| DecodeError::Invalid(format!("`{name}` is not an unsigned integer"))),
        _ => Err(DecodeError::Invalid(format!(
            "`{name}` is not an unsigned integer"
        ))),
    }
}

fn hash_field(name: &str, value: Value) -> Result<[u8; 32], DecodeError> {
    match value {
        Value::Bytes(bytes) => bytes.as_slice().try_into().map_err(|_| {
            DecodeError::Invalid(format!("`{name}` is {} bytes, not 32", bytes.len()))
        }),
        _ => Err(DecodeError::Invalid(format!(
            "`{name}` is not a byte string"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> LogEntry {
        LogEntry {
            kind: LogEntryKind::Custody,
            message: [1; 32],
            signer: [2; 32],
            seal: [3; 32],
            covers: 2,
            run: Some("230101_M00001_0001_000000000-A1B2C".into()),
            flowcell: Some("000000000-A1B2C".into()),
        }
    }

    #[test]
    fn an_entry_round_trips_with_its_keys_in_deterministic_order() {
        let entry = sample();
        let bytes = entry.encode();
        // map(9), then "run" first: the shortest key sorts first.
        assert_eq!(&bytes[..5], b"\xa9\x63run");
        assert_eq!(LogEntry::decode(&bytes).unwrap(), entry);
        let bare = LogEntry {
            run: None,
            flowcell: None,
            ..sample()
        };
        assert_eq!(LogEntry::decode(&bare.encode()).unwrap(), bare);
    }

    #[test]
    fn an_unknown_field_a_long_run_and_a_wrong_covers_are_refused() {
        let Value::Map(mut pairs) = cbor::decode_exact(&sample().encode()).unwrap() else {
            unreachable!()
        };
        pairs.push((text("sample"), text("patient 7")));
        let extra = cbor::encode(Value::Map(pairs)).unwrap();
        assert_eq!(
            LogEntry::decode(&extra),
            Err(DecodeError::UnknownField("sample".into()))
        );
        let long = LogEntry {
            run: Some("r".repeat(257)),
            ..sample()
        };
        assert!(
            LogEntry::decode(&long.encode())
                .unwrap_err()
                .to_string()
                .contains("`run` is 257 bytes")
        );
        let seal = LogEntry {
            kind: LogEntryKind::Seal,
            ..sample()
        };
        assert!(
            LogEntry::decode(&seal.encode())
                .unwrap_err()
                .to_string()
                .contains("a seal entry covers 0")
        );
        assert_eq!(
            LogEntry::decode(&vec![0; MAX_ENTRY_BYTES + 1]),
            Err(DecodeError::TooLarge(MAX_ENTRY_BYTES + 1))
        );
    }

    #[test]
    fn a_non_canonical_entry_is_refused() {
        let mut bytes = sample().encode();
        // `covers` 2 written with a one-byte argument: the decoder refuses the long head.
        let at = bytes.windows(7).position(|w| w == b"\x66covers").unwrap() + 7;
        assert_eq!(bytes[at], 0x02);
        bytes.splice(at..at + 1, [0x18, 0x02]);
        assert!(matches!(
            LogEntry::decode(&bytes),
            Err(DecodeError::Cbor(_))
        ));
    }
}
