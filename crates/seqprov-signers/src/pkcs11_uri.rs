//! RFC 7512 `pkcs11:` URIs: the path attributes that pick a token and a key, and the
//! query's `module-path`. Values are percent-decoded (RFC 3986). A PIN in the URI
//! (`pin-value`, `pin-source`) is refused: the PIN never travels on a command line.

use percent_encoding::percent_decode_str;

use crate::error::SignerError;

/// Longest URI accepted (real ones are a few hundred bytes).
pub const MAX_URI_BYTES: usize = 4096;

/// A parsed `pkcs11:` URI: which token, which object, which module.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Pkcs11Uri {
    /// `token`: the token label.
    pub token: Option<String>,
    /// `manufacturer`: the token's manufacturer id.
    pub manufacturer: Option<String>,
    /// `model`: the token's model.
    pub model: Option<String>,
    /// `serial`: the token's serial number.
    pub serial: Option<String>,
    /// `slot-id`: the slot number.
    pub slot_id: Option<u64>,
    /// `object`: the key's label (CKA_LABEL).
    pub object: Option<String>,
    /// `id`: the key's CKA_ID bytes.
    pub id: Option<Vec<u8>>,
    /// `type`: the object class named (`private`, `public`, …), if given.
    pub object_type: Option<String>,
    /// `module-path` (query): the PKCS#11 module to load.
    pub module_path: Option<String>,
}

impl Pkcs11Uri {
    /// Parse `text` (which must start with `pkcs11:`).
    pub fn parse(text: &str) -> Result<Pkcs11Uri, SignerError> {
        let bad = |why: String| SignerError::Reference(why);
        if text.len() > MAX_URI_BYTES {
            return Err(bad(format!(
                "the pkcs11: URI is longer than {MAX_URI_BYTES} bytes"
            )));
        }
        let rest = text
            .strip_prefix("pkcs11:")
            .ok_or_else(|| bad("not a pkcs11: URI".into()))?;
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        let mut uri = Pkcs11Uri::default();
        for attribute in path.split(';').filter(|a| !a.is_empty()) {
            let (name, value) = attribute
                .split_once('=')
                .ok_or_else(|| bad(format!("path attribute {attribute:?} has no '='")))?;
            let slot = match name {
                "token" => &mut uri.token,
                "manufacturer" => &mut uri.manufacturer,
                "model" => &mut uri.model,
                "serial" => &mut uri.serial,
                "object" => &mut uri.object,
                "type" => &mut uri.object_type,
                "id" => {
                    if uri.id.is_some() {
                        return Err(bad("attribute id appears twice".into()));
                    }
                    uri.id = Some(percent_decode_str(value).collect());
                    continue;
                }
                "slot-id" => {
                    if uri.slot_id.is_some() {
                        return Err(bad("attribute slot-id appears twice".into()));
                    }
                    let text = decode_text(name, value)?;
                    uri.slot_id =
                        Some(text.parse().map_err(|_| {
                            bad(format!("slot-id {text:?} is not a decimal number"))
                        })?);
                    continue;
                }
                // Library attributes identify the module; the module path does that here.
                "library-manufacturer"
                | "library-description"
                | "library-version"
                | "slot-manufacturer"
                | "slot-description" => continue,
                other => {
                    return Err(bad(format!("unknown path attribute {other:?}")));
                }
            };
            if slot.is_some() {
                return Err(bad(format!("attribute {name} appears twice")));
            }
            *slot = Some(decode_text(name, value)?);
        }
        for attribute in query.split('&').filter(|a| !a.is_empty()) {
            let (name, value) = attribute
                .split_once('=')
                .ok_or_else(|| bad(format!("query attribute {attribute:?} has no '='")))?;
            match name {
                "module-path" => {
                    if uri.module_path.is_some() {
                        return Err(bad("module-path appears twice".into()));
                    }
                    uri.module_path = Some(decode_text(name, value)?);
                }
                "pin-value" | "pin-source" => {
                    return Err(bad(format!(
                        "{name} is refused: the PIN never goes on the command line; set \
                         SEQPROV_PKCS11_PIN or type it when asked"
                    )));
                }
                // module-name would need a search path; vendor attributes are ignored.
                "module-name" => {
                    return Err(bad(
                        "module-name is not supported; give module-path or --pkcs11-module".into(),
                    ));
                }
                _ => {}
            }
        }
        if let Some(kind) = &uri.object_type
            && kind != "private"
        {
            return Err(bad(format!(
                "type={kind:?}: the key reference names a private key (type=private)"
            )));
        }
        if uri.object.is_none() && uri.id.is_none() {
            return Err(bad(
                "the URI names no key: give object=LABEL (or id=…)".into()
            ));
        }
        Ok(uri)
    }
}

/// Percent-decode an attribute value that must be UTF-8 text.
fn decode_text(name: &str, value: &str) -> Result<String, SignerError> {
    percent_decode_str(value)
        .decode_utf8()
        .map(|text| text.into_owned())
        .map_err(|_| SignerError::Reference(format!("attribute {name} is not UTF-8 text")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_token_object_id_and_module() {
        let uri = Pkcs11Uri::parse(
            "pkcs11:token=Lab%20Token;object=core%2Dkey;id=%01%ff;type=private\
             ?module-path=/usr/lib/softhsm/libsofthsm2.so",
        )
        .unwrap();
        assert_eq!(uri.token.as_deref(), Some("Lab Token"));
        assert_eq!(uri.object.as_deref(), Some("core-key"));
        assert_eq!(uri.id.as_deref(), Some(&[1u8, 0xff][..]));
        assert_eq!(
            uri.module_path.as_deref(),
            Some("/usr/lib/softhsm/libsofthsm2.so")
        );
    }

    #[test]
    fn slot_serial_model_manufacturer() {
        let uri = Pkcs11Uri::parse(
            "pkcs11:manufacturer=SoftHSM%20project;model=SoftHSM%20v2;serial=abc;slot-id=7;object=k",
        )
        .unwrap();
        assert_eq!(uri.manufacturer.as_deref(), Some("SoftHSM project"));
        assert_eq!(uri.model.as_deref(), Some("SoftHSM v2"));
        assert_eq!(uri.serial.as_deref(), Some("abc"));
        assert_eq!(uri.slot_id, Some(7));
    }

    #[test]
    fn refuses_a_pin_in_the_uri() {
        for uri in [
            "pkcs11:object=k?pin-value=1234",
            "pkcs11:object=k?pin-source=file:/tmp/pin",
        ] {
            let err = Pkcs11Uri::parse(uri).unwrap_err().to_string();
            assert!(err.contains("never goes on the command line"), "{err}");
        }
    }

    #[test]
    fn refuses_malformed_uris() {
        for (uri, why) in [
            ("pkcs12:object=k", "not a pkcs11: URI"),
            ("pkcs11:object", "has no '='"),
            ("pkcs11:object=a;object=b", "appears twice"),
            ("pkcs11:colour=blue;object=k", "unknown path attribute"),
            ("pkcs11:token=t", "names no key"),
            ("pkcs11:object=%ff", "not UTF-8"),
            ("pkcs11:object=k;slot-id=x", "not a decimal number"),
            ("pkcs11:object=k;type=public", "type=private"),
        ] {
            let err = Pkcs11Uri::parse(uri).unwrap_err().to_string();
            assert!(err.contains(why), "{uri}: {err}");
        }
        let long = format!("pkcs11:object={}", "a".repeat(MAX_URI_BYTES));
        assert!(Pkcs11Uri::parse(&long).is_err());
    }

    #[test]
    fn empty_attributes_and_unknown_query_are_ignored() {
        let uri = Pkcs11Uri::parse("pkcs11:;object=k;?x-vendor=1&").unwrap();
        assert_eq!(uri.object.as_deref(), Some("k"));
    }
}
