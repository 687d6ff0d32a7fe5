//! Appending log receipt records to a bundle (spec/log.md §7.1), under the bundle's
//! exclusive lock with the discipline of timestamp records: the bundle is re-read and
//! checked under the lock, every record's entry must still be the entry its message
//! (or one of its timestamp records) has, at most 16 receipts cover one message, and the
//! new file is written beside it, fsynced and renamed over it with its permission bits.

use std::collections::HashMap;
use std::path::Path;

use seqprov_format::log_receipt_record::{LogReceiptRecord, MAX_RECEIPTS_PER_MESSAGE};

use crate::error::{Error, Result};
use crate::log_submission::entries_of_bundle;

/// Append `records` to the bundle at `path` in one locked write; returns how many were
/// appended. A record already in the bundle (same message, entry and proof) is not
/// appended again. Nothing is written when any record is refused: its entry is not the
/// entry of its message in the bundle as it is now, it is not a valid record (empty or
/// oversized parts), or a message would have more than 16 receipts.
pub fn append_receipts(path: &Path, records: &[LogReceiptRecord]) -> Result<usize> {
    for record in records {
        let bytes = record.to_cbor();
        LogReceiptRecord::from_cbor(&bytes).map_err(|e| {
            Error::Refused(format!(
                "a receipt for message {} is not a valid record: {e}; nothing was appended",
                record.covers
            ))
        })?;
    }
    if records.is_empty() {
        return Ok(0);
    }
    crate::custody::append_items(path, |locked| {
        crate::custody::check_before_append(path, locked)?;
        let expected: Vec<(u64, Vec<u8>)> = entries_of_bundle(locked)
            .map_err(Error::Refused)?
            .into_iter()
            .map(|e| (e.covers, e.encode()))
            .collect();
        let mut counts = HashMap::<u64, usize>::new();
        for record in &locked.log_receipts {
            *counts.entry(record.covers).or_default() += 1;
        }
        let mut out = Vec::new();
        let mut appended = 0;
        let mut seen: Vec<&LogReceiptRecord> = locked.log_receipts.iter().collect();
        for record in records {
            if !expected
                .iter()
                .any(|(covers, entry)| *covers == record.covers && *entry == record.entry)
            {
                return Err(Error::Refused(format!(
                    "{}: the receipt's entry is not the entry of message {} (the bundle \
                     changed, or the receipt is for another message); nothing was appended",
                    path.display(),
                    record.covers
                )));
            }
            if seen.contains(&record) {
                continue;
            }
            let count = counts.entry(record.covers).or_default();
            if *count == MAX_RECEIPTS_PER_MESSAGE {
                return Err(Error::Refused(format!(
                    "message {} of {} already has {MAX_RECEIPTS_PER_MESSAGE} log receipts, \
                     the most one message may have; nothing was appended",
                    record.covers,
                    path.display()
                )));
            }
            *count += 1;
            seen.push(record);
            out.extend_from_slice(&record.to_cbor());
            appended += 1;
        }
        Ok((out, appended))
    })
}
