//! FHIR R4 `Provenance` resources.

use serde_json::{Map, Value, json};

use seqprov_format::Bundle;
use seqprov_format::entry_table::EntryRef;
use seqprov_format::event::EventKind;
use seqprov_format::manifest::SEAL_CONTENT_TYPE;

use super::*;

/// A FHIR R4 `Provenance` resource for the chosen entries of a bundle, with its seal and
/// custody events (see `spec/export.md` §4).
pub fn fhir_provenance(bundle: &Bundle, entries: &[EntryRef<'_>]) -> Value {
    provenance_for(&ExportSource::with_entries(bundle, entries))
}

/// A FHIR R4 `Provenance` resource for an [`ExportSource`].
pub fn provenance_for(source: &ExportSource<'_>) -> Value {
    let payload = source.payload;
    let prefer_sha256 = payload.has_sha256();

    let mut targets = vec![reference(
        ROOT_ID_SYSTEM,
        &hex::encode(payload.root.0),
        &payload.subject.name,
    )];
    for entry in &source.entries {
        let (sha256, blake3) = (entry.sha256(), entry.blake3());
        let digest = match (&sha256, &blake3) {
            (Some(d), _) if prefer_sha256 => Some((SHA256_ID_SYSTEM, d)),
            (_, Some(d)) => Some((BLAKE3_ID_SYSTEM, d)),
            _ => None,
        };
        targets.push(match digest {
            Some((system, d)) => reference(system, &hex::encode(d.0), entry.path()),
            None => display_only(entry.path()),
        });
    }

    let seal_kid = source.seal.key_id.to_hex();
    let mut agents = vec![agent("author", "Author", &payload.signer, &seal_kid)];
    let mut signatures = vec![signature(
        signature_type(&payload.signer.meaning, None),
        &payload.time,
        &payload.signer,
        &seal_kid,
        SEAL_CONTENT_TYPE,
        &source.seal.raw,
    )];
    for event in &source.events {
        let p = &event.payload;
        let kid = event.message.key_id.to_hex();
        let (code, display) = participant_type(p.kind);
        agents.push(agent(code, display, &p.signer, &kid));
        signatures.push(signature(
            signature_type(&p.signer.meaning, Some(p.kind)),
            &p.time,
            &p.signer,
            &kid,
            &event.message.content_type,
            &event.message.raw,
        ));
    }

    for token in &source.timestamps {
        signatures.push(json!({
            "type": [{
                "system": SIGNATURE_TYPE_SYSTEM,
                "code": TIMESTAMP_SIGNATURE_CODE,
                "display": "Timestamp Signature",
            }],
            "when": token.gen_time,
            "who": { "display": fhir_string(&token.tsa).unwrap_or_else(|| "TSA".into()) },
            "targetFormat": token.target_format,
            "sigFormat": TIMESTAMP_SIG_FORMAT,
            "data": base64(token.token),
        }));
    }

    let mut resource = Map::new();
    resource.insert("resourceType".into(), "Provenance".into());
    resource.insert("target".into(), Value::Array(targets));
    resource.insert("recorded".into(), payload.time.clone().into());
    resource.insert(
        "activity".into(),
        json!({ "text": "seqprov seal (bundle format version 1)" }),
    );
    resource.insert("agent".into(), Value::Array(agents));
    if let Some(from) = &payload.derived_from {
        let mut what = reference(ROOT_ID_SYSTEM, &hex::encode(from.root.0), &from.subject);
        if let Some(text) = fhir_string(&from.step) {
            // The step is free text; keep it readable next to the input's name.
            let display = match fhir_string(&from.subject) {
                Some(subject) => format!("{subject} (step: {text})"),
                None => format!("(step: {text})"),
            };
            what["display"] = display.into();
        }
        resource.insert("entity".into(), json!([{ "role": "source", "what": what }]));
    }
    resource.insert("signature".into(), Value::Array(signatures));
    Value::Object(resource)
}

/// Pretty JSON text of a FHIR resource with `resourceType` as its first property (as
/// FHIR's examples write it; the order of JSON properties carries no meaning).
pub fn fhir_json_pretty(resource: &Value) -> String {
    #[derive(serde::Serialize)]
    struct ResourceFirst<'a> {
        #[serde(rename = "resourceType")]
        resource_type: &'a Value,
        #[serde(flatten)]
        rest: Map<String, Value>,
    }
    let Value::Object(object) = resource else {
        return serde_json::to_string_pretty(resource).expect("JSON values always serialise");
    };
    let mut rest = object.clone();
    let Some(resource_type) = rest.remove("resourceType") else {
        return serde_json::to_string_pretty(resource).expect("JSON values always serialise");
    };
    serde_json::to_string_pretty(&ResourceFirst {
        resource_type: &resource_type,
        rest,
    })
    .expect("JSON values always serialise")
}

/// A FHIR `string`: non-empty, with control characters other than tab, CR and LF written
/// as `\xNN` / `\u{NNNN}` (FHIR strings should not contain them). `None` when empty.
pub(super) fn fhir_string(text: &str) -> Option<String> {
    if text.is_empty() {
        return None;
    }
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if c.is_control() => out.push_str(&format!("\\u{{{:04x}}}", c as u32)),
            c => out.push(c),
        }
    }
    Some(out)
}

/// A `Reference` by identifier, with a display text when there is one.
pub(super) fn reference(system: &str, value: &str, display: &str) -> Value {
    let mut object = Map::new();
    object.insert(
        "identifier".into(),
        json!({ "system": system, "value": value }),
    );
    if let Some(display) = fhir_string(display) {
        object.insert("display".into(), display.into());
    }
    Value::Object(object)
}

/// A `Reference` with a display text only (symbolic links and empty directories).
pub(super) fn display_only(display: &str) -> Value {
    json!({ "display": fhir_string(display).unwrap_or_else(|| "(unnamed)".into()) })
}

pub(super) fn signer_reference(
    signer: &seqprov_format::manifest::SignerInfo,
    key_id: &str,
) -> Value {
    reference(KEY_ID_SYSTEM, key_id, &signer.name)
}

pub(super) fn agent(
    code: &str,
    display: &str,
    signer: &seqprov_format::manifest::SignerInfo,
    key_id: &str,
) -> Value {
    let mut object = Map::new();
    object.insert(
        "type".into(),
        json!({ "coding": [{ "system": PARTICIPANT_TYPE_SYSTEM, "code": code, "display": display }] }),
    );
    if let Some(role) = fhir_string(&signer.role) {
        object.insert("role".into(), json!([{ "text": role }]));
    }
    object.insert("who".into(), signer_reference(signer, key_id));
    Value::Object(object)
}

/// `Provenance.agent.type` of a custody event's signer.
pub(super) fn participant_type(kind: EventKind) -> (&'static str, &'static str) {
    match kind {
        EventKind::Transfer => ("custodian", "Custodian"),
        EventKind::Receive => ("verifier", "Verifier"),
        EventKind::Attest => ("attester", "Attester"),
        EventKind::Derive => ("performer", "Performer"),
    }
}

/// `Signature.type` (ASTM E1762) from the meaning of the signature: its first word
/// `review` or `approval`; else a `receive` event's verification; else the author's
/// signature of the signed statement.
pub(super) fn signature_type(
    meaning: &str,
    kind: Option<EventKind>,
) -> (&'static str, &'static str) {
    let first = meaning
        .trim_start()
        .split(|c: char| c == ':' || c.is_whitespace())
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    match (first.as_str(), kind) {
        ("review", _) => ("1.2.840.10065.1.12.1.13", "Review Signature"),
        ("approval", _) => ("1.2.840.10065.1.12.1.6", "Validation Signature"),
        (_, Some(EventKind::Receive)) => ("1.2.840.10065.1.12.1.5", "Verification Signature"),
        _ => ("1.2.840.10065.1.12.1.1", "Author's Signature"),
    }
}

pub(super) fn signature(
    (code, display): (&str, &str),
    when: &str,
    signer: &seqprov_format::manifest::SignerInfo,
    key_id: &str,
    target_format: &str,
    raw: &[u8],
) -> Value {
    json!({
        "type": [{ "system": SIGNATURE_TYPE_SYSTEM, "code": code, "display": display }],
        "when": when,
        "who": signer_reference(signer, key_id),
        "targetFormat": target_format,
        "sigFormat": COSE_SIG_FORMAT,
        "data": base64(raw),
    })
}
