//! Public and private keys as the crypto and JWT builtins need them: read from SPKI, PKCS#1,
//! PKCS#8, SEC1 and JWK; signatures made and checked; keys written as JWK or as Go's structs.

use ed25519_dalek::Verifier as _;
use hmac::{Hmac, KeyInit, Mac};
use p256::ecdsa::signature::Signer;
use p256::ecdsa::signature::hazmat::PrehashVerifier;
use rsa::pkcs1::{DecodeRsaPrivateKey, DecodeRsaPublicKey};
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha384, Sha512};

use super::asn1::{self, Reader, base64_url, der_integer, der_wrap, tag, unsigned_value};
use crate::Value;

/// A NIST curve of an ECDSA key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Curve {
    P256,
    P384,
    P521,
}

impl Curve {
    fn from_oid(arcs: &[u64]) -> Option<Curve> {
        match arcs {
            [1, 2, 840, 10045, 3, 1, 7] => Some(Curve::P256),
            [1, 3, 132, 0, 34] => Some(Curve::P384),
            [1, 3, 132, 0, 35] => Some(Curve::P521),
            _ => None,
        }
    }

    /// The JWK `crv` name.
    pub fn name(self) -> &'static str {
        match self {
            Curve::P256 => "P-256",
            Curve::P384 => "P-384",
            Curve::P521 => "P-521",
        }
    }

    pub fn from_name(name: &str) -> Option<Curve> {
        match name {
            "P-256" => Some(Curve::P256),
            "P-384" => Some(Curve::P384),
            "P-521" => Some(Curve::P521),
            _ => None,
        }
    }

    /// Bytes of one coordinate.
    fn size(self) -> usize {
        match self {
            Curve::P256 => 32,
            Curve::P384 => 48,
            Curve::P521 => 66,
        }
    }
}

/// A public key by its components (big-endian, unpadded unless noted).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum PublicKey {
    Rsa {
        n: Vec<u8>,
        e: Vec<u8>,
    },
    Ec {
        curve: Curve,
        x: Vec<u8>,
        y: Vec<u8>,
    },
    Ed25519(Vec<u8>),
}

/// A private key by its components.
#[derive(Clone, Debug)]
pub(super) enum PrivateKey {
    Rsa {
        n: Vec<u8>,
        e: Vec<u8>,
        d: Vec<u8>,
        p: Vec<u8>,
        q: Vec<u8>,
        dp: Vec<u8>,
        dq: Vec<u8>,
        qi: Vec<u8>,
    },
    Ec {
        curve: Curve,
        d: Vec<u8>,
        x: Vec<u8>,
        y: Vec<u8>,
    },
    Ed25519 {
        seed: Vec<u8>,
        public: Vec<u8>,
    },
}

/// A signature scheme; the `*Der` ECDSA variants take DER signatures (X.509), the others the
/// fixed-size `r || s` of JWS.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Algorithm {
    Rs1,
    Rs256,
    Rs384,
    Rs512,
    Ps256,
    Ps384,
    Ps512,
    Es256,
    Es384,
    Es512,
    Es256Der,
    Es384Der,
    Es512Der,
    EdDsa,
}

impl Algorithm {
    /// The JWS `alg` name.
    pub fn from_jws(name: &str) -> Option<Algorithm> {
        Some(match name {
            "RS256" => Algorithm::Rs256,
            "RS384" => Algorithm::Rs384,
            "RS512" => Algorithm::Rs512,
            "PS256" => Algorithm::Ps256,
            "PS384" => Algorithm::Ps384,
            "PS512" => Algorithm::Ps512,
            "ES256" => Algorithm::Es256,
            "ES384" => Algorithm::Es384,
            "ES512" => Algorithm::Es512,
            "EdDSA" => Algorithm::EdDsa,
            _ => return None,
        })
    }
}

fn trim(bytes: &[u8]) -> Vec<u8> {
    let start = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    bytes[start..].to_vec()
}

fn left_pad(bytes: &[u8], size: usize) -> Vec<u8> {
    let trimmed = trim(bytes);
    let mut out = vec![0; size.saturating_sub(trimmed.len())];
    out.extend(trimmed);
    out
}

/// Reads a SubjectPublicKeyInfo.
pub(super) fn parse_spki(der: &[u8]) -> Result<PublicKey, String> {
    read_spki(der).ok_or_else(|| "x509: unsupported or malformed public key".to_string())
}

fn read_spki(der: &[u8]) -> Option<PublicKey> {
    let mut fields = Reader::new(der).element(tag::SEQUENCE)?.children();
    let mut algorithm = fields.element(tag::SEQUENCE)?.children();
    let oid = algorithm.element(tag::OID)?.oid()?;
    let key = fields.element(tag::BIT_STRING)?.bits()?;
    match oid.as_slice() {
        [1, 2, 840, 113549, 1, 1, 1] | [1, 2, 840, 113549, 1, 1, 10] => rsa_public_pkcs1(key),
        [1, 2, 840, 10045, 2, 1] => {
            let curve = Curve::from_oid(&algorithm.element(tag::OID)?.oid()?)?;
            ec_point(curve, key)
        }
        [1, 3, 101, 112] => (key.len() == 32).then(|| PublicKey::Ed25519(key.to_vec())),
        _ => None,
    }
}

fn rsa_public_pkcs1(der: &[u8]) -> Option<PublicKey> {
    let mut fields = Reader::new(der).element(tag::SEQUENCE)?.children();
    let n = trim(fields.element(tag::INTEGER)?.content);
    let e = trim(fields.element(tag::INTEGER)?.content);
    Some(PublicKey::Rsa { n, e })
}

/// An uncompressed SEC1 point.
fn ec_point(curve: Curve, point: &[u8]) -> Option<PublicKey> {
    let size = curve.size();
    if point.len() != 1 + 2 * size || point[0] != 4 {
        return None;
    }
    Some(PublicKey::Ec {
        curve,
        x: point[1..=size].to_vec(),
        y: point[1 + size..].to_vec(),
    })
}

/// Public keys from PEM text: certificates (their key) and `PUBLIC KEY` blocks.
pub(super) fn public_keys_from_pem(text: &str) -> Vec<PublicKey> {
    let mut found = Vec::new();
    for block in asn1::pem_blocks(text) {
        let key = match block.label.as_str() {
            "CERTIFICATE" => super::x509::Certificate::parse(&block.der)
                .ok()
                .and_then(|c| c.public_key()),
            "PUBLIC KEY" => parse_spki(&block.der).ok(),
            "RSA PUBLIC KEY" => rsa_public_pkcs1(&block.der),
            _ => None,
        };
        found.extend(key);
    }
    found
}

/// Private keys from PEM text (`RSA PRIVATE KEY`, `EC PRIVATE KEY`, `PRIVATE KEY`).
pub(super) fn private_keys_from_pem(text: &str) -> Vec<PrivateKey> {
    asn1::pem_blocks(text)
        .into_iter()
        .filter_map(|block| private_key_of(&block).and_then(Result::ok))
        .collect()
}

/// The key of one PEM block: `None` for a block that holds no private key, an error for a
/// private-key block whose contents do not parse.
fn private_key_of(block: &asn1::PemBlock) -> Option<Result<PrivateKey, String>> {
    let (parsed, what) = match block.label.as_str() {
        "RSA PRIVATE KEY" => (rsa_private_pkcs1(&block.der), "RSA private key"),
        "EC PRIVATE KEY" => (ec_private_sec1(&block.der, None), "EC private key"),
        "PRIVATE KEY" => (private_pkcs8(&block.der), "private key"),
        _ => return None,
    };
    Some(parsed.ok_or_else(|| format!("x509: failed to parse {what}")))
}

/// Every private key in PEM text, failing on the first private-key block that does not parse,
/// as OPA's `crypto.parse_private_keys` does.
pub(super) fn all_private_keys_from_pem(text: &str) -> Result<Vec<PrivateKey>, String> {
    asn1::pem_blocks(text)
        .iter()
        .filter_map(private_key_of)
        .collect()
}

fn rsa_private_pkcs1(der: &[u8]) -> Option<PrivateKey> {
    let mut fields = Reader::new(der).element(tag::SEQUENCE)?.children();
    fields.element(tag::INTEGER)?;
    let mut next = || Some(trim(fields.element(tag::INTEGER)?.content));
    Some(PrivateKey::Rsa {
        n: next()?,
        e: next()?,
        d: next()?,
        p: next()?,
        q: next()?,
        dp: next()?,
        dq: next()?,
        qi: next()?,
    })
}

fn ec_private_sec1(der: &[u8], curve: Option<Curve>) -> Option<PrivateKey> {
    let mut fields = Reader::new(der).element(tag::SEQUENCE)?.children();
    fields.element(tag::INTEGER)?;
    let d = fields.element(tag::OCTET_STRING)?.content.to_vec();
    let curve = match fields.next_if(0xa0) {
        Some(parameters) => Curve::from_oid(&parameters.children().element(tag::OID)?.oid()?)?,
        None => curve?,
    };
    let embedded = fields.next_if(0xa1).and_then(|public| {
        public
            .children()
            .element(tag::BIT_STRING)?
            .bits()
            .map(<[u8]>::to_vec)
    });
    let point = match embedded {
        Some(point) => point,
        None => derive_ec_point(curve, &d)?,
    };
    match ec_point(curve, &point)? {
        PublicKey::Ec { x, y, .. } => Some(PrivateKey::Ec { curve, d, x, y }),
        _ => None,
    }
}

fn derive_ec_point(curve: Curve, d: &[u8]) -> Option<Vec<u8>> {
    let padded = left_pad(d, curve.size());
    Some(match curve {
        Curve::P256 => p256::SecretKey::from_slice(&padded)
            .ok()?
            .public_key()
            .to_sec1_bytes()
            .to_vec(),
        Curve::P384 => p384::SecretKey::from_slice(&padded)
            .ok()?
            .public_key()
            .to_sec1_bytes()
            .to_vec(),
        Curve::P521 => p521::SecretKey::from_slice(&padded)
            .ok()?
            .public_key()
            .to_sec1_bytes()
            .to_vec(),
    })
}

fn private_pkcs8(der: &[u8]) -> Option<PrivateKey> {
    let mut fields = Reader::new(der).element(tag::SEQUENCE)?.children();
    fields.element(tag::INTEGER)?;
    let mut algorithm = fields.element(tag::SEQUENCE)?.children();
    let oid = algorithm.element(tag::OID)?.oid()?;
    let key = fields.element(tag::OCTET_STRING)?.content;
    match oid.as_slice() {
        [1, 2, 840, 113549, 1, 1, 1] => rsa_private_pkcs1(key),
        [1, 2, 840, 10045, 2, 1] => {
            let curve = Curve::from_oid(&algorithm.element(tag::OID)?.oid()?)?;
            ec_private_sec1(key, Some(curve))
        }
        [1, 3, 101, 112] => {
            let seed = Reader::new(key).element(tag::OCTET_STRING)?.content;
            let bytes: [u8; 32] = seed.try_into().ok()?;
            let signing = ed25519_dalek::SigningKey::from_bytes(&bytes);
            Some(PrivateKey::Ed25519 {
                seed: seed.to_vec(),
                public: signing.verifying_key().to_bytes().to_vec(),
            })
        }
        _ => None,
    }
}

impl PublicKey {
    fn rsa(&self) -> Option<rsa::PublicKey> {
        let PublicKey::Rsa { n, e } = self else {
            return None;
        };
        let der = der_wrap(tag::SEQUENCE, &[der_integer(n), der_integer(e)].concat());
        rsa::PublicKey::from_pkcs1_der(&der).ok()
    }

    fn sec1(&self) -> Option<(Curve, Vec<u8>)> {
        let PublicKey::Ec { curve, x, y } = self else {
            return None;
        };
        let mut point = vec![4];
        point.extend(left_pad(x, curve.size()));
        point.extend(left_pad(y, curve.size()));
        Some((*curve, point))
    }

    /// True when `signature` over `message` is valid for this key under `algorithm`.
    pub fn verify(&self, algorithm: Algorithm, message: &[u8], signature: &[u8]) -> bool {
        use Algorithm as A;
        match algorithm {
            A::Rs1 | A::Rs256 | A::Rs384 | A::Rs512 | A::Ps256 | A::Ps384 | A::Ps512 => {
                let Some(key) = self.rsa() else { return false };
                match algorithm {
                    A::Rs1 => key.pkcs1v15_verify::<Sha1>(message, signature).is_ok(),
                    A::Rs256 => key.pkcs1v15_verify::<Sha256>(message, signature).is_ok(),
                    A::Rs384 => key.pkcs1v15_verify::<Sha384>(message, signature).is_ok(),
                    A::Rs512 => key.pkcs1v15_verify::<Sha512>(message, signature).is_ok(),
                    A::Ps256 => key.pss_verify::<Sha256>(message, signature).is_ok(),
                    A::Ps384 => key.pss_verify::<Sha384>(message, signature).is_ok(),
                    _ => key.pss_verify::<Sha512>(message, signature).is_ok(),
                }
            }
            A::Es256 | A::Es384 | A::Es512 | A::Es256Der | A::Es384Der | A::Es512Der => {
                let hash = match algorithm {
                    A::Es256 | A::Es256Der => Sha256::digest(message).to_vec(),
                    A::Es384 | A::Es384Der => Sha384::digest(message).to_vec(),
                    _ => Sha512::digest(message).to_vec(),
                };
                let der = matches!(algorithm, A::Es256Der | A::Es384Der | A::Es512Der);
                self.verify_ecdsa(&hash, signature, der)
            }
            A::EdDsa => {
                let PublicKey::Ed25519(bytes) = self else {
                    return false;
                };
                let (Ok(bytes), Ok(signature)) = (
                    <[u8; 32]>::try_from(bytes.as_slice()),
                    <[u8; 64]>::try_from(signature),
                ) else {
                    return false;
                };
                ed25519_dalek::VerifyingKey::from_bytes(&bytes).is_ok_and(|key| {
                    key.verify(message, &ed25519_dalek::Signature::from_bytes(&signature))
                        .is_ok()
                })
            }
        }
    }

    fn verify_ecdsa(&self, hash: &[u8], signature: &[u8], der: bool) -> bool {
        let Some((curve, point)) = self.sec1() else {
            return false;
        };
        macro_rules! check {
            ($curve:ident) => {{
                let Ok(key) = $curve::ecdsa::VerifyingKey::from_sec1_bytes(&point) else {
                    return false;
                };
                let signature = if der {
                    $curve::ecdsa::Signature::from_der(signature)
                } else {
                    $curve::ecdsa::Signature::from_slice(signature)
                };
                signature.is_ok_and(|s| key.verify_prehash(hash, &s).is_ok())
            }};
        }
        match curve {
            Curve::P256 => check!(p256),
            Curve::P384 => check!(p384),
            Curve::P521 => check!(p521),
        }
    }
}

impl PrivateKey {
    /// True when `public` is this key's public half.
    pub fn matches(&self, public: &PublicKey) -> bool {
        match (self, public) {
            (PrivateKey::Rsa { n, e, .. }, PublicKey::Rsa { n: pn, e: pe }) => {
                trim(n) == trim(pn) && trim(e) == trim(pe)
            }
            (
                PrivateKey::Ec { curve, x, y, .. },
                PublicKey::Ec {
                    curve: pc,
                    x: px,
                    y: py,
                },
            ) => curve == pc && trim(x) == trim(px) && trim(y) == trim(py),
            (PrivateKey::Ed25519 { public, .. }, PublicKey::Ed25519(bytes)) => public == bytes,
            _ => false,
        }
    }

    /// Go's `rsa.PrivateKey`, `ecdsa.PrivateKey` or `ed25519.PrivateKey` as JSON.
    pub fn to_go_json(&self) -> Value {
        match self {
            PrivateKey::Rsa {
                n,
                e,
                d,
                p,
                q,
                dp,
                dq,
                qi,
            } => Value::object([
                ("D", unsigned_value(d)),
                ("E", unsigned_value(e)),
                ("N", unsigned_value(n)),
                (
                    "Precomputed",
                    Value::object([
                        ("CRTValues", Value::array(Vec::new())),
                        ("Dp", unsigned_value(dp)),
                        ("Dq", unsigned_value(dq)),
                        ("Qinv", unsigned_value(qi)),
                    ]),
                ),
                (
                    "Primes",
                    Value::array(vec![unsigned_value(p), unsigned_value(q)]),
                ),
            ]),
            PrivateKey::Ec { d, x, y, .. } => Value::object([
                ("Curve", Value::empty_object()),
                ("D", unsigned_value(d)),
                ("X", unsigned_value(x)),
                ("Y", unsigned_value(y)),
            ]),
            PrivateKey::Ed25519 { seed, public } => {
                Value::string(asn1::base64_std(&[seed.as_slice(), public].concat()))
            }
        }
    }

    /// The key as a private JWK.
    pub fn to_jwk(&self) -> Value {
        let text = |bytes: &[u8]| Value::string(base64_url(bytes));
        match self {
            PrivateKey::Rsa {
                n,
                e,
                d,
                p,
                q,
                dp,
                dq,
                qi,
            } => Value::object([
                ("kty", Value::string("RSA")),
                ("n", text(n)),
                ("e", text(e)),
                ("d", text(d)),
                ("p", text(p)),
                ("q", text(q)),
                ("dp", text(dp)),
                ("dq", text(dq)),
                ("qi", text(qi)),
            ]),
            PrivateKey::Ec { curve, d, x, y } => Value::object([
                ("kty", Value::string("EC")),
                ("crv", Value::string(curve.name())),
                ("d", text(&left_pad(d, curve.size()))),
                ("x", text(&left_pad(x, curve.size()))),
                ("y", text(&left_pad(y, curve.size()))),
            ]),
            PrivateKey::Ed25519 { seed, public } => Value::object([
                ("kty", Value::string("OKP")),
                ("crv", Value::string("Ed25519")),
                ("d", text(seed)),
                ("x", text(public)),
            ]),
        }
    }

    /// Signs `message` under `algorithm`; JWS encodings (ECDSA as `r || s`).
    pub fn sign(&self, algorithm: Algorithm, message: &[u8]) -> Result<Vec<u8>, String> {
        use Algorithm as A;
        let mismatch = || "invalid key type for the signing algorithm".to_string();
        match (self, algorithm) {
            (
                PrivateKey::Rsa { .. },
                A::Rs256 | A::Rs384 | A::Rs512 | A::Ps256 | A::Ps384 | A::Ps512,
            ) => {
                let key = self.rsa().ok_or("invalid RSA private key")?;
                let signed = match algorithm {
                    A::Rs256 => key.pkcs1v15_sign::<Sha256>(message),
                    A::Rs384 => key.pkcs1v15_sign::<Sha384>(message),
                    A::Rs512 => key.pkcs1v15_sign::<Sha512>(message),
                    A::Ps256 => key.pss_sign::<Sha256>(message),
                    A::Ps384 => key.pss_sign::<Sha384>(message),
                    _ => key.pss_sign::<Sha512>(message),
                };
                signed.map_err(|e| e.to_string())
            }
            (PrivateKey::Ec { curve, d, .. }, A::Es256 | A::Es384 | A::Es512) => {
                let expected = match algorithm {
                    A::Es256 => Curve::P256,
                    A::Es384 => Curve::P384,
                    _ => Curve::P521,
                };
                if *curve != expected {
                    return Err(mismatch());
                }
                let d = left_pad(d, curve.size());
                macro_rules! sign {
                    ($curve:ident) => {{
                        let key =
                            $curve::ecdsa::SigningKey::from_slice(&d).map_err(|e| e.to_string())?;
                        let signature: $curve::ecdsa::Signature = key.sign(message);
                        Ok(signature.to_bytes().to_vec())
                    }};
                }
                match curve {
                    Curve::P256 => sign!(p256),
                    Curve::P384 => sign!(p384),
                    Curve::P521 => sign!(p521),
                }
            }
            (PrivateKey::Ed25519 { seed, .. }, A::EdDsa) => {
                let seed: [u8; 32] = seed.as_slice().try_into().map_err(|_| mismatch())?;
                let key = ed25519_dalek::SigningKey::from_bytes(&seed);
                Ok(key.sign(message).to_bytes().to_vec())
            }
            _ => Err(mismatch()),
        }
    }

    fn rsa(&self) -> Option<rsa::PrivateKey> {
        let PrivateKey::Rsa {
            n,
            e,
            d,
            p,
            q,
            dp,
            dq,
            qi,
        } = self
        else {
            return None;
        };
        let mut content = der_integer(&[0]);
        for part in [n, e, d, p, q, dp, dq, qi] {
            content.extend(der_integer(part));
        }
        rsa::PrivateKey::from_pkcs1_der(&der_wrap(tag::SEQUENCE, &content)).ok()
    }
}

/// A JWK member decoded from base64url.
fn member(jwk: &Value, name: &str) -> Result<Vec<u8>, String> {
    let text = jwk
        .get(name)
        .and_then(Value::as_str)
        .ok_or_else(|| format!("missing \"{name}\" in JWK"))?;
    asn1::decode_base64_url(text)
}

/// A JWK's public key (private members ignored).
pub(super) fn public_from_jwk(jwk: &Value) -> Result<PublicKey, String> {
    match jwk.get("kty").and_then(Value::as_str) {
        Some("RSA") => Ok(PublicKey::Rsa {
            n: trim(&member(jwk, "n")?),
            e: trim(&member(jwk, "e")?),
        }),
        Some("EC") => {
            let curve = jwk
                .get("crv")
                .and_then(Value::as_str)
                .and_then(Curve::from_name)
                .ok_or("unsupported curve")?;
            Ok(PublicKey::Ec {
                curve,
                x: member(jwk, "x")?,
                y: member(jwk, "y")?,
            })
        }
        Some("OKP") => Ok(PublicKey::Ed25519(member(jwk, "x")?)),
        Some(other) => Err(format!("unsupported key type {other}")),
        None => Err("missing \"kty\" in JWK".to_string()),
    }
}

/// A JWK's private key; RSA CRT members are required as OPA's JWK reader requires them.
pub(super) fn private_from_jwk(jwk: &Value) -> Result<PrivateKey, String> {
    match jwk.get("kty").and_then(Value::as_str) {
        Some("RSA") => Ok(PrivateKey::Rsa {
            n: trim(&member(jwk, "n")?),
            e: trim(&member(jwk, "e")?),
            d: trim(&member(jwk, "d")?),
            p: trim(&member(jwk, "p")?),
            q: trim(&member(jwk, "q")?),
            dp: trim(&member(jwk, "dp")?),
            dq: trim(&member(jwk, "dq")?),
            qi: trim(&member(jwk, "qi")?),
        }),
        Some("EC") => {
            let curve = jwk
                .get("crv")
                .and_then(Value::as_str)
                .and_then(Curve::from_name)
                .ok_or("unsupported curve")?;
            let d = member(jwk, "d")?;
            let (x, y) = match (member(jwk, "x"), member(jwk, "y")) {
                (Ok(x), Ok(y)) => (x, y),
                _ => {
                    let point = derive_ec_point(curve, &d).ok_or("invalid EC private key")?;
                    let size = curve.size();
                    (point[1..=size].to_vec(), point[1 + size..].to_vec())
                }
            };
            Ok(PrivateKey::Ec { curve, d, x, y })
        }
        Some("OKP") => {
            let seed = member(jwk, "d")?;
            let bytes: [u8; 32] = seed
                .as_slice()
                .try_into()
                .map_err(|_| "invalid Ed25519 key")?;
            let public = ed25519_dalek::SigningKey::from_bytes(&bytes)
                .verifying_key()
                .to_bytes()
                .to_vec();
            Ok(PrivateKey::Ed25519 { seed, public })
        }
        Some("oct") => Err("symmetric key".to_string()),
        Some(other) => Err(format!("unsupported key type {other}")),
        None => Err("missing \"kty\" in JWK".to_string()),
    }
}

/// HMAC of `message` under `secret` for HS256/384/512 (`bits` is 256, 384 or 512).
pub(super) fn hmac_sign(bits: u16, secret: &[u8], message: &[u8]) -> Vec<u8> {
    fn run<M: Mac + KeyInit>(secret: &[u8], message: &[u8]) -> Vec<u8> {
        match <M as KeyInit>::new_from_slice(secret) {
            Ok(mut mac) => {
                mac.update(message);
                mac.finalize().into_bytes().to_vec()
            }
            Err(_) => Vec::new(),
        }
    }
    match bits {
        256 => run::<Hmac<Sha256>>(secret, message),
        384 => run::<Hmac<Sha384>>(secret, message),
        _ => run::<Hmac<Sha512>>(secret, message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_is_rejected_quietly() {
        assert!(parse_spki(&[0x30, 0x00]).is_err());
        assert!(
            private_keys_from_pem("-----BEGIN PRIVATE KEY-----\nMAA=\n-----END PRIVATE KEY-----")
                .is_empty()
        );
        let jwk = Value::from_json(r#"{"kty":"RSA","n":"AQAB"}"#).expect("json");
        assert!(private_from_jwk(&jwk).is_err());
        let key = PublicKey::Ec {
            curve: Curve::P256,
            x: vec![1],
            y: vec![2],
        };
        assert!(!key.verify(Algorithm::Es256, b"m", &[0; 64]));
    }
}
