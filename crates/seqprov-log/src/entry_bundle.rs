//! Entry bundles (tlog-tiles): each entry as a big-endian u16 length and its bytes.

use crate::{LogError, MAX_ENTRY_LEN};

/// Encodes entries as one entry bundle. Each entry must be at most
/// [`crate::MAX_ENTRY_LEN`] bytes.
pub fn encode(entries: &[&[u8]]) -> Result<Vec<u8>, LogError> {
    let mut out = Vec::with_capacity(entries.iter().map(|e| e.len() + 2).sum());
    for (i, entry) in entries.iter().enumerate() {
        let len = u16::try_from(entry.len()).map_err(|_| LogError::Malformed {
            what: "log entry",
            detail: format!(
                "entry {i} of the bundle has {} bytes, more than {MAX_ENTRY_LEN}",
                entry.len()
            ),
        })?;
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(entry);
    }
    Ok(out)
}

/// Decodes an entry bundle that must hold exactly `count` entries and nothing after them.
pub fn decode(bytes: &[u8], count: usize) -> Result<Vec<Vec<u8>>, LogError> {
    let bad = |detail: String| LogError::Malformed {
        what: "entry bundle",
        detail,
    };
    // Every entry takes at least its 2-byte prefix: bound the allocation by the input.
    let mut entries = Vec::with_capacity(count.min(bytes.len() / 2));
    let mut rest = bytes;
    for i in 0..count {
        let Some((prefix, after)) = rest.split_first_chunk::<2>() else {
            return Err(bad(format!("it ends before entry {i} of {count}")));
        };
        let len = usize::from(u16::from_be_bytes(*prefix));
        if after.len() < len {
            return Err(bad(format!(
                "entry {i} is declared {len} bytes but only {} remain",
                after.len()
            )));
        }
        let (entry, after) = after.split_at(len);
        entries.push(entry.to_vec());
        rest = after;
    }
    if !rest.is_empty() {
        return Err(bad(format!(
            "{} bytes follow its {count} entries",
            rest.len()
        )));
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn encodes_length_prefixes_big_endian() {
        let e: [&[u8]; 3] = [b"ab", b"", &[7u8; 258]];
        let bytes = encode(&e).unwrap();
        assert_eq!(&bytes[..4], &[0, 2, b'a', b'b']);
        assert_eq!(&bytes[4..6], &[0, 0]);
        assert_eq!(&bytes[6..8], &[1, 2]);
        assert_eq!(bytes.len(), 8 + 258);
        assert_eq!(decode(&bytes, 3).unwrap(), e.map(|x| x.to_vec()).to_vec());
    }

    #[test]
    fn refuses_an_entry_over_65535_bytes() {
        let big = vec![0u8; MAX_ENTRY_LEN + 1];
        let err = encode(&[b"x", &big]).unwrap_err().to_string();
        assert!(
            err.contains("entry 1 of the bundle has 65536 bytes"),
            "{err}"
        );
        let max = vec![0u8; MAX_ENTRY_LEN];
        let bytes = encode(&[&max]).unwrap();
        assert_eq!(&bytes[..2], &[0xff, 0xff]);
        assert_eq!(decode(&bytes, 1).unwrap()[0].len(), MAX_ENTRY_LEN);
    }

    #[test]
    fn refuses_too_few_entries_a_short_entry_and_trailing_bytes() {
        let bytes = encode(&[b"abc", b"de"]).unwrap();
        assert!(
            decode(&bytes, 3)
                .unwrap_err()
                .to_string()
                .contains("ends before entry 2 of 3")
        );
        assert!(
            decode(&bytes, 1)
                .unwrap_err()
                .to_string()
                .contains("4 bytes follow its 1 entries")
        );
        assert!(
            decode(&bytes[..bytes.len() - 1], 2)
                .unwrap_err()
                .to_string()
                .contains("declared 2 bytes but only 1 remain")
        );
        assert!(decode(&bytes[..1], 1).is_err());
        assert!(decode(&[], 0).unwrap().is_empty());
        assert!(decode(&[0], 0).is_err());
        // A huge count on tiny input fails without allocating for it.
        assert!(decode(&[0, 0], usize::MAX).is_err());
    }

    proptest! {
        #[test]
        fn decode_inverts_encode(entries in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..300), 0..20)) {
            let refs: Vec<&[u8]> = entries.iter().map(|e| e.as_slice()).collect();
            let bytes = encode(&refs).unwrap();
            prop_assert_eq!(decode(&bytes, entries.len()).unwrap(), entries);
        }
    }
}
