//! Deterministic CBOR (RFC 8949 §4.2.1 core deterministic encoding) with decoding limits.
//!
//! Every signed or hashed structure in a bundle is encoded here. Decoding is strict:
//! an item is decoded, re-encoded deterministically and compared byte for byte with
//! the input, so any non-canonical form (long integer heads, indefinite lengths,
//! unsorted or duplicate map keys, floats) is rejected.

use ciborium::value::Value;

/// Deepest nesting accepted by the decoder (arrays, maps and tags count one level each).
pub const MAX_DEPTH: usize = 16;

/// Why a CBOR item could not be decoded.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DecodeError {
    /// The input ends inside an item.
    #[error("truncated CBOR item")]
    Truncated,
    /// The bytes are not well-formed CBOR, or nest deeper than allowed.
    #[error("invalid CBOR: {0}")]
    Invalid(String),
    /// The item is well-formed but not in deterministic encoding.
    #[error("CBOR item is not in deterministic (canonical) encoding")]
    NotCanonical,
}

/// Sort every map by the bytes of its encoded keys, recursively.
///
/// Fails on floats (never used by this format) and on duplicate map keys.
pub fn canonicalize(value: Value) -> Result<Value, DecodeError> {
    Ok(match value {
        Value::Map(pairs) => {
            let mut keyed = Vec::with_capacity(pairs.len());
            for (k, v) in pairs {
                let k = canonicalize(k)?;
                let v = canonicalize(v)?;
                keyed.push((encode_raw(&k), k, v));
            }
            keyed.sort_by(|a, b| a.0.cmp(&b.0));
            if keyed.windows(2).any(|w| w[0].0 == w[1].0) {
                return Err(DecodeError::Invalid("duplicate map key".into()));
            }
            Value::Map(keyed.into_iter().map(|(_, k, v)| (k, v)).collect())
        }
        Value::Array(items) => Value::Array(
            items
                .into_iter()
                .map(canonicalize)
                .collect::<Result<_, _>>()?,
        ),
        Value::Tag(tag, inner) => Value::Tag(tag, Box::new(canonicalize(*inner)?)),
        Value::Float(_) => return Err(DecodeError::Invalid("floating-point value".into())),
        other => other,
    })
}

/// Whether every map of `value` has its keys in strictly increasing order of their
/// encodings (so sorted, no duplicates) and no float appears: what [`canonicalize`] would
/// leave unchanged, checked without building a copy.
fn in_deterministic_order(value: &Value) -> bool {
    match value {
        Value::Map(pairs) => {
            let mut previous: Option<Vec<u8>> = None;
            for (k, v) in pairs {
                if !in_deterministic_order(k) || !in_deterministic_order(v) {
                    return false;
                }
                let key = encode_raw(k);
                if previous.as_ref().is_some_and(|p| *p >= key) {
                    return false;
                }
                previous = Some(key);
            }
            true
        }
        Value::Array(items) => items.iter().all(in_deterministic_order),
        Value::Tag(_, inner) => in_deterministic_order(inner),
        Value::Float(_) => false,
        _ => true,
    }
}

/// Encode a value exactly as given (maps in their current order).
fn encode_raw(value: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    ciborium::into_writer(value, &mut out).expect("writing CBOR to a Vec cannot fail");
    out
}

/// Whether encoding `value` as given (maps in their current order) gives exactly
/// `expected`. The encoding is compared as it is written, never held: checking a
/// megabytes-long item costs no copy of it.
fn encodes_to(value: &Value, expected: &[u8]) -> bool {
    let mut compare = ComparingWriter { rest: expected };
    ciborium::into_writer(value, &mut compare).is_ok() && compare.rest.is_empty()
}

/// Whether `value`, put in deterministic order, encodes to exactly `expected`: the
/// single-encoding check of a typed form, without building its encoding.
pub fn encodes_deterministically_to(value: Value, expected: &[u8]) -> bool {
    canonicalize(value).is_ok_and(|canonical| encodes_to(&canonical, expected))
}

/// A writer that checks what is written against the bytes still expected, and fails at
/// the first difference or at a write past their end.
struct ComparingWriter<'a> {
    rest: &'a [u8],
}

impl std::io::Write for ComparingWriter<'_> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        match self.rest.strip_prefix(bytes) {
            Some(after) => {
                self.rest = after;
                Ok(bytes.len())
            }
            None => Err(std::io::Error::other("the encoding differs")),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Encode a value in deterministic encoding.
pub fn encode(value: Value) -> Result<Vec<u8>, DecodeError> {
    Ok(encode_raw(&canonicalize(value)?))
}

/// Decode the first CBOR item of `input`, returning it and the number of bytes it used.
///
/// Well-formedness and depth are checked; canonical form is not (see [`decode_canonical`]).
pub fn decode_first(input: &[u8]) -> Result<(Value, usize), DecodeError> {
    let mut rest = input;
    let value: Value = ciborium::de::from_reader_with_recursion_limit(&mut rest, MAX_DEPTH)
        .map_err(|e| match e {
            ciborium::de::Error::Io(_) => DecodeError::Truncated,
            ciborium::de::Error::Syntax(at) => {
                DecodeError::Invalid(format!("syntax error at byte {at}"))
            }
            ciborium::de::Error::Semantic(at, msg) => DecodeError::Invalid(match at {
                Some(at) => format!("{msg} at byte {at}"),
                None => msg,
            }),
            ciborium::de::Error::RecursionLimitExceeded => {
                DecodeError::Invalid(format!("nested deeper than {MAX_DEPTH} levels"))
            }
        })?;
    Ok((value, input.len() - rest.len()))
}

/// Decode the first item of `input` and require deterministic encoding.
pub fn decode_canonical(input: &[u8]) -> Result<(Value, usize), DecodeError> {
    let (value, used) = decode_first(input)?;
    // Keys already in deterministic order and no floats: then re-encoding the value as it
    // is gives its deterministic encoding, and no copy of the tree is needed to compare.
    if !in_deterministic_order(&value) || !encodes_to(&value, &input[..used]) {
        return Err(DecodeError::NotCanonical);
    }
    // The decoder does not count a tag 2 or 3 (bignum) around a short byte string as a
    // level; spec/bundle.md §13 counts every tag. The heads-only walk counts as the spec
    // does, so a bignum at depth 17 is refused here as everywhere else.
    item_len(&input[..used])?;
    Ok((value, used))
}

/// The length in bytes of the first CBOR item of `input`, read from its heads alone:
/// nothing is decoded or allocated beyond a stack of at most [`MAX_DEPTH`] counters.
/// Indefinite lengths, reserved values and nesting deeper than [`MAX_DEPTH`] are refused.
pub fn item_len(input: &[u8]) -> Result<usize, DecodeError> {
    let mut at = 0usize;
    // Items still to read at each open level; the outermost level holds the one item.
    let mut pending: Vec<u64> = vec![1];
    while let Some(remaining) = pending.last_mut() {
        if *remaining == 0 {
            pending.pop();
            continue;
        }
        *remaining -= 1;
        let first = *input.get(at).ok_or(DecodeError::Truncated)?;
        at += 1;
        let (major, info) = (first >> 5, first & 0x1f);
        let arg = match info {
            0..=23 => info as u64,
            24..=27 => {
                let width = 1usize << (info - 24);
                let end = at.checked_add(width).ok_or(DecodeError::Truncated)?;
                let arg = input
                    .get(at..end)
                    .ok_or(DecodeError::Truncated)?
                    .iter()
                    .fold(0u64, |acc, &b| (acc << 8) | b as u64);
                at = end;
                arg
            }
            _ => {
                return Err(DecodeError::Invalid(format!(
                    "byte {}: indefinite length or reserved value",
                    at - 1
                )));
            }
        };
        let left = (input.len() - at) as u64;
        let children = match major {
            0 | 1 | 7 => 0,
            2 | 3 => {
                if arg > left {
                    return Err(DecodeError::Truncated);
                }
                at += arg as usize;
                0
            }
            // Every item takes at least one byte: more items than bytes left is truncated.
            4 => arg,
            5 => arg.checked_mul(2).ok_or(DecodeError::Truncated)?,
            _ => 1, // 6: a tag and its one item
        };
        if children > left {
            return Err(DecodeError::Truncated);
        }
        if children > 0 {
            if pending.len() > MAX_DEPTH {
                return Err(DecodeError::Invalid(format!(
                    "nested deeper than {MAX_DEPTH} levels"
                )));
            }
            pending.push(children);
        }
    }
    Ok(at)
}

/// Decode a whole buffer that must hold exactly one canonical item.
pub fn decode_exact(input: &[u8]) -> Result<Value, DecodeError> {
    let (value, used) = decode_canonical(input)?;
    if used != input.len() {
        return Err(DecodeError::Invalid(format!(
            "{} trailing bytes after the item",
            input.len() - used
        )));
    }
    Ok(value)
}

/// Append the head of a data item (major type and argument, shortest form).
pub fn write_head(out: &mut Vec<u8>, major: u8, value: u64) {
    let major = major << 5;
    match value {
        0..=23 => out.push(major | value as u8),
        24..=0xff => out.extend_from_slice(&[major | 24, value as u8]),
        0x100..=0xffff => {
            out.push(major | 25);
            out.extend_from_slice(&(value as u16).to_be_bytes());
        }
        0x1_0000..=0xffff_ffff => {
            out.push(major | 26);
            out.extend_from_slice(&(value as u32).to_be_bytes());
        }
        _ => {
            out.push(major | 27);
            out.extend_from_slice(&value.to_be_bytes());
        }
    }
}

/// Append an unsigned integer.
pub fn write_uint(out: &mut Vec<u8>, value: u64) {
    write_head(out, 0, value);
}

/// Append a byte string.
pub fn write_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    write_head(out, 2, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

/// Append a text string.
pub fn write_text(out: &mut Vec<u8>, text: &str) {
    write_head(out, 3, text.len() as u64);
    out.extend_from_slice(text.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn item_len_reads_the_same_length_as_the_decoder() {
        let values = [
            Value::Integer(5.into()),
            Value::Text("a longer text than twenty-three bytes".into()),
            Value::Bytes(vec![7; 300]),
            Value::Array(vec![
                Value::Null,
                Value::Bool(true),
                Value::Integer((-70000).into()),
            ]),
            Value::Map(vec![(Value::Text("k".into()), Value::Array(vec![]))]),
            Value::Tag(18, Box::new(Value::Array(vec![Value::Bytes(vec![1, 2])]))),
        ];
        for value in values {
            let bytes = encode(value.clone()).unwrap();
            let mut with_tail = bytes.clone();
            with_tail.extend_from_slice(&[0xff, 0x00]);
            assert_eq!(item_len(&with_tail), Ok(bytes.len()), "{value:?}");
            for cut in 0..bytes.len() {
                assert_eq!(
                    item_len(&bytes[..cut]),
                    Err(DecodeError::Truncated),
                    "{value:?} cut {cut}"
                );
            }
        }
    }

    #[test]
    fn item_len_refuses_indefinite_lengths_and_huge_counts_without_allocating() {
        assert!(matches!(
            item_len(&[0x9f, 0x01, 0xff]),
            Err(DecodeError::Invalid(_))
        ));
        // An array that claims 2^64 - 1 items in nine bytes.
        let huge = [0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
        assert_eq!(item_len(&huge), Err(DecodeError::Truncated));
        let deep = vec![0x81; 40];
        assert!(item_len(&deep).is_err());
    }

    fn text(s: &str) -> Value {
        Value::Text(s.into())
    }

    #[test]
    fn maps_are_sorted_by_encoded_key_length_then_bytes() {
        let v = Value::Map(vec![
            (text("blake3"), Value::Integer(1.into())),
            (text("size"), Value::Integer(2.into())),
            (text("a"), Value::Integer(3.into())),
        ]);
        let bytes = encode(v).unwrap();
        let order: Vec<String> = match decode_first(&bytes).unwrap().0 {
            Value::Map(m) => m.into_iter().map(|(k, _)| k.into_text().unwrap()).collect(),
            _ => unreachable!(),
        };
        assert_eq!(order, ["a", "size", "blake3"]);
    }

    #[test]
    fn non_shortest_integer_is_rejected() {
        // 0x18 0x05 encodes 5 in a one-byte argument: well-formed but not canonical.
        assert_eq!(
            decode_canonical(&[0x18, 0x05]),
            Err(DecodeError::NotCanonical)
        );
        assert_eq!(decode_canonical(&[0x05]).unwrap().1, 1);
    }

    #[test]
    fn indefinite_length_is_rejected() {
        // [_ 1, 2]
        assert_eq!(
            decode_canonical(&[0x9f, 0x01, 0x02, 0xff]),
            Err(DecodeError::NotCanonical)
        );
    }

    #[test]
    fn unsorted_and_duplicate_keys_are_rejected() {
        // {"b": 1, "a": 2}
        let unsorted = [0xa2, 0x61, b'b', 0x01, 0x61, b'a', 0x02];
        assert_eq!(decode_canonical(&unsorted), Err(DecodeError::NotCanonical));
        // {"a": 1, "a": 2}
        let dup = [0xa2, 0x61, b'a', 0x01, 0x61, b'a', 0x02];
        assert_eq!(decode_canonical(&dup), Err(DecodeError::NotCanonical));
    }

    #[test]
    fn truncation_and_depth_are_reported() {
        assert_eq!(decode_first(&[0x82, 0x01]), Err(DecodeError::Truncated));
        let deep = vec![0x81; MAX_DEPTH + 2];
        assert!(matches!(decode_first(&deep), Err(DecodeError::Invalid(_))));
    }

    /// Regression (fuzz artifact crash-c595555758c7): a bignum (tag 2 around a 13-byte
    /// string) as the 17th level was accepted by the decoder, which does not count such a
    /// tag, while the spec and `item_len` count every tag.
    #[test]
    fn a_bignum_tag_counts_as_a_nesting_level() {
        let bignum = [0xc2, 0x4d, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        let at_depth = |levels: usize| {
            let mut item = vec![0x81; levels - 1];
            item.extend_from_slice(&bignum);
            item
        };
        let deepest = at_depth(MAX_DEPTH);
        assert_eq!(item_len(&deepest), Ok(deepest.len()));
        assert_eq!(
            decode_canonical(&deepest).map(|(_, used)| used),
            Ok(deepest.len())
        );
        let too_deep = at_depth(MAX_DEPTH + 1);
        assert!(matches!(item_len(&too_deep), Err(DecodeError::Invalid(_))));
        assert!(matches!(
            decode_canonical(&too_deep),
            Err(DecodeError::Invalid(_))
        ));
    }

    #[test]
    fn heads_match_ciborium_at_every_width_boundary() {
        for n in [
            0u64,
            23,
            24,
            255,
            256,
            65_535,
            65_536,
            u32::MAX as u64,
            u32::MAX as u64 + 1,
            u64::MAX,
        ] {
            let mut ours = Vec::new();
            write_uint(&mut ours, n);
            assert_eq!(ours, encode(Value::Integer(n.into())).unwrap(), "{n}");
        }
    }

    #[test]
    fn decode_first_consumes_exactly_one_item_of_a_sequence() {
        let seq = [0x01, 0x82, 0x02, 0x03, 0x04];
        assert_eq!(decode_first(&seq).unwrap().1, 1);
        assert_eq!(decode_first(&seq[1..]).unwrap().1, 3);
    }
}
