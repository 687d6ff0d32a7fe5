//! Checking an RFC 3161 time-stamp token offline (`spec/timestamps.md` §5): whether it
//! belongs to the message it covers ([`check_token`], an integrity question) and whether
//! its TSA is to be believed at the time it states ([`attest`], a trust question).
//!
//! Every byte of a token is attacker data: it is bounded before it is parsed and decoded
//! with the strict DER decoder of the `der` crate family (`cms`, `x509-cert`,
//! `x509-tsp`); nothing here panics on it. The one departure from `x509-tsp` is
//! `genTime`, which RFC 3161 allows to carry a fraction of a second ([`GenTime`]).

use cms::cert::IssuerAndSerialNumber;
use cms::content_info::ContentInfo;
use cms::signed_data::{SignedData, SignerIdentifier, SignerInfo};
use der::asn1::{Int, ObjectIdentifier, OctetString};
use der::{
    DateTime, Decode, DecodeValue, Encode, EncodeValue, FixedTag, Header, Length, Reader, Sequence,
    Tag, Writer,
};
use sha2::Digest;
use x509_cert::Certificate;
use x509_cert::ext::Extensions;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{BasicConstraints, ExtendedKeyUsage, SubjectKeyIdentifier};
use x509_cert::spki::AlgorithmIdentifierOwned;
use x509_tsp::{Accuracy, MessageImprint, TsaPolicyId, TspVersion};

pub use seqprov_format::timestamp_record::{MAX_TOKEN_BYTES, message_imprint};

/// Most certificates a token may carry (spec/timestamps.md §7).
pub const MAX_TOKEN_CERTIFICATES: usize = 16;
/// Longest chain from a TSA certificate to a trusted root, both included.
pub const MAX_CHAIN_LENGTH: usize = 8;

mod oid {
    use der::asn1::ObjectIdentifier as Oid;
    pub const SIGNED_DATA: Oid = Oid::new_unwrap("1.2.840.113549.1.7.2");
    pub const TST_INFO: Oid = Oid::new_unwrap("1.2.840.113549.1.9.16.1.4");
    pub const CONTENT_TYPE: Oid = Oid::new_unwrap("1.2.840.113549.1.9.3");
    pub const MESSAGE_DIGEST: Oid = Oid::new_unwrap("1.2.840.113549.1.9.4");
    pub const SIGNING_CERTIFICATE: Oid = Oid::new_unwrap("1.2.840.113549.1.9.16.2.12");
    pub const SIGNING_CERTIFICATE_V2: Oid = Oid::new_unwrap("1.2.840.113549.1.9.16.2.47");
    pub const SHA1: Oid = Oid::new_unwrap("1.3.14.3.2.26");
    pub const SHA256: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.1");
    pub const SHA384: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.2");
    pub const SHA512: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.3");
    pub const ECDSA_SHA256: Oid = Oid::new_unwrap("1.2.840.10045.4.3.2");
    pub const ECDSA_SHA384: Oid = Oid::new_unwrap("1.2.840.10045.4.3.3");
    pub const ECDSA_SHA512: Oid = Oid::new_unwrap("1.2.840.10045.4.3.4");
    pub const RSA_ENCRYPTION: Oid = Oid::new_unwrap("1.2.840.113549.1.1.1");
    pub const RSA_SHA256: Oid = Oid::new_unwrap("1.2.840.113549.1.1.11");
    pub const RSA_SHA384: Oid = Oid::new_unwrap("1.2.840.113549.1.1.12");
    pub const RSA_SHA512: Oid = Oid::new_unwrap("1.2.840.113549.1.1.13");
    pub const EC_PUBLIC_KEY: Oid = Oid::new_unwrap("1.2.840.10045.2.1");
    pub const P256: Oid = Oid::new_unwrap("1.2.840.10045.3.1.7");
    pub const P384: Oid = Oid::new_unwrap("1.3.132.0.34");
    pub const EXTENDED_KEY_USAGE: Oid = Oid::new_unwrap("2.5.29.37");
    pub const BASIC_CONSTRAINTS: Oid = Oid::new_unwrap("2.5.29.19");
    pub const SUBJECT_KEY_IDENTIFIER: Oid = Oid::new_unwrap("2.5.29.14");
    pub const KP_TIME_STAMPING: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.3.8");
}

/// `IssuerSerial` of RFC 5035 (in `ESSCertID` and `ESSCertIDv2`).
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
struct IssuerSerial {
    issuer: Vec<GeneralName>,
    serial_number: x509_cert::serial_number::SerialNumber,
}

/// `ESSCertID` of RFC 2634 §5.4.1: a SHA-1 hash of the signing certificate.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
struct EssCertId {
    cert_hash: OctetString,
    #[asn1(optional = "true")]
    issuer_serial: Option<IssuerSerial>,
}

/// `SigningCertificate` of RFC 2634 §5.4.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
struct SigningCertificate {
    certs: Vec<EssCertId>,
    #[asn1(optional = "true")]
    policies: Option<der::Any>,
}

/// `ESSCertIDv2` of RFC 5035 §4: the signing certificate's hash, SHA-256 by default.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
struct EssCertIdV2 {
    #[asn1(optional = "true")]
    hash_algorithm: Option<AlgorithmIdentifierOwned>,
    cert_hash: OctetString,
    #[asn1(optional = "true")]
    issuer_serial: Option<IssuerSerial>,
}

/// `SigningCertificateV2` of RFC 5035 §3.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
struct SigningCertificateV2 {
    certs: Vec<EssCertIdV2>,
    #[asn1(optional = "true")]
    policies: Option<der::Any>,
}

/// `TSTInfo` of RFC 3161 §2.4.2, as `x509_tsp::TstInfo` but for `genTime` ([`GenTime`]):
///
/// ```text
/// TSTInfo ::= SEQUENCE  {
///     version                      INTEGER  { v1(1) },
///     policy                       TSAPolicyId,
///     messageImprint               MessageImprint,
///     serialNumber                 INTEGER,
///     genTime                      GeneralizedTime,
///     accuracy                     Accuracy                 OPTIONAL,
///     ordering                     BOOLEAN             DEFAULT FALSE,
///     nonce                        INTEGER                  OPTIONAL,
///     tsa                          [0] GeneralName          OPTIONAL,
///     extensions                   [1] IMPLICIT Extensions   OPTIONAL  }
/// ```
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
struct TstInfo {
    version: TspVersion,
    policy: TsaPolicyId,
    message_imprint: MessageImprint,
    serial_number: Int,
    gen_time: GenTime,
    #[asn1(optional = "true")]
    accuracy: Option<Accuracy>,
    #[asn1(default = "Default::default")]
    ordering: bool,
    #[asn1(optional = "true")]
    nonce: Option<Int>,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    tsa: Option<GeneralName>,
    #[asn1(context_specific = "1", tag_mode = "IMPLICIT", optional = "true")]
    extensions: Option<Extensions>,
}

/// `TSTInfo.genTime`: a DER GeneralizedTime of the form RFC 3161 §2.4.2 gives,
/// `YYYYMMDDhhmmss[.s...]Z` — a fraction of a second, if any, has at least one digit and
/// no trailing zero. `der::asn1::GeneralizedTime` refuses any fraction; this keeps the
/// content octets as received and the time truncated to whole seconds.
#[derive(Clone, Debug, Eq, PartialEq)]
struct GenTime {
    /// The content octets, as they stand in the token.
    text: Vec<u8>,
    /// The time, the fraction of a second dropped.
    whole_seconds: DateTime,
}

impl FixedTag for GenTime {
    const TAG: Tag = Tag::GeneralizedTime;
}

impl<'a> DecodeValue<'a> for GenTime {
    fn decode_value<R: Reader<'a>>(reader: &mut R, header: Header) -> der::Result<Self> {
        let text = reader.read_vec(header.length)?;
        let whole_seconds = gen_time_whole_seconds(&text)?;
        Ok(GenTime {
            text,
            whole_seconds,
        })
    }
}

impl EncodeValue for GenTime {
    fn value_len(&self) -> der::Result<Length> {
        Length::try_from(self.text.len())
    }

    fn encode_value(&self, writer: &mut impl Writer) -> der::Result<()> {
        writer.write(&self.text)
    }
}

/// The time a `genTime` text states, truncated to whole seconds: exactly 14 digits
/// `YYYYMMDDhhmmss` (a date and time from 1970 on that exists, seconds 00 to 59), then
/// either `Z` or `.`, one or more digits the last of which is not `0`, and `Z` (X.690
/// §11.7, RFC 3161 §2.4.2). Anything else is a DER value error.
fn gen_time_whole_seconds(text: &[u8]) -> der::Result<DateTime> {
    let bad = || Tag::GeneralizedTime.value_error();
    let (digits, zone) = text.split_at_checked(14).ok_or_else(bad)?;
    if !digits.iter().all(u8::is_ascii_digit) {
        return Err(bad());
    }
    let fraction_ok = match zone {
        [b'Z'] => true,
        [b'.', fraction @ .., b'Z'] => {
            fraction.iter().all(u8::is_ascii_digit)
                && fraction.last().is_some_and(|&last| last != b'0')
        }
        _ => false,
    };
    if !fraction_ok {
        return Err(bad());
    }
    // Two ASCII digits at `at` (checked above), 0 to 99.
    let two = |at: usize| (digits[at] - b'0') * 10 + (digits[at + 1] - b'0');
    let year = u16::from(two(0)) * 100 + u16::from(two(2));
    DateTime::new(year, two(4), two(6), two(8), two(10), two(12)).map_err(|_| bad())
}

/// A token that belongs to its message (§5.1 passed): what it states, and the
/// certificates it carries for §5.2.
#[derive(Clone, Debug)]
pub struct CheckedToken {
    /// `genTime`, as seconds since the Unix epoch (a fraction of a second is dropped).
    pub gen_time: i64,
    /// The TSA's name: `TSTInfo.tsa` if it is a directory name, else the TSA
    /// certificate's subject (attacker text: escape before printing).
    pub tsa_name: String,
    /// The token's nonce, big-endian as encoded, if any.
    pub nonce: Option<Vec<u8>>,
    /// The token's serial number, lower-case hex.
    pub serial: String,
    /// The TSA certificate (the one the signer info names).
    signer: Certificate,
    /// Every certificate the token carries.
    certificates: Vec<Certificate>,
}

impl CheckedToken {
    /// `genTime` as an RFC 3339 UTC text (`YYYY-MM-DDTHH:MM:SSZ`).
    pub fn gen_time_text(&self) -> String {
        time::OffsetDateTime::from_unix_timestamp(self.gen_time)
            .map(seqprov_format::manifest::format_time)
            .unwrap_or_else(|_| format!("@{}", self.gen_time))
    }
}

fn der_error(what: &str) -> impl Fn(der::Error) -> String + '_ {
    move |e| format!("{what} is not valid DER: {e}")
}

/// Check that `token` is a well-formed RFC 3161 token over `imprint` (SHA-256 of the
/// covered message), signed by the certificate it names (spec/timestamps.md §5.1). An
/// `Err` is an integrity failure, with its reason.
pub fn check_token(token: &[u8], imprint: &[u8; 32]) -> Result<CheckedToken, String> {
    if token.is_empty() || token.len() > MAX_TOKEN_BYTES {
        return Err(format!(
            "the token is {} bytes; a token holds 1 to {MAX_TOKEN_BYTES} bytes",
            token.len()
        ));
    }
    let info = ContentInfo::from_der(token).map_err(der_error("the token"))?;
    if info.content_type != oid::SIGNED_DATA {
        return Err(format!(
            "the token's content type is {}, not signed data",
            info.content_type
        ));
    }
    let signed: SignedData = info
        .content
        .decode_as()
        .map_err(der_error("the token's signed data"))?;
    if signed.encap_content_info.econtent_type != oid::TST_INFO {
        return Err(format!(
            "the token's content is {}, not id-ct-TSTInfo",
            signed.encap_content_info.econtent_type
        ));
    }
    let econtent = signed
        .encap_content_info
        .econtent
        .as_ref()
        .ok_or("the token has no TSTInfo (detached content)")?;
    let tst_der = econtent
        .decode_as::<OctetString>()
        .map_err(der_error("the token's encapsulated content"))?;
    let tst = TstInfo::from_der(tst_der.as_bytes()).map_err(der_error("the token's TSTInfo"))?;
    if tst.message_imprint.hash_algorithm.oid != oid::SHA256 {
        return Err(format!(
            "the token stamps a {} digest, not SHA-256",
            tst.message_imprint.hash_algorithm.oid
        ));
    }
    if tst.message_imprint.hashed_message.as_bytes() != imprint {
        return Err(
            "the token stamps another message (its imprint is not the SHA-256 of the \
             message it covers)"
                .into(),
        );
    }
    let signer_infos: Vec<&SignerInfo> = signed.signer_infos.0.iter().collect();
    let [signer_info] = signer_infos.as_slice() else {
        return Err(format!(
            "the token has {} signer infos, not exactly one",
            signer_infos.len()
        ));
    };
    let certificates = token_certificates(&signed)?;
    let signer = certificates
        .iter()
        .find(|c| names_certificate(&signer_info.sid, c))
        .ok_or("the token does not carry the certificate its signer info names")?
        .clone();
    check_signed_attributes(signer_info, tst_der.as_bytes(), &signer)?;
    let attrs = signer_info
        .signed_attrs
        .as_ref()
        .ok_or("the token's signer info has no signed attributes")?
        .to_der()
        .map_err(der_error("the signed attributes"))?;
    verify_signature(
        &signer,
        &signer_info.signature_algorithm,
        Some(&signer_info.digest_alg),
        &attrs,
        signer_info.signature.as_bytes(),
    )
    .map_err(|e| format!("the token's signature does not verify: {e}"))?;
    let tsa_name = match &tst.tsa {
        Some(GeneralName::DirectoryName(name)) => name.to_string(),
        _ => signer.tbs_certificate.subject.to_string(),
    };
    Ok(CheckedToken {
        gen_time: unix_seconds(&tst.gen_time.whole_seconds),
        tsa_name,
        nonce: tst.nonce.as_ref().map(|n| n.as_bytes().to_vec()),
        serial: hex::encode(tst.serial_number.as_bytes()),
        signer,
        certificates,
    })
}

fn unix_seconds(time: &DateTime) -> i64 {
    i64::try_from(time.unix_duration().as_secs()).unwrap_or(i64::MAX)
}

fn token_certificates(signed: &SignedData) -> Result<Vec<Certificate>, String> {
    let Some(set) = &signed.certificates else {
        return Err("the token carries no certificate (it was not requested with certReq)".into());
    };
    if set.0.len() > MAX_TOKEN_CERTIFICATES {
        return Err(format!(
            "the token carries {} certificates, more than {MAX_TOKEN_CERTIFICATES}",
            set.0.len()
        ));
    }
    Ok(set
        .0
        .iter()
        .filter_map(|choice| match choice {
            cms::cert::CertificateChoices::Certificate(c) => Some(c.clone()),
            _ => None,
        })
        .collect())
}

fn subject_key_identifier(cert: &Certificate) -> Option<Vec<u8>> {
    let ext = cert
        .tbs_certificate
        .extensions
        .as_ref()?
        .iter()
        .find(|e| e.extn_id == oid::SUBJECT_KEY_IDENTIFIER)?;
    SubjectKeyIdentifier::from_der(ext.extn_value.as_bytes())
        .ok()
        .map(|s| s.0.as_bytes().to_vec())
}

fn names_certificate(sid: &SignerIdentifier, cert: &Certificate) -> bool {
    match sid {
        SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
            issuer,
            serial_number,
        }) => {
            *issuer == cert.tbs_certificate.issuer
                && *serial_number == cert.tbs_certificate.serial_number
        }
        SignerIdentifier::SubjectKeyIdentifier(ski) => {
            subject_key_identifier(cert).as_deref() == Some(ski.0.as_bytes())
        }
    }
}

/// The single value of the signed attribute `id`, if the attribute is present once.
fn single_attribute<'a>(
    signer_info: &'a SignerInfo,
    id: ObjectIdentifier,
    name: &str,
) -> Result<Option<&'a der::Any>, String> {
    let attrs = signer_info
        .signed_attrs
        .as_ref()
        .ok_or("the token's signer info has no signed attributes")?;
    let mut found = attrs.iter().filter(|a| a.oid == id);
    let Some(attr) = found.next() else {
        return Ok(None);
    };
    if found.next().is_some() || attr.values.len() != 1 {
        return Err(format!(
            "the signed attribute {name} is not present exactly once"
        ));
    }
    Ok(attr.values.iter().next())
}

fn digest(algorithm: &ObjectIdentifier, data: &[u8]) -> Result<Vec<u8>, String> {
    Ok(match *algorithm {
        oid::SHA1 => sha1::Sha1::digest(data).to_vec(),
        oid::SHA256 => sha2::Sha256::digest(data).to_vec(),
        oid::SHA384 => sha2::Sha384::digest(data).to_vec(),
        oid::SHA512 => sha2::Sha512::digest(data).to_vec(),
        other => return Err(format!("digest algorithm {other} is not supported")),
    })
}

fn check_signed_attributes(
    signer_info: &SignerInfo,
    tst_der: &[u8],
    signer: &Certificate,
) -> Result<(), String> {
    let content_type = single_attribute(signer_info, oid::CONTENT_TYPE, "content-type")?
        .ok_or("the token has no signed content-type attribute")?
        .decode_as::<ObjectIdentifier>()
        .map_err(der_error("the content-type attribute"))?;
    if content_type != oid::TST_INFO {
        return Err(format!(
            "the signed content-type attribute is {content_type}, not id-ct-TSTInfo"
        ));
    }
    let message_digest = single_attribute(signer_info, oid::MESSAGE_DIGEST, "message-digest")?
        .ok_or("the token has no signed message-digest attribute")?
        .decode_as::<OctetString>()
        .map_err(der_error("the message-digest attribute"))?;
    if digest(&signer_info.digest_alg.oid, tst_der)? != message_digest.as_bytes() {
        return Err("the signed message digest is not the digest of the token's TSTInfo".into());
    }
    let cert_der = signer.to_der().map_err(der_error("the TSA certificate"))?;
    let v1 = single_attribute(signer_info, oid::SIGNING_CERTIFICATE, "signing-certificate")?;
    let v2 = single_attribute(
        signer_info,
        oid::SIGNING_CERTIFICATE_V2,
        "signing-certificate-v2",
    )?;
    let (hash_algorithm, cert_hash, issuer_serial) = match (v1, v2) {
        (Some(v1), None) => {
            let sc = v1
                .decode_as::<SigningCertificate>()
                .map_err(der_error("the signing-certificate attribute"))?;
            let first = sc
                .certs
                .into_iter()
                .next()
                .ok_or("the signing-certificate attribute names no certificate")?;
            (oid::SHA1, first.cert_hash, first.issuer_serial)
        }
        (None, Some(v2)) => {
            let sc = v2
                .decode_as::<SigningCertificateV2>()
                .map_err(der_error("the signing-certificate-v2 attribute"))?;
            let first = sc
                .certs
                .into_iter()
                .next()
                .ok_or("the signing-certificate-v2 attribute names no certificate")?;
            let algorithm = first.hash_algorithm.map_or(oid::SHA256, |a| a.oid);
            (algorithm, first.cert_hash, first.issuer_serial)
        }
        (None, None) => {
            return Err(
                "the token has no signing-certificate(-v2) attribute binding its TSA \
                 certificate (ESSCertID)"
                    .into(),
            );
        }
        (Some(_), Some(_)) => {
            return Err(
                "the token has both a signing-certificate and a signing-certificate-v2 \
                 attribute"
                    .into(),
            );
        }
    };
    if digest(&hash_algorithm, &cert_der)? != cert_hash.as_bytes() {
        return Err(
            "the ESSCertID does not match the certificate that signed the token (the \
             certificate was swapped)"
                .into(),
        );
    }
    if let Some(issuer_serial) = issuer_serial {
        let issuer_matches = issuer_serial.issuer.iter().any(|name| {
            matches!(name, GeneralName::DirectoryName(n) if *n == signer.tbs_certificate.issuer)
        });
        if !issuer_matches || issuer_serial.serial_number != signer.tbs_certificate.serial_number {
            return Err(
                "the ESSCertID's issuer and serial are not those of the TSA certificate".into(),
            );
        }
    }
    Ok(())
}

/// Verify `signature` over `message` with `signer`'s public key, under the signature
/// algorithm `algorithm` (and, for `rsaEncryption`, the digest algorithm `digest_alg`).
fn verify_signature(
    signer: &Certificate,
    algorithm: &AlgorithmIdentifierOwned,
    digest_alg: Option<&AlgorithmIdentifierOwned>,
    message: &[u8],
    signature: &[u8],
) -> Result<(), String> {
    let spki = &signer.tbs_certificate.subject_public_key_info;
    let key_bytes = spki
        .subject_public_key
        .as_bytes()
        .ok_or("the public key is not a whole number of bytes")?;
    match algorithm.oid {
        oid::ECDSA_SHA256 | oid::ECDSA_SHA384 | oid::ECDSA_SHA512 => {
            let hash = match algorithm.oid {
                oid::ECDSA_SHA256 => oid::SHA256,
                oid::ECDSA_SHA384 => oid::SHA384,
                _ => oid::SHA512,
            };
            let prehash = digest(&hash, message)?;
            if spki.algorithm.oid != oid::EC_PUBLIC_KEY {
                return Err("an ECDSA signature under a key that is not an EC key".into());
            }
            let curve = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.decode_as::<ObjectIdentifier>().ok())
                .ok_or("the EC key names no curve")?;
            use p256::ecdsa::signature::hazmat::PrehashVerifier;
            let bad = |e: p256::ecdsa::Error| e.to_string();
            match curve {
                oid::P256 => {
                    let key = p256::ecdsa::VerifyingKey::from_sec1_bytes(key_bytes).map_err(bad)?;
                    let sig = p256::ecdsa::Signature::from_der(signature).map_err(bad)?;
                    key.verify_prehash(&prehash, &sig).map_err(bad)
                }
                oid::P384 => {
                    let key = p384::ecdsa::VerifyingKey::from_sec1_bytes(key_bytes).map_err(bad)?;
                    let sig = p384::ecdsa::Signature::from_der(signature).map_err(bad)?;
                    key.verify_prehash(&prehash, &sig).map_err(bad)
                }
                other => Err(format!("EC curve {other} is not supported")),
            }
        }
        oid::RSA_SHA256 | oid::RSA_SHA384 | oid::RSA_SHA512 | oid::RSA_ENCRYPTION => {
            use rsa::pkcs8::DecodePublicKey;
            let hash = match algorithm.oid {
                oid::RSA_SHA256 => oid::SHA256,
                oid::RSA_SHA384 => oid::SHA384,
                oid::RSA_SHA512 => oid::SHA512,
                _ => digest_alg
                    .map(|d| d.oid)
                    .ok_or("rsaEncryption without a digest algorithm")?,
            };
            let spki_der = spki.to_der().map_err(der_error("the public key"))?;
            let key = rsa::RsaPublicKey::from_public_key_der(&spki_der)
                .map_err(|e| format!("the RSA key does not decode: {e}"))?;
            let scheme = match hash {
                oid::SHA256 => rsa::Pkcs1v15Sign::new::<sha2::Sha256>(),
                oid::SHA384 => rsa::Pkcs1v15Sign::new::<sha2::Sha384>(),
                oid::SHA512 => rsa::Pkcs1v15Sign::new::<sha2::Sha512>(),
                other => return Err(format!("RSA with digest {other} is not supported")),
            };
            key.verify(scheme, &digest(&hash, message)?, signature)
                .map_err(|e| e.to_string())
        }
        other => Err(format!("signature algorithm {other} is not supported")),
    }
}

/// Whether a certificate is valid at `at` (seconds since the epoch).
fn valid_at(cert: &Certificate, at: i64) -> bool {
    let validity = &cert.tbs_certificate.validity;
    let from = i64::try_from(validity.not_before.to_unix_duration().as_secs()).unwrap_or(i64::MAX);
    let until = i64::try_from(validity.not_after.to_unix_duration().as_secs()).unwrap_or(i64::MAX);
    from <= at && at <= until
}

fn is_ca(cert: &Certificate) -> bool {
    cert.tbs_certificate
        .extensions
        .as_ref()
        .and_then(|exts| exts.iter().find(|e| e.extn_id == oid::BASIC_CONSTRAINTS))
        .and_then(|e| BasicConstraints::from_der(e.extn_value.as_bytes()).ok())
        .is_some_and(|bc| bc.ca)
}

fn check_time_stamping_eku(cert: &Certificate) -> Result<(), String> {
    let ext = cert
        .tbs_certificate
        .extensions
        .as_ref()
        .and_then(|exts| exts.iter().find(|e| e.extn_id == oid::EXTENDED_KEY_USAGE))
        .ok_or("the TSA certificate has no extended key usage (timeStamping)")?;
    if !ext.critical {
        return Err("the TSA certificate's extended key usage is not critical".into());
    }
    let eku = ExtendedKeyUsage::from_der(ext.extn_value.as_bytes())
        .map_err(der_error("the extended key usage"))?;
    if eku.0 != [oid::KP_TIME_STAMPING] {
        return Err("the TSA certificate's extended key usage is not timeStamping alone".into());
    }
    Ok(())
}

/// Whether the TSA of a checked token is to be believed (spec/timestamps.md §5.2): the
/// TSA certificate's only, critical extended key usage is timeStamping, and a chain of
/// certificates each valid at `genTime` leads from it to one of `roots`. An `Err` says
/// why the time is unattested.
pub fn attest(token: &CheckedToken, roots: &[Certificate]) -> Result<(), String> {
    check_time_stamping_eku(&token.signer)?;
    if roots.is_empty() {
        return Err("the policy trusts no TSA".into());
    }
    let at = token.gen_time;
    let mut current = token.signer.clone();
    for _ in 0..MAX_CHAIN_LENGTH {
        if !valid_at(&current, at) {
            return Err(format!(
                "certificate {} was not valid at the token's time {}",
                current.tbs_certificate.subject,
                token.gen_time_text()
            ));
        }
        if roots.contains(&current) {
            return Ok(());
        }
        let issuer_name = &current.tbs_certificate.issuer;
        let tbs = current
            .tbs_certificate
            .to_der()
            .map_err(der_error("a certificate"))?;
        let signature = current
            .signature
            .as_bytes()
            .ok_or("a certificate signature is not a whole number of bytes")?;
        let issuer = roots
            .iter()
            .chain(token.certificates.iter())
            .filter(|c| c.tbs_certificate.subject == *issuer_name && is_ca(c))
            .find(|c| {
                verify_signature(c, &current.signature_algorithm, None, &tbs, signature).is_ok()
            })
            .ok_or_else(|| {
                format!(
                    "no trusted TSA root issued {} (chain ends at issuer {})",
                    current.tbs_certificate.subject, issuer_name
                )
            })?
            .clone();
        if issuer == current {
            return Err(format!(
                "the chain ends at {}, which is not a trusted TSA root",
                current.tbs_certificate.subject
            ));
        }
        if roots.contains(&issuer) {
            return if valid_at(&issuer, at) {
                Ok(())
            } else {
                Err(format!(
                    "TSA root {} was not valid at the token's time {}",
                    issuer.tbs_certificate.subject,
                    token.gen_time_text()
                ))
            };
        }
        current = issuer;
    }
    Err(format!(
        "no chain of at most {MAX_CHAIN_LENGTH} certificates leads to a trusted TSA root"
    ))
}

/// Read the PEM certificates of a `trusted_tsa` file (one or more).
pub fn read_pem_certificates(pem: &[u8]) -> Result<Vec<Certificate>, String> {
    let certs = Certificate::load_pem_chain(pem).map_err(|e| e.to_string())?;
    if certs.is_empty() {
        return Err("no certificate in it".into());
    }
    Ok(certs)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `text` as the content of a DER GeneralizedTime (encoded by `der`), decoded as a
    /// `genTime`: its seconds since the epoch. The value re-encodes to the same bytes.
    fn decode(text: &str) -> der::Result<i64> {
        let der = der::Any::new(Tag::GeneralizedTime, text.as_bytes())?.to_der()?;
        let gen_time = GenTime::from_der(&der)?;
        assert_eq!(gen_time.to_der()?, der);
        Ok(unix_seconds(&gen_time.whole_seconds))
    }

    #[test]
    fn a_gen_time_with_a_fraction_of_a_second_was_refused() {
        let second = 1_796_461_200; // 2026-12-05T09:00:00Z
        assert_eq!(decode("20261205090000Z").unwrap(), second);
        assert_eq!(decode("20261205090000.123Z").unwrap(), second);
        assert_eq!(decode("20261205090000.5Z").unwrap(), second);
        assert_eq!(decode("20261205090000.999999999Z").unwrap(), second);
        assert_eq!(decode("20261205090059.01Z").unwrap(), second + 59);
        for refused in [
            "20261205090000.120Z", // a trailing zero in the fraction
            "20261205090000.0Z",
            "20261205090000.Z",  // a point without digits
            "20261205090000,1Z", // a comma
            "20261205090000.1",  // no Z
            "20261205090000.1+0100",
            "20261205090000.1aZ",
            "20261205090000.-1Z",
            "202612050900Z", // no seconds
            "2026120509Z",
            "20261205090000",
            "20261205090000ZZ",
            "+2026120509000Z",
            "2026120509000aZ",
            "20261305090000Z", // month 13
            "20260005090000Z",
            "20261200090000Z", // day 0
            "20260230090000Z", // 30 February
            "20261205240000Z", // hour 24
            "20261205096000Z",
            "20261205090060Z", // a leap second is not a DER GeneralizedTime here
            "19691231235959Z", // before the epoch, as der refuses it
            "",
            "Z",
        ] {
            let error = decode(refused).expect_err(refused);
            assert_eq!(
                error.kind(),
                der::ErrorKind::Value {
                    tag: Tag::GeneralizedTime
                },
                "{refused}"
            );
        }
        // Not a GeneralizedTime at all: the tag is checked.
        let utc = der::Any::new(Tag::UtcTime, b"261205090000Z".as_slice())
            .unwrap()
            .to_der()
            .unwrap();
        assert!(GenTime::from_der(&utc).is_err());
    }

    #[test]
    fn tst_info_decodes_as_x509_tsp_does_apart_from_gen_time() {
        let theirs = x509_tsp::TstInfo {
            version: TspVersion::V1,
            policy: TsaPolicyId::new_unwrap("1.2.3.4.1"),
            message_imprint: MessageImprint {
                hash_algorithm: AlgorithmIdentifierOwned {
                    oid: oid::SHA256,
                    parameters: None,
                },
                hashed_message: OctetString::new([7u8; 32]).unwrap(),
            },
            serial_number: Int::new(&[1, 2, 3]).unwrap(),
            gen_time: der::asn1::GeneralizedTime::from_unix_duration(
                std::time::Duration::from_secs(1_796_461_200),
            )
            .unwrap(),
            accuracy: Some(Accuracy {
                seconds: Some(1),
                millis: Some(500),
                micros: None,
            }),
            ordering: true,
            nonce: Some(Int::new(&[0x42; 8]).unwrap()),
            tsa: None,
            extensions: None,
        };
        let der = theirs.to_der().unwrap();
        let ours = TstInfo::from_der(&der).unwrap();
        assert_eq!(ours.to_der().unwrap(), der);
        assert_eq!(unix_seconds(&ours.gen_time.whole_seconds), 1_796_461_200);
        assert_eq!(ours.nonce, theirs.nonce);
        assert_eq!(ours.accuracy, theirs.accuracy);
        assert_eq!(ours.serial_number, theirs.serial_number);
        assert!(ours.ordering);
    }
}
