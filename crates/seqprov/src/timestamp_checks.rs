//! Checking a bundle's timestamp records against their messages and the policy
//! (`spec/timestamps.md` §5, §6): which tokens do not belong to their message (integrity),
//! which message has an attested time and from which TSA, which claimed time is too far
//! from it, and whether the policy's `require` is met.

use seqprov_format::Bundle;
use seqprov_format::manifest::parse_time;
use serde::Serialize;

use crate::policy::{Policy, RuleFailure};
use crate::timestamp_request::message_bytes;
use crate::timestamp_token::{self, message_imprint};

/// The claimed and the attested time of one message, as the report shows them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MessageTime {
    /// `seal` or `custody event N`.
    pub message: String,
    /// The time the signer claims (absent when the event's payload does not decode).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub claimed: Option<String>,
    /// The earliest `genTime` of a token whose TSA the policy trusts, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attested: Option<String>,
    /// The name of the TSA that attests it (attacker text: escape before printing).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tsa: Option<String>,
    /// Tokens stored for this message (all, whether they check or not).
    pub tokens: usize,
    /// Why the tokens that belong to this message do not attest its time.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unattested: Vec<String>,
}

/// What the timestamp records of a bundle show.
#[derive(Clone, Debug, Default)]
pub struct TimestampChecks {
    /// One line per message (seal first, then each event).
    pub times: Vec<MessageTime>,
    /// Tokens that do not belong to their message (exit 1).
    pub integrity: Vec<String>,
    /// `timestamp_required` failures (exit 3).
    pub policy: Vec<RuleFailure>,
    /// Claimed times too far from attested ones, tokens that do not attest.
    pub warnings: Vec<String>,
}

impl TimestampChecks {
    /// The attested time of message `index` (0 the seal), if any.
    pub fn attested(&self, index: usize) -> Option<&str> {
        self.times.get(index)?.attested.as_deref()
    }
}

fn subject(index: u64) -> String {
    match index {
        0 => "seal".into(),
        i => format!("custody event {i}"),
    }
}

/// Check every record of `bundle` (spec/timestamps.md §5) and the policy's
/// `[timestamps]` requirements. `claimed` gives each message's claimed time (index 0 the
/// seal), `None` where it is unknown.
pub fn check_timestamps(
    bundle: &Bundle,
    policy: &Policy,
    claimed: &[Option<String>],
) -> TimestampChecks {
    let mut checks = TimestampChecks::default();
    let messages = bundle.events.len() as u64 + 1;
    let mut best: Vec<Option<(i64, String, String)>> = vec![None; messages as usize];
    let mut reasons: Vec<Vec<String>> = vec![Vec::new(); messages as usize];
    let mut tokens = vec![0usize; messages as usize];
    for (n, record) in bundle.timestamps.iter().enumerate() {
        // The reader bounds `covers` by the events before the record.
        let Some(raw) = message_bytes(bundle, record.covers) else {
            continue;
        };
        let index = record.covers as usize;
        tokens[index] += 1;
        let imprint = message_imprint(raw);
        let token = match timestamp_token::check_token(&record.token, &imprint) {
            Ok(token) => token,
            Err(why) => {
                checks.integrity.push(format!(
                    "timestamp record {} (of the {}) does not belong to its message: {why}",
                    n + 1,
                    subject(record.covers)
                ));
                continue;
            }
        };
        match timestamp_token::attest(&token, &policy.timestamps.trusted_tsa) {
            Ok(()) => {
                if best[index].as_ref().is_none_or(|b| token.gen_time < b.0) {
                    best[index] = Some((token.gen_time, token.gen_time_text(), token.tsa_name));
                }
            }
            Err(why) => reasons[index].push(format!("token by {}: {why}", token.tsa_name)),
        }
    }
    for index in 0..messages {
        let i = index as usize;
        let claimed_time = claimed.get(i).cloned().flatten();
        let (attested, tsa) = match &best[i] {
            Some((at, text, tsa)) => {
                if let Some(claim) = claimed_time.as_deref().and_then(|c| parse_time(c).ok()) {
                    let skew = (claim.unix_timestamp() - at).abs();
                    if skew > policy.timestamps.max_claim_skew.whole_seconds() {
                        checks.warnings.push(format!(
                            "timestamp_skew: the {} claims {} but {tsa} attests {text}, {skew} \
                             s apart (the policy allows {} s)",
                            subject(index),
                            claimed_time.as_deref().unwrap_or_default(),
                            policy.timestamps.max_claim_skew.whole_seconds()
                        ));
                    }
                }
                (Some(text.clone()), Some(tsa.clone()))
            }
            None => (None, None),
        };
        if attested.is_none() {
            if policy.timestamps.require {
                let why = if reasons[i].is_empty() {
                    "it has no token that attests its time".to_string()
                } else {
                    format!("no token attests its time ({})", reasons[i].join("; "))
                };
                checks.policy.push(RuleFailure::new(
                    "timestamp_required",
                    &subject(index),
                    format!("the policy requires an attested time; {why}"),
                ));
            } else {
                for reason in &reasons[i] {
                    checks.warnings.push(format!(
                        "the time of the {} is not attested: {reason}",
                        subject(index)
                    ));
                }
            }
        }
        checks.times.push(MessageTime {
            message: subject(index),
            claimed: claimed_time,
            attested,
            tsa,
            tokens: tokens[i],
            unattested: std::mem::take(&mut reasons[i]),
        });
    }
    checks
}

/// One stored token as `show` lists it, without a policy: what it states and whether it
/// belongs to its message; whether its TSA is believed is `verify`'s question.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StoredToken {
    /// `seal` or `custody event N`.
    pub message: String,
    /// Its `genTime`, when the token belongs to its message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gen_time: Option<String>,
    /// The TSA's name (attacker text: escape before printing).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tsa: Option<String>,
    /// Why the token does not belong to its message, if it does not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}

/// The tokens stored in `bundle`, each checked against its message (§5.1 only).
pub fn stored_tokens(bundle: &Bundle) -> Vec<StoredToken> {
    bundle
        .timestamps
        .iter()
        .map(|record| {
            let raw = message_bytes(bundle, record.covers).unwrap_or_default();
            match timestamp_token::check_token(&record.token, &message_imprint(raw)) {
                Ok(token) => StoredToken {
                    message: subject(record.covers),
                    gen_time: Some(token.gen_time_text()),
                    tsa: Some(token.tsa_name),
                    problem: None,
                },
                Err(why) => StoredToken {
                    message: subject(record.covers),
                    gen_time: None,
                    tsa: None,
                    problem: Some(why),
                },
            }
        })
        .collect()
}
