//! A signer whose Ed25519 key stays in a PKCS#11 token (PKCS#11 3.0 `CKM_EDDSA`, pure
//! Ed25519), and making such a key on a token (`CKM_EC_EDWARDS_KEY_PAIR_GEN`, sensitive
//! and not extractable).

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error as CryptokiError, RvError};
use cryptoki::mechanism::Mechanism;
use cryptoki::mechanism::eddsa::{EddsaParams, EddsaSignatureScheme};
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::Slot;
use cryptoki::types::AuthPin;
use der::asn1::{ObjectIdentifier, OctetStringRef};
use der::{Decode, Encode};
use ed25519_dalek::VerifyingKey;
use seqprov::keys::{Ed25519Signer, KeyStorage, SigningError};
use zeroize::Zeroizing;

use crate::error::SignerError;
use crate::pkcs11_uri::Pkcs11Uri;

/// RFC 8410 `id-Ed25519`, the CKA_EC_PARAMS of an Ed25519 key (PKCS#11 3.0 §2.3.10).
const ID_ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");

/// Asks for the token's PIN when the token needs one (the environment or a terminal).
pub type PinSource<'a> = &'a dyn Fn(&str) -> Result<Zeroizing<String>, String>;

/// A key in a PKCS#11 token, opened and logged in, that signs with `CKM_EDDSA`.
pub struct Pkcs11Signer {
    session: Mutex<Session>,
    private_key: ObjectHandle,
    public_key: VerifyingKey,
    /// Kept so the module stays loaded and initialised for the session's life.
    _context: Pkcs11,
}

/// A session on the token a URI names, logged in as the user.
struct OpenToken {
    context: Pkcs11,
    session: Session,
    label: String,
}

/// Load the module (`module` if given, else the URI's `module-path`) and initialise it.
fn load_module(uri: &Pkcs11Uri, module: Option<&Path>) -> Result<Pkcs11, SignerError> {
    let path: PathBuf = match (module, &uri.module_path) {
        (Some(path), _) => path.to_path_buf(),
        (None, Some(path)) => PathBuf::from(path),
        (None, None) => {
            return Err(SignerError::Module(
                "no module named: pass --pkcs11-module PATH, set SEQPROV_PKCS11_MODULE or \
                 add ?module-path=PATH to the URI"
                    .into(),
            ));
        }
    };
    if !path.is_file() {
        return Err(SignerError::Module(format!(
            "{}: no such file",
            path.display()
        )));
    }
    let context = Pkcs11::new(&path)
        .map_err(|e| SignerError::Module(format!("cannot load {}: {e}", path.display())))?;
    context
        .initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK))
        .map_err(|e| {
            SignerError::Module(format!("{}: C_Initialize failed: {e}", path.display()))
        })?;
    Ok(context)
}

/// The one slot whose token matches the URI's token attributes.
fn find_slot(context: &Pkcs11, uri: &Pkcs11Uri) -> Result<(Slot, String), SignerError> {
    let token_err = |e: CryptokiError| SignerError::Token(e.to_string());
    let mut found = Vec::new();
    for slot in context.get_slots_with_token().map_err(token_err)? {
        if uri.slot_id.is_some_and(|id| id != slot.id()) {
            continue;
        }
        let info = context.get_token_info(slot).map_err(token_err)?;
        let matches = |want: &Option<String>, have: &str| {
            want.as_deref().is_none_or(|want| want == have.trim_end())
        };
        if matches(&uri.token, info.label())
            && matches(&uri.manufacturer, info.manufacturer_id())
            && matches(&uri.model, info.model())
            && matches(&uri.serial, info.serial_number())
        {
            found.push((slot, info.label().trim_end().to_string()));
        }
    }
    let wanted = uri.token.as_deref().unwrap_or("(any)");
    match found.len() {
        0 => Err(SignerError::Token(format!(
            "no token labelled {wanted:?} (and matching the URI) is present"
        ))),
        1 => Ok(found.remove(0)),
        n => Err(SignerError::Token(format!(
            "{n} tokens match the URI (token {wanted:?}); name one with token=, serial= or \
             slot-id="
        ))),
    }
}

/// Open a session on the URI's token and log in with the PIN `pin` gives.
fn open_token(
    uri: &Pkcs11Uri,
    module: Option<&Path>,
    pin: PinSource<'_>,
    read_write: bool,
) -> Result<OpenToken, SignerError> {
    let context = load_module(uri, module)?;
    let (slot, label) = find_slot(&context, uri)?;
    let session = if read_write {
        context.open_rw_session(slot)
    } else {
        context.open_ro_session(slot)
    }
    .map_err(|e| SignerError::Token(format!("{label:?}: cannot open a session: {e}")))?;
    let info = context
        .get_token_info(slot)
        .map_err(|e| SignerError::Token(e.to_string()))?;
    if info.login_required() {
        let secret = pin(&label).map_err(SignerError::Token)?;
        let auth = AuthPin::from(secret.as_str());
        match session.login(UserType::User, Some(&auth)) {
            Ok(()) | Err(CryptokiError::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => {}
            Err(CryptokiError::Pkcs11(RvError::PinIncorrect, _)) => {
                return Err(SignerError::Token(format!(
                    "{label:?} refused the PIN (CKR_PIN_INCORRECT)"
                )));
            }
            Err(CryptokiError::Pkcs11(RvError::PinLocked, _)) => {
                return Err(SignerError::Token(format!(
                    "{label:?}: the user PIN is locked (CKR_PIN_LOCKED)"
                )));
            }
            Err(e) => {
                return Err(SignerError::Token(format!("{label:?}: login failed: {e}")));
            }
        }
    }
    Ok(OpenToken {
        context,
        session,
        label,
    })
}

/// The template that finds the URI's Ed25519 key objects of `class`.
fn key_template(uri: &Pkcs11Uri, class: ObjectClass) -> Vec<Attribute> {
    let mut template = vec![
        Attribute::Class(class),
        Attribute::KeyType(KeyType::EC_EDWARDS),
    ];
    if let Some(label) = &uri.object {
        template.push(Attribute::Label(label.as_bytes().to_vec()));
    }
    if let Some(id) = &uri.id {
        template.push(Attribute::Id(id.clone()));
    }
    template
}

/// What the URI names, for messages.
fn object_name(uri: &Pkcs11Uri) -> String {
    match (&uri.object, &uri.id) {
        (Some(label), _) => format!("object {label:?}"),
        (None, Some(id)) => format!(
            "object with id {}",
            id.iter().map(|b| format!("{b:02x}")).collect::<String>()
        ),
        (None, None) => "object".into(),
    }
}

/// The one object of `class` the URI names on the token.
fn find_one(
    token: &OpenToken,
    uri: &Pkcs11Uri,
    class: ObjectClass,
    what: &str,
) -> Result<ObjectHandle, SignerError> {
    let mut handles = token
        .session
        .find_objects(&key_template(uri, class))
        .map_err(|e| SignerError::Token(format!("{:?}: C_FindObjects: {e}", token.label)))?;
    match handles.len() {
        0 => Err(SignerError::Token(format!(
            "{:?} has no Ed25519 {what} {}",
            token.label,
            object_name(uri)
        ))),
        1 => Ok(handles.remove(0)),
        n => Err(SignerError::Token(format!(
            "{:?} has {n} Ed25519 {what}s matching {}; add id= to the URI",
            token.label,
            object_name(uri)
        ))),
    }
}

/// The Ed25519 public key in a CKA_EC_POINT: the 32 raw bytes, or a DER OCTET STRING
/// around them (what PKCS#11 3.0 tokens such as SoftHSM2 store).
pub fn public_key_from_ec_point(ec_point: &[u8]) -> Result<VerifyingKey, String> {
    let raw: [u8; 32] = match <[u8; 32]>::try_from(ec_point) {
        Ok(raw) => raw,
        Err(_) => {
            let octets = OctetStringRef::from_der(ec_point).map_err(|e| {
                format!("CKA_EC_POINT is neither 32 raw bytes nor a DER OCTET STRING ({e})")
            })?;
            octets.as_bytes().try_into().map_err(|_| {
                format!(
                    "CKA_EC_POINT holds {} bytes, not a 32-byte Ed25519 key",
                    octets.as_bytes().len()
                )
            })?
        }
    };
    let key = VerifyingKey::from_bytes(&raw).map_err(|e| format!("CKA_EC_POINT: {e}"))?;
    if key.is_weak() {
        return Err("CKA_EC_POINT is a weak (small-order) Ed25519 key".into());
    }
    Ok(key)
}

/// The public key of the URI's public key object.
fn read_public_key(token: &OpenToken, uri: &Pkcs11Uri) -> Result<VerifyingKey, SignerError> {
    let handle = find_one(token, uri, ObjectClass::PUBLIC_KEY, "public key")?;
    let attributes = token
        .session
        .get_attributes(handle, &[AttributeType::EcPoint])
        .map_err(|e| SignerError::Token(format!("{:?}: reading CKA_EC_POINT: {e}", token.label)))?;
    let point = attributes
        .into_iter()
        .find_map(|a| match a {
            Attribute::EcPoint(point) => Some(point),
            _ => None,
        })
        .ok_or_else(|| {
            SignerError::Token(format!(
                "{:?}: the public key {} has no CKA_EC_POINT",
                token.label,
                object_name(uri)
            ))
        })?;
    public_key_from_ec_point(&point).map_err(|why| {
        SignerError::Token(format!("{:?}, {}: {why}", token.label, object_name(uri)))
    })
}

impl Pkcs11Signer {
    /// Open the key `uri` names: load the module (`module` overrides the URI's
    /// `module-path`), find the token, log in with the PIN from `pin`, and find the
    /// private key and its public key object (same label and id).
    pub fn open(
        uri: &Pkcs11Uri,
        module: Option<&Path>,
        pin: PinSource<'_>,
    ) -> Result<Pkcs11Signer, SignerError> {
        let token = open_token(uri, module, pin, false)?;
        let private_key = find_one(&token, uri, ObjectClass::PRIVATE_KEY, "private key")?;
        let public_key = read_public_key(&token, uri)?;
        Ok(Pkcs11Signer {
            session: Mutex::new(token.session),
            private_key,
            public_key,
            _context: token.context,
        })
    }
}

impl Ed25519Signer for Pkcs11Signer {
    fn public_key(&self) -> VerifyingKey {
        self.public_key
    }

    fn try_sign_message(&self, message: &[u8]) -> Result<[u8; 64], SigningError> {
        let session = self.session.lock().unwrap_or_else(|e| e.into_inner());
        let mechanism = Mechanism::Eddsa(EddsaParams::new(EddsaSignatureScheme::Pure));
        let signature = session
            .sign(&mechanism, self.private_key, message)
            .map_err(|e| SigningError(format!("the PKCS#11 token refused to sign: {e}")))?;
        signature.as_slice().try_into().map_err(|_| {
            SigningError(format!(
                "the PKCS#11 token returned {} bytes, not a 64-byte Ed25519 signature",
                signature.len()
            ))
        })
    }
}

impl seqprov::Signer for Pkcs11Signer {
    fn signer_name(&self) -> Option<String> {
        None
    }

    fn key_storage(&self) -> KeyStorage {
        KeyStorage::Pkcs11
    }
}

/// Make a new Ed25519 key pair on the token the URI names, labelled with its `object`
/// (and `id` if given): the private key is a token object, private, sensitive, not
/// extractable, for signing only. Refuses when an object with that label exists.
/// Returns the public key.
pub fn generate_key_pair(
    uri: &Pkcs11Uri,
    module: Option<&Path>,
    pin: PinSource<'_>,
) -> Result<VerifyingKey, SignerError> {
    let label = uri.object.clone().ok_or_else(|| {
        SignerError::Reference("keygen --pkcs11 needs object=LABEL in the URI".into())
    })?;
    let token = open_token(uri, module, pin, true)?;
    let existing = token
        .session
        .find_objects(&[Attribute::Label(label.as_bytes().to_vec())])
        .map_err(|e| SignerError::Token(e.to_string()))?;
    if !existing.is_empty() {
        return Err(SignerError::Token(format!(
            "{:?} already holds an object labelled {label:?}; nothing was made",
            token.label
        )));
    }
    let params = ID_ED25519
        .to_der()
        .map_err(|e| SignerError::Token(format!("encoding CKA_EC_PARAMS: {e}")))?;
    let mut public = vec![
        Attribute::Token(true),
        Attribute::Private(false),
        Attribute::Verify(true),
        Attribute::Encrypt(false),
        Attribute::Wrap(false),
        Attribute::Derive(false),
        Attribute::Label(label.as_bytes().to_vec()),
        Attribute::EcParams(params),
    ];
    let mut private = vec![
        Attribute::Token(true),
        Attribute::Private(true),
        Attribute::Sensitive(true),
        Attribute::Extractable(false),
        Attribute::Sign(true),
        Attribute::Decrypt(false),
        Attribute::Unwrap(false),
        Attribute::Derive(false),
        Attribute::Label(label.as_bytes().to_vec()),
    ];
    if let Some(id) = &uri.id {
        public.push(Attribute::Id(id.clone()));
        private.push(Attribute::Id(id.clone()));
    }
    let (public_handle, _) = token
        .session
        .generate_key_pair(&Mechanism::EccEdwardsKeyPairGen, &public, &private)
        .map_err(|e| {
            SignerError::Token(format!(
                "{:?}: generating an Ed25519 key pair failed: {e}",
                token.label
            ))
        })?;
    let attributes = token
        .session
        .get_attributes(public_handle, &[AttributeType::EcPoint])
        .map_err(|e| SignerError::Token(format!("reading CKA_EC_POINT: {e}")))?;
    let point = attributes
        .into_iter()
        .find_map(|a| match a {
            Attribute::EcPoint(point) => Some(point),
            _ => None,
        })
        .ok_or_else(|| SignerError::Token("the new public key has no CKA_EC_POINT".into()))?;
    public_key_from_ec_point(&point).map_err(SignerError::Token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ec_point_raw_or_der_wrapped() {
        let key = ed25519_dalek::SigningKey::from_bytes(&[3; 32]).verifying_key();
        let raw = key.to_bytes();
        assert_eq!(public_key_from_ec_point(&raw).unwrap(), key);
        let wrapped = OctetStringRef::new(&raw).unwrap().to_der().unwrap();
        assert_eq!(&wrapped[..2], &[0x04, 0x20]);
        assert_eq!(public_key_from_ec_point(&wrapped).unwrap(), key);
        let short = OctetStringRef::new(&raw[..31]).unwrap().to_der().unwrap();
        assert!(
            public_key_from_ec_point(&short)
                .unwrap_err()
                .contains("31 bytes")
        );
        assert!(public_key_from_ec_point(&[0x30, 0x00]).is_err());
        let mut identity = [0u8; 32];
        identity[0] = 1;
        assert!(public_key_from_ec_point(&identity).is_err(), "weak key");
    }

    #[test]
    fn ed25519_params_are_the_rfc_8410_oid() {
        assert_eq!(ID_ED25519.to_der().unwrap(), [0x06, 0x03, 0x2b, 0x65, 0x70]);
    }
}
