//! Asking Time-Stamp Authorities for RFC 3161 tokens over a bundle's messages and
//! appending them as timestamp records under the bundle's lock (`spec/timestamps.md`
//! §3.3, §4). The HTTP exchange is `ureq`'s; the request and response are DER through
//! `x509-tsp`; each token is checked ([`crate::timestamp_token::check_token`]) and its
//! nonce compared before anything is written.

use std::path::Path;
use std::time::Duration;

use cmpv2::status::PkiStatus;
use der::asn1::{Int, OctetString};
use der::{Decode, Encode};
use seqprov_format::Bundle;
use seqprov_format::timestamp_record::{MAX_RECORDS_PER_MESSAGE, MAX_TOKEN_BYTES, TimestampRecord};
use x509_cert::spki::AlgorithmIdentifier;
use x509_tsp::{MessageImprint, TimeStampReq, TimeStampResp, TspVersion};

use crate::error::{Error, Result};
use crate::timestamp_token::{self, message_imprint};

/// Largest HTTP response body read from a TSA, in bytes (spec/timestamps.md §7).
pub const MAX_RESPONSE_BYTES: u64 = MAX_TOKEN_BYTES as u64 + 4096;
/// Default time limit of one exchange with a TSA.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// Which messages of a bundle to stamp.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Which {
    /// The seal (message 0).
    Seal,
    /// The last message: the last custody event, else the seal.
    Last,
    /// Every message not yet covered by a record whose token belongs to it.
    All,
    /// One message: 0 the seal, `i` custody event `i` (the event a command just appended,
    /// whatever was appended after it).
    Message(u64),
}

/// One token obtained and appended.
#[derive(Clone, Debug)]
pub struct Stamp {
    /// The covered message: 0 for the seal, `i` for custody event `i`.
    pub covers: u64,
    /// The TSA asked.
    pub tsa: String,
    /// The token's `genTime` (RFC 3339).
    pub gen_time: String,
    /// The TSA's name as the token states it (attacker text: escape before printing).
    pub tsa_name: String,
}

fn tsa_error(url: &str, reason: impl Into<String>) -> Error {
    Error::Timestamp {
        tsa: url.to_owned(),
        reason: reason.into(),
    }
}

/// Ask the TSA at `url` for a token over `imprint` (spec/timestamps.md §4): a DER
/// `TimeStampReq` with a fresh random nonce and `certReq`, POSTed as
/// `application/timestamp-query`; the response must be granted, carry a token that
/// checks against `imprint`, and echo the nonce. Returns the token's DER bytes.
pub fn request_token(
    url: &str,
    imprint: &[u8; 32],
    timeout: Duration,
) -> Result<(Vec<u8>, timestamp_token::CheckedToken)> {
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(tsa_error(
            url,
            "the URL must start with http:// or https://",
        ));
    }
    let mut nonce = [0u8; 8];
    getrandom::getrandom(&mut nonce)
        .map_err(|e| tsa_error(url, format!("no random nonce: {e}")))?;
    // Positive, and minimal as a DER INTEGER: the first byte is 0x01..=0x7f.
    nonce[0] = nonce[0] % 0x7f + 1;
    let request = TimeStampReq {
        version: TspVersion::V1,
        message_imprint: MessageImprint {
            hash_algorithm: AlgorithmIdentifier {
                oid: der::oid::db::rfc5912::ID_SHA_256,
                parameters: None,
            },
            hashed_message: OctetString::new(imprint.as_slice())
                .map_err(|e| tsa_error(url, e.to_string()))?,
        },
        req_policy: None,
        nonce: Some(Int::new(&nonce).map_err(|e| tsa_error(url, e.to_string()))?),
        cert_req: true,
        extensions: None,
    }
    .to_der()
    .map_err(|e| tsa_error(url, e.to_string()))?;
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into();
    let mut response = agent
        .post(url)
        .header("Content-Type", "application/timestamp-query")
        .header("Accept", "application/timestamp-reply")
        .send(&request[..])
        .map_err(|e| tsa_error(url, format!("cannot be reached: {e}")))?;
    let status = response.status();
    if status != 200 {
        return Err(tsa_error(url, format!("answered HTTP {status}")));
    }
    let body = response
        .body_mut()
        .with_config()
        .limit(MAX_RESPONSE_BYTES)
        .read_to_vec()
        .map_err(|e| tsa_error(url, format!("reading its answer: {e}")))?;
    let reply = TimeStampResp::from_der(&body)
        .map_err(|e| tsa_error(url, format!("its answer is not a DER TimeStampResp: {e}")))?;
    if !matches!(
        reply.status.status,
        PkiStatus::Accepted | PkiStatus::GrantedWithMods
    ) {
        return Err(tsa_error(
            url,
            format!(
                "refused the request (status {:?}{})",
                reply.status.status,
                reply
                    .status
                    .fail_info
                    .map(|f| format!(", failure info {f:?}"))
                    .unwrap_or_default()
            ),
        ));
    }
    let token = reply
        .time_stamp_token
        .ok_or_else(|| tsa_error(url, "granted the request but sent no token"))?
        .to_der()
        .map_err(|e| tsa_error(url, e.to_string()))?;
    let checked = timestamp_token::check_token(&token, imprint)
        .map_err(|e| tsa_error(url, format!("its token does not check: {e}")))?;
    if checked.nonce.as_deref() != Some(nonce.as_slice()) {
        return Err(tsa_error(
            url,
            "its token does not carry the nonce of the request (a replayed or foreign answer)",
        ));
    }
    Ok((token, checked))
}

/// Ask every TSA of `tsas` for a token over the message `raw` (its exact bytes), as
/// [`request_token`] does; the first failure is the error.
pub fn request_tokens(
    raw: &[u8],
    tsas: &[String],
    timeout: Duration,
) -> Result<Vec<(Vec<u8>, timestamp_token::CheckedToken)>> {
    let imprint = message_imprint(raw);
    tsas.iter()
        .map(|url| request_token(url, &imprint, timeout))
        .collect()
}

/// Stamp a bundle that holds a new seal and nothing after it (as `seal --tsa` and
/// `watch --tsa` make): ask every TSA of `tsas` for a token over the seal's exact bytes
/// and append one timestamp record per token to `bundle`. On failure `bundle` is left as
/// it was; the caller decides whether to write it unstamped (`--timestamp-later`).
pub fn stamp_new_seal(
    bundle: &mut Vec<u8>,
    tsas: &[String],
    timeout: Duration,
) -> Result<Vec<timestamp_token::CheckedToken>> {
    if tsas.is_empty() {
        return Ok(Vec::new());
    }
    let (_, _, seal_len) = seqprov_format::bundle::parse_seal(bundle)?;
    let tokens = request_tokens(&bundle[..seal_len], tsas, timeout)?;
    let mut checked = Vec::with_capacity(tokens.len());
    for (token, token_checked) in tokens {
        bundle.extend(TimestampRecord::new(0, token).to_cbor());
        checked.push(token_checked);
    }
    Ok(checked)
}

/// The exact bytes of message `index` of a bundle: 0 the seal, `i` custody event `i`.
pub fn message_bytes(bundle: &Bundle, index: u64) -> Option<&[u8]> {
    match index {
        0 => Some(&bundle.seal.raw),
        i => bundle
            .events
            .get(usize::try_from(i - 1).ok()?)
            .map(|e| e.raw.as_slice()),
    }
}

/// The messages `which` selects in `bundle`.
pub fn select_messages(bundle: &Bundle, which: Which) -> Vec<u64> {
    let last = bundle.events.len() as u64;
    match which {
        Which::Seal => vec![0],
        Which::Last => vec![last],
        Which::Message(i) => vec![i.min(last)],
        Which::All => (0..=last)
            .filter(|&i| {
                let imprint = message_imprint(message_bytes(bundle, i).unwrap_or_default());
                !bundle.timestamps.iter().any(|r| {
                    r.covers == i && timestamp_token::check_token(&r.token, &imprint).is_ok()
                })
            })
            .collect(),
    }
}

/// Stamp the messages `which` selects in the bundle at `path`, asking every TSA in
/// `tsas`, then append all tokens in one locked write (spec/timestamps.md §3.3). Any
/// TSA failure is an error before anything is written; under the lock each stamped
/// message must still be the one stamped.
pub fn timestamp_bundle(
    path: &Path,
    tsas: &[String],
    which: Which,
    timeout: Duration,
) -> Result<Vec<Stamp>> {
    let bundle = crate::bundle_file::read_bundle(path)?;
    let messages = select_messages(&bundle, which);
    let mut obtained: Vec<(u64, [u8; 32], Vec<u8>, Stamp)> = Vec::new();
    for &covers in &messages {
        let raw = message_bytes(&bundle, covers).unwrap_or_default();
        let imprint = message_imprint(raw);
        for url in tsas {
            let (token, checked) = request_token(url, &imprint, timeout)?;
            obtained.push((
                covers,
                imprint,
                token,
                Stamp {
                    covers,
                    tsa: url.clone(),
                    gen_time: checked.gen_time_text(),
                    tsa_name: checked.tsa_name,
                },
            ));
        }
    }
    drop(bundle);
    if obtained.is_empty() {
        return Ok(Vec::new());
    }
    crate::custody::append_items(path, |locked| {
        crate::custody::check_before_append(path, locked)?;
        let mut out = Vec::new();
        let mut counts = std::collections::HashMap::<u64, usize>::new();
        for record in &locked.timestamps {
            *counts.entry(record.covers).or_default() += 1;
        }
        for (covers, imprint, token, _) in &obtained {
            let same = message_bytes(locked, *covers).map(message_imprint) == Some(*imprint);
            if !same {
                return Err(Error::Refused(format!(
                    "{} changed since it was stamped (message {covers} differs); nothing was \
                     appended",
                    path.display()
                )));
            }
            let count = counts.entry(*covers).or_default();
            if *count == MAX_RECORDS_PER_MESSAGE {
                return Err(Error::Refused(format!(
                    "message {covers} of {} already has {MAX_RECORDS_PER_MESSAGE} timestamp \
                     records, the most one message may have; nothing was appended",
                    path.display()
                )));
            }
            *count += 1;
            out.extend_from_slice(&TimestampRecord::new(*covers, token.clone()).to_cbor());
        }
        Ok((out, ()))
    })?;
    Ok(obtained.into_iter().map(|(_, _, _, stamp)| stamp).collect())
}
