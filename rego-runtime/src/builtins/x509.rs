//! `crypto.x509.*` and `crypto.parse_private_keys`: certificates, requests and keys in the
//! JSON shapes OPA returns, which are Go's `x509.Certificate`, `x509.CertificateRequest`,
//! `tls.Certificate` and Go key structs marshalled field by field.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::{SystemTime, UNIX_EPOCH};

use super::args::{self, BuiltinError};
use super::asn1::{self, Element, Reader, base64_std, oid_value, tag, unsigned_value};
use super::calendar::{days_from_civil, split_seconds};
use super::keys::{self, PrivateKey, PublicKey};
use super::uri::parse_go_url;
use super::{Builtin, builtin};
use crate::Value;

pub(super) const BUILTINS: &[Builtin] = &[
    builtin("crypto.x509.parse_certificates", 1, parse_certificates),
    builtin(
        "crypto.x509.parse_and_verify_certificates",
        1,
        parse_and_verify,
    ),
    builtin(
        "crypto.x509.parse_and_verify_certificates_with_options",
        2,
        parse_and_verify_with_options,
    ),
    builtin(
        "crypto.x509.parse_certificate_request",
        1,
        parse_certificate_request,
    ),
    builtin("crypto.x509.parse_keypair", 2, parse_keypair),
    builtin(
        "crypto.x509.parse_rsa_private_key",
        1,
        parse_rsa_private_key,
    ),
    builtin("crypto.parse_private_keys", 1, parse_private_keys),
];

const MALFORMED: &str = "x509: malformed certificate";

/// PEM text, or base64 of PEM or of DER, as OPA accepts certificate operands.
fn der_blocks(text: &str, label: &str) -> Result<Vec<Vec<u8>>, String> {
    if text.starts_with("-----BEGIN") {
        return Ok(labelled(text, label));
    }
    let bytes = asn1::decode_base64_std(text)?;
    if bytes.starts_with(b"-----BEGIN") {
        return Ok(labelled(&String::from_utf8_lossy(&bytes), label));
    }
    // DER: one or more certificates back to back.
    let mut reader = Reader::new(&bytes);
    let mut blocks = Vec::new();
    while !reader.is_empty() {
        let element = reader.next_element().ok_or(MALFORMED)?;
        blocks.push(element.raw.to_vec());
    }
    Ok(blocks)
}

fn labelled(text: &str, label: &str) -> Vec<Vec<u8>> {
    asn1::pem_blocks(text)
        .into_iter()
        .filter(|block| block.label == label)
        .map(|block| block.der)
        .collect()
}

fn parse_certificates(args: &[Value]) -> Result<Value, BuiltinError> {
    let text = args::string(args, 0)?;
    let blocks = der_blocks(text, "CERTIFICATE").map_err(BuiltinError::failed)?;
    let certificates = blocks
        .iter()
        .map(|der| Certificate::parse(der).map(|c| c.to_json()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(BuiltinError::failed)?;
    Ok(Value::array(certificates))
}

/// A parsed certificate: the parts Go exposes, raw ranges included.
pub(super) struct Certificate<'a> {
    raw: &'a [u8],
    tbs: &'a [u8],
    version: i64,
    serial: Value,
    signature_algorithm: i64,
    issuer: Element<'a>,
    subject: Element<'a>,
    not_before: i64,
    not_after: i64,
    spki: Element<'a>,
    extensions: Vec<Extension<'a>>,
    signature: &'a [u8],
}

#[derive(Clone, Copy)]
struct Extension<'a> {
    id: &'a [u8],
    critical: bool,
    value: &'a [u8],
}

impl<'a> Certificate<'a> {
    pub fn parse(der: &'a [u8]) -> Result<Certificate<'a>, String> {
        Self::read(der).ok_or_else(|| MALFORMED.to_string())
    }

    fn read(der: &'a [u8]) -> Option<Certificate<'a>> {
        let certificate = Reader::new(der).element(tag::SEQUENCE)?;
        let mut parts = certificate.children();
        let tbs = parts.element(tag::SEQUENCE)?;
        let outer_algorithm = parts.element(tag::SEQUENCE)?;
        let signature = parts.element(tag::BIT_STRING)?.bits()?;
        let mut fields = tbs.children();
        let version = match fields.next_if(0xa0) {
            Some(explicit) => {
                let inner = explicit.children().element(tag::INTEGER)?;
                inner.content.last().copied().map_or(0, i64::from)
            }
            None => 0,
        };
        let serial = asn1::integer_value(fields.element(tag::INTEGER)?.content);
        fields.element(tag::SEQUENCE)?;
        let issuer = fields.element(tag::SEQUENCE)?;
        let validity = fields.element(tag::SEQUENCE)?;
        let subject = fields.element(tag::SEQUENCE)?;
        let spki = fields.element(tag::SEQUENCE)?;
        let mut times = validity.children();
        let not_before = parse_time(times.next_element()?)?;
        let not_after = parse_time(times.next_element()?)?;
        fields.next_if(0x81);
        fields.next_if(0x82);
        let extensions = match fields.next_if(0xa3) {
            Some(explicit) => read_extensions(explicit.children().element(tag::SEQUENCE)?)?,
            None => Vec::new(),
        };
        Some(Certificate {
            raw: certificate.raw,
            tbs: tbs.raw,
            version: version + 1,
            serial,
            signature_algorithm: signature_algorithm(outer_algorithm),
            issuer,
            subject,
            not_before,
            not_after,
            spki,
            extensions,
            signature,
        })
    }

    /// The certificate's public key.
    pub fn public_key(&self) -> Option<PublicKey> {
        keys::parse_spki(self.spki.raw).ok()
    }

    fn extension(&self, arcs: &[u64]) -> Option<&Extension<'a>> {
        self.extensions.iter().find(|e| oid_is(e.id, arcs))
    }

    fn is_ca(&self) -> bool {
        self.extension(&[2, 5, 29, 19])
            .and_then(|e| basic_constraints(e.value))
            .is_some_and(|(ca, _)| ca)
    }

    fn dns_names(&self) -> Vec<String> {
        let mut names = Vec::new();
        if let Some(extension) = self.extension(&[2, 5, 29, 17]) {
            for (kind, content) in general_names(extension.value) {
                if kind == 2 {
                    names.push(String::from_utf8_lossy(content).into_owned());
                }
            }
        }
        names
    }

    fn ext_key_usages(&self) -> Option<Vec<i64>> {
        let extension = self.extension(&[2, 5, 29, 37])?;
        let mut usages = Vec::new();
        let mut reader = Reader::new(extension.value)
            .element(tag::SEQUENCE)?
            .children();
        while let Some(oid) = reader.next_element() {
            if let Some(usage) = oid.oid().as_deref().and_then(ext_key_usage) {
                usages.push(usage);
            }
        }
        Some(usages)
    }

    /// Go's `x509.Certificate` as JSON, without OPA's `URIStrings` (as `tls.Certificate` shows).
    fn to_go_json(&self) -> Value {
        match self.to_json() {
            Value::Object(mut members) => {
                std::sync::Arc::make_mut(&mut members).remove(&Value::string("URIStrings"));
                Value::Object(members)
            }
            other => other,
        }
    }

    /// Go's `x509.Certificate` as JSON, plus OPA's `URIStrings`.
    pub fn to_json(&self) -> Value {
        let mut json = Json::default();
        json.put("Raw", Value::string(base64_std(self.raw)));
        json.put("RawTBSCertificate", Value::string(base64_std(self.tbs)));
        json.put(
            "RawSubjectPublicKeyInfo",
            Value::string(base64_std(self.spki.raw)),
        );
        json.put("RawSubject", Value::string(base64_std(self.subject.raw)));
        json.put("RawIssuer", Value::string(base64_std(self.issuer.raw)));
        json.put("Signature", Value::string(base64_std(self.signature)));
        json.put("SignatureAlgorithm", Value::int(self.signature_algorithm));
        let (algorithm, key) = public_key_json(self.spki);
        json.put("PublicKeyAlgorithm", Value::int(algorithm));
        json.put("PublicKey", key);
        json.put("Version", Value::int(self.version));
        json.put("SerialNumber", self.serial.clone());
        json.put("Issuer", name_json(self.issuer));
        json.put("Subject", name_json(self.subject));
        json.put("NotBefore", Value::string(rfc3339(self.not_before)));
        json.put("NotAfter", Value::string(rfc3339(self.not_after)));
        json.put("KeyUsage", Value::int(0));
        json.put("Extensions", extensions_json(&self.extensions));
        json.put("ExtraExtensions", Value::Null);
        json.put("UnhandledCriticalExtensions", Value::Null);
        json.put("ExtKeyUsage", Value::Null);
        json.put("UnknownExtKeyUsage", Value::Null);
        json.put("BasicConstraintsValid", Value::Bool(false));
        json.put("IsCA", Value::Bool(false));
        json.put("MaxPathLen", Value::int(0));
        json.put("MaxPathLenZero", Value::Bool(false));
        json.put("SubjectKeyId", Value::Null);
        json.put("AuthorityKeyId", Value::Null);
        json.put("OCSPServer", Value::Null);
        json.put("IssuingCertificateURL", Value::Null);
        json.put("DNSNames", Value::Null);
        json.put("EmailAddresses", Value::Null);
        json.put("IPAddresses", Value::Null);
        json.put("URIs", Value::Null);
        json.put("URIStrings", Value::Null);
        json.put("PermittedDNSDomainsCritical", Value::Bool(false));
        for key in [
            "PermittedDNSDomains",
            "ExcludedDNSDomains",
            "PermittedIPRanges",
            "ExcludedIPRanges",
            "PermittedEmailAddresses",
            "ExcludedEmailAddresses",
            "PermittedURIDomains",
            "ExcludedURIDomains",
            "CRLDistributionPoints",
            "PolicyIdentifiers",
            "Policies",
            "PolicyMappings",
        ] {
            json.put(key, Value::Null);
        }
        for key in [
            "InhibitAnyPolicy",
            "InhibitPolicyMapping",
            "RequireExplicitPolicy",
        ] {
            json.put(key, Value::int(0));
        }
        for key in [
            "InhibitAnyPolicyZero",
            "InhibitPolicyMappingZero",
            "RequireExplicitPolicyZero",
        ] {
            json.put(key, Value::Bool(false));
        }
        let mut unhandled = Vec::new();
        for extension in &self.extensions {
            let handled = apply_extension(&mut json, extension).is_some();
            if extension.critical && !handled {
                unhandled.push(oid_json(extension.id));
            }
        }
        if !unhandled.is_empty() {
            json.put("UnhandledCriticalExtensions", Value::array(unhandled));
        }
        json.finish()
    }
}

/// Collects object members in any order; the object sorts them.
#[derive(Default)]
struct Json(std::collections::BTreeMap<Value, Value>);

impl Json {
    fn put(&mut self, key: &str, value: Value) {
        self.0.insert(Value::string(key), value);
    }

    fn push(&mut self, key: &str, value: Value) {
        let entry = self
            .0
            .entry(Value::string(key))
            .or_insert_with(|| Value::array(Vec::new()));
        if let Value::Array(items) = entry {
            std::sync::Arc::make_mut(items).push(value);
        } else {
            *entry = Value::array(vec![value]);
        }
    }

    fn finish(self) -> Value {
        Value::Object(std::sync::Arc::new(self.0))
    }
}

fn oid_is(content: &[u8], arcs: &[u64]) -> bool {
    Element {
        tag: tag::OID,
        raw: content,
        content,
    }
    .oid()
    .is_some_and(|found| found == arcs)
}

fn oid_json(content: &[u8]) -> Value {
    let element = Element {
        tag: tag::OID,
        raw: content,
        content,
    };
    oid_value(&element.oid().unwrap_or_default())
}

fn read_extensions(list: Element<'_>) -> Option<Vec<Extension<'_>>> {
    let mut extensions = Vec::new();
    let mut reader = list.children();
    while let Some(extension) = reader.next_element() {
        let mut fields = extension.children();
        let id = fields.element(tag::OID)?.content;
        let critical = fields
            .next_if(tag::BOOLEAN)
            .is_some_and(|b| b.content.first().is_some_and(|v| *v != 0));
        let value = fields.element(tag::OCTET_STRING)?.content;
        extensions.push(Extension {
            id,
            critical,
            value,
        });
    }
    Some(extensions)
}

fn extensions_json(extensions: &[Extension<'_>]) -> Value {
    if extensions.is_empty() {
        return Value::Null;
    }
    Value::array(
        extensions
            .iter()
            .map(|e| {
                Value::object([
                    ("Critical", Value::Bool(e.critical)),
                    ("Id", oid_json(e.id)),
                    ("Value", Value::string(base64_std(e.value))),
                ])
            })
            .collect(),
    )
}

/// Fills the Go fields one extension sets; `None` when Go does not handle it.
fn apply_extension(json: &mut Json, extension: &Extension<'_>) -> Option<()> {
    let id = oid_json(extension.id);
    let arcs: Vec<i64> = id
        .as_array()
        .map(|a| a.iter().filter_map(|v| v.as_number()?.as_i64()).collect())
        .unwrap_or_default();
    let value = extension.value;
    match arcs.as_slice() {
        [2, 5, 29, 14] => {
            let key_id = Reader::new(value).element(tag::OCTET_STRING)?;
            json.put("SubjectKeyId", Value::string(base64_std(key_id.content)));
        }
        [2, 5, 29, 35] => {
            let sequence = Reader::new(value).element(tag::SEQUENCE)?;
            if let Some(key_id) = sequence.children().next_if(0x80) {
                json.put("AuthorityKeyId", Value::string(base64_std(key_id.content)));
            }
        }
        [2, 5, 29, 19] => {
            let (ca, path_len) = basic_constraints(value)?;
            json.put("BasicConstraintsValid", Value::Bool(true));
            json.put("IsCA", Value::Bool(ca));
            json.put("MaxPathLen", Value::int(path_len));
            json.put("MaxPathLenZero", Value::Bool(path_len == 0));
        }
        [2, 5, 29, 15] => {
            let bits = Reader::new(value).element(tag::BIT_STRING)?.bits()?;
            let mut usage = 0i64;
            for i in 0..9 {
                if bits
                    .get(i / 8)
                    .is_some_and(|byte| byte & (0x80 >> (i % 8)) != 0)
                {
                    usage |= 1 << i;
                }
            }
            json.put("KeyUsage", Value::int(usage));
        }
        [2, 5, 29, 37] => {
            let mut reader = Reader::new(value).element(tag::SEQUENCE)?.children();
            while let Some(oid) = reader.next_element() {
                let arcs = oid.oid()?;
                match ext_key_usage(&arcs) {
                    Some(usage) => json.push("ExtKeyUsage", Value::int(usage)),
                    None => json.push("UnknownExtKeyUsage", oid_value(&arcs)),
                }
            }
        }
        [2, 5, 29, 17] => {
            for (kind, content) in general_names(value) {
                let text = String::from_utf8_lossy(content).into_owned();
                match kind {
                    1 => json.push("EmailAddresses", Value::string(text)),
                    2 => json.push("DNSNames", Value::string(text)),
                    6 => {
                        let url = parse_go_url(&text).ok()?;
                        json.push("URIs", url.to_go_json());
                        json.push("URIStrings", Value::string(text));
                    }
                    7 => json.push("IPAddresses", Value::string(ip_text(content)?)),
                    _ => {}
                }
            }
        }
        [2, 5, 29, 31] => {
            let mut points = Reader::new(value).element(tag::SEQUENCE)?.children();
            while let Some(point) = points.next_element() {
                let Some(name) = point.children().next_if(0xa0) else {
                    continue;
                };
                let Some(full) = name.children().next_if(0xa0) else {
                    continue;
                };
                let mut names = full.children();
                while let Some(general) = names.next_element() {
                    if general.tag == 0x86 {
                        let uri = String::from_utf8_lossy(general.content);
                        json.push("CRLDistributionPoints", Value::string(uri));
                    }
                }
            }
        }
        [1, 3, 6, 1, 5, 5, 7, 1, 1] => {
            let mut descriptions = Reader::new(value).element(tag::SEQUENCE)?.children();
            while let Some(description) = descriptions.next_element() {
                let mut fields = description.children();
                let method = fields.element(tag::OID)?.oid()?;
                let location = fields.next_element()?;
                if location.tag != 0x86 {
                    continue;
                }
                let uri = Value::string(String::from_utf8_lossy(location.content));
                match method.as_slice() {
                    [1, 3, 6, 1, 5, 5, 7, 48, 1] => json.push("OCSPServer", uri),
                    [1, 3, 6, 1, 5, 5, 7, 48, 2] => json.push("IssuingCertificateURL", uri),
                    _ => {}
                }
            }
        }
        [2, 5, 29, 32] => {
            let mut policies = Reader::new(value).element(tag::SEQUENCE)?.children();
            while let Some(policy) = policies.next_element() {
                let arcs = policy.children().element(tag::OID)?.oid()?;
                let dotted: Vec<String> = arcs.iter().map(u64::to_string).collect();
                json.push("Policies", Value::string(dotted.join(".")));
                json.push("PolicyIdentifiers", oid_value(&arcs));
            }
        }
        [2, 5, 29, 30] => {
            json.put(
                "PermittedDNSDomainsCritical",
                Value::Bool(extension.critical),
            );
            let mut subtrees = Reader::new(value).element(tag::SEQUENCE)?.children();
            while let Some(list) = subtrees.next_element() {
                let prefix = match list.tag {
                    0xa0 => "Permitted",
                    0xa1 => "Excluded",
                    _ => continue,
                };
                let mut entries = list.children();
                while let Some(subtree) = entries.next_element() {
                    let base = subtree.children().next_element()?;
                    let text = String::from_utf8_lossy(base.content).into_owned();
                    match base.tag {
                        0x81 => json.push(&format!("{prefix}EmailAddresses"), Value::string(text)),
                        0x82 => json.push(&format!("{prefix}DNSDomains"), Value::string(text)),
                        0x86 => json.push(&format!("{prefix}URIDomains"), Value::string(text)),
                        0x87 => {
                            let half = base.content.len() / 2;
                            let (ip, mask) = base.content.split_at(half);
                            json.push(
                                &format!("{prefix}IPRanges"),
                                Value::object([
                                    ("IP", Value::string(ip_text(ip)?)),
                                    ("Mask", Value::string(base64_std(mask))),
                                ]),
                            );
                        }
                        _ => {}
                    }
                }
            }
        }
        [2, 5, 29, 33] | [2, 5, 29, 36] | [2, 5, 29, 54] => {}
        _ => return None,
    }
    Some(())
}

fn basic_constraints(value: &[u8]) -> Option<(bool, i64)> {
    let mut fields = Reader::new(value).element(tag::SEQUENCE)?.children();
    let ca = fields
        .next_if(tag::BOOLEAN)
        .is_some_and(|b| b.content.first().is_some_and(|v| *v != 0));
    let path_len = fields
        .next_if(tag::INTEGER)
        .and_then(|i| asn1::integer_value(i.content).as_number()?.as_i64())
        .unwrap_or(-1);
    Some((ca, path_len))
}

/// `(context tag number, contents)` of each GeneralName in a SAN-style sequence.
fn general_names(value: &[u8]) -> Vec<(u8, &[u8])> {
    let mut names = Vec::new();
    if let Some(sequence) = Reader::new(value).element(tag::SEQUENCE) {
        let mut reader = sequence.children();
        while let Some(name) = reader.next_element() {
            names.push((name.tag & 0x1f, name.content));
        }
    }
    names
}

/// Go's `net.IP.String()`: IPv4 (also when IPv4-mapped) dotted, IPv6 compressed.
fn ip_text(bytes: &[u8]) -> Option<String> {
    match bytes.len() {
        4 => Some(Ipv4Addr::new(bytes[0], bytes[1], bytes[2], bytes[3]).to_string()),
        16 => {
            let octets: [u8; 16] = bytes.try_into().ok()?;
            let v6 = Ipv6Addr::from(octets);
            Some(match v6.to_ipv4_mapped() {
                Some(v4) => IpAddr::V4(v4).to_string(),
                None => v6.to_string(),
            })
        }
        _ => None,
    }
}

fn ext_key_usage(arcs: &[u64]) -> Option<i64> {
    Some(match arcs {
        [2, 5, 29, 37, 0] => 0,
        [1, 3, 6, 1, 5, 5, 7, 3, n @ 1..=9] => *n as i64,
        [1, 3, 6, 1, 4, 1, 311, 10, 3, 3] => 10,
        [2, 16, 840, 1, 113730, 4, 1] => 11,
        [1, 3, 6, 1, 4, 1, 311, 2, 1, 22] => 12,
        [1, 3, 6, 1, 4, 1, 311, 61, 1, 1] => 13,
        _ => return None,
    })
}

/// Go's `x509.SignatureAlgorithm` number for an AlgorithmIdentifier.
fn signature_algorithm(identifier: Element<'_>) -> i64 {
    let mut fields = identifier.children();
    let Some(arcs) = fields.next_element().and_then(|e| e.oid()) else {
        return 0;
    };
    match arcs.as_slice() {
        [1, 2, 840, 113549, 1, 1, 2] => 1,
        [1, 2, 840, 113549, 1, 1, 4] => 2,
        [1, 2, 840, 113549, 1, 1, 5] => 3,
        [1, 2, 840, 113549, 1, 1, 11] => 4,
        [1, 2, 840, 113549, 1, 1, 12] => 5,
        [1, 2, 840, 113549, 1, 1, 13] => 6,
        [1, 2, 840, 10040, 4, 3] => 7,
        [2, 16, 840, 1, 101, 3, 4, 3, 2] => 8,
        [1, 2, 840, 10045, 4, 1] => 9,
        [1, 2, 840, 10045, 4, 3, 2] => 10,
        [1, 2, 840, 10045, 4, 3, 3] => 11,
        [1, 2, 840, 10045, 4, 3, 4] => 12,
        [1, 2, 840, 113549, 1, 1, 10] => {
            // RSASSA-PSS: the hash inside the parameters picks Go's number.
            let raw = fields.next_element().map(|p| p.raw).unwrap_or_default();
            let contains = |hash: &[u8]| raw.windows(hash.len()).any(|w| w == hash);
            if contains(&[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02]) {
                14
            } else if contains(&[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03]) {
                15
            } else {
                13
            }
        }
        [1, 3, 101, 112] => 16,
        _ => 0,
    }
}

/// Go's `PublicKeyAlgorithm` number and the key as Go marshals it.
fn public_key_json(spki: Element<'_>) -> (i64, Value) {
    match keys::parse_spki(spki.raw) {
        Ok(PublicKey::Rsa { n, e, .. }) => (
            1,
            Value::object([("E", unsigned_value(&e)), ("N", unsigned_value(&n))]),
        ),
        Ok(PublicKey::Ec { x, y, .. }) => (
            3,
            Value::object([
                ("Curve", Value::empty_object()),
                ("X", unsigned_value(&x)),
                ("Y", unsigned_value(&y)),
            ]),
        ),
        Ok(PublicKey::Ed25519(bytes)) => (4, Value::string(base64_std(&bytes))),
        Err(_) => (0, Value::Null),
    }
}

/// Go's `pkix.Name` as JSON: the well-known attributes by field, all of them in `Names`.
fn name_json(name: Element<'_>) -> Value {
    let mut json = Json::default();
    for key in [
        "Country",
        "Organization",
        "OrganizationalUnit",
        "Locality",
        "Province",
        "StreetAddress",
        "PostalCode",
        "ExtraNames",
        "Names",
    ] {
        json.put(key, Value::Null);
    }
    json.put("SerialNumber", Value::string(""));
    json.put("CommonName", Value::string(""));
    let mut sets = name.children();
    while let Some(set) = sets.next_element() {
        let mut attributes = set.children();
        while let Some(attribute) = attributes.next_element() {
            let mut fields = attribute.children();
            let (Some(kind), Some(value)) = (fields.next_element(), fields.next_element()) else {
                continue;
            };
            let Some(arcs) = kind.oid() else { continue };
            let text = string_value(value);
            json.push(
                "Names",
                Value::object([("Type", oid_value(&arcs)), ("Value", text.clone())]),
            );
            let field = match arcs.as_slice() {
                [2, 5, 4, 6] => "Country",
                [2, 5, 4, 10] => "Organization",
                [2, 5, 4, 11] => "OrganizationalUnit",
                [2, 5, 4, 7] => "Locality",
                [2, 5, 4, 8] => "Province",
                [2, 5, 4, 9] => "StreetAddress",
                [2, 5, 4, 17] => "PostalCode",
                [2, 5, 4, 3] => {
                    json.put("CommonName", text);
                    continue;
                }
                [2, 5, 4, 5] => {
                    json.put("SerialNumber", text);
                    continue;
                }
                _ => continue,
            };
            json.push(field, text);
        }
    }
    json.finish()
}

/// A directory string's text (BMPString as UTF-16); other values as base64 of their DER.
fn string_value(value: Element<'_>) -> Value {
    match value.tag {
        0x0c | 0x13 | 0x14 | 0x16 | 0x1a | 0x1c => {
            Value::string(String::from_utf8_lossy(value.content))
        }
        0x1e => {
            let units: Vec<u16> = value
                .content
                .chunks(2)
                .map(|pair| u16::from_be_bytes([pair[0], pair.get(1).copied().unwrap_or(0)]))
                .collect();
            Value::string(String::from_utf16_lossy(&units))
        }
        _ => Value::string(base64_std(value.raw)),
    }
}

/// Seconds since the epoch of a UTCTime or GeneralizedTime.
fn parse_time(element: Element<'_>) -> Option<i64> {
    let text = std::str::from_utf8(element.content).ok()?;
    let text = text.strip_suffix('Z')?;
    let (year, rest) = match element.tag {
        tag::UTC_TIME => {
            let yy: i64 = text.get(..2)?.parse().ok()?;
            (if yy < 50 { 2000 + yy } else { 1900 + yy }, &text[2..])
        }
        tag::GENERALIZED_TIME => (text.get(..4)?.parse().ok()?, &text[4..]),
        _ => return None,
    };
    let field = |i: usize| -> Option<i64> { rest.get(i..i + 2)?.parse().ok() };
    let (month, day, hour, minute) = (field(0)?, field(2)?, field(4)?, field(6)?);
    let second = field(8).unwrap_or(0);
    Some(days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second)
}

/// RFC 3339 in UTC, as Go marshals a certificate's `time.Time`.
fn rfc3339(seconds: i64) -> String {
    let ((year, month, day), hour, minute, second) = split_seconds(seconds);
    format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}Z")
}

fn now_seconds() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// Verification settings from `parse_and_verify_certificates_with_options`.
struct VerifyOptions {
    dns_name: Option<String>,
    now: i64,
    /// Go `ExtKeyUsage` numbers the leaf must allow; empty means server auth as Go defaults.
    key_usages: Vec<i64>,
    /// OPA adds `URIStrings` to the chain it returns without options, not with them.
    uri_strings: bool,
}

fn parse_and_verify(args: &[Value]) -> Result<Value, BuiltinError> {
    let text = args::string(args, 0)?;
    let options = VerifyOptions {
        dns_name: None,
        now: now_seconds(),
        key_usages: Vec::new(),
        uri_strings: true,
    };
    verify_chain(text, &options)
}

fn parse_and_verify_with_options(args: &[Value]) -> Result<Value, BuiltinError> {
    let text = args::string(args, 0)?;
    let options = args::object(args, 1)?;
    let mut parsed = VerifyOptions {
        dns_name: None,
        now: now_seconds(),
        key_usages: Vec::new(),
        uri_strings: false,
    };
    for (key, value) in options {
        match (key.as_str().unwrap_or_default(), value) {
            ("DNSName", Value::String(name)) => parsed.dns_name = Some(name.to_string()),
            ("CurrentTime", Value::Number(ns)) => {
                parsed.now = ns.as_i64().unwrap_or(0).div_euclid(1_000_000_000);
            }
            ("MaxConstraintComparisons", Value::Number(_)) => {}
            ("KeyUsages", Value::Array(usages)) => {
                for usage in usages.iter() {
                    let name = usage.as_str().unwrap_or_default();
                    let number = KEY_USAGE_NAMES
                        .iter()
                        .position(|known| *known == name)
                        .ok_or_else(|| {
                            BuiltinError::failed(format!("invalid entry for KeyUsages: {name}"))
                        })?;
                    parsed.key_usages.push(number as i64);
                }
            }
            _ => return Err(BuiltinError::failed("invalid key option")),
        }
    }
    verify_chain(text, &parsed)
}

/// OPA's option names for Go's `ExtKeyUsage` values, in Go's order.
const KEY_USAGE_NAMES: [&str; 14] = [
    "KeyUsageAny",
    "KeyUsageServerAuth",
    "KeyUsageClientAuth",
    "KeyUsageCodeSigning",
    "KeyUsageEmailProtection",
    "KeyUsageIPSECEndSystem",
    "KeyUsageIPSECTunnel",
    "KeyUsageIPSECUser",
    "KeyUsageTimeStamping",
    "KeyUsageOCSPSigning",
    "KeyUsageMicrosoftServerGatedCrypto",
    "KeyUsageNetscapeServerGatedCrypto",
    "KeyUsageMicrosoftCommercialCodeSigning",
    "KeyUsageMicrosoftKernelCodeSigning",
];

/// OPA's chain check: the first certificate is the root, the last the leaf. Answers
/// `[true, certificates]` or `[false, []]`; only unreadable input is an error.
fn verify_chain(text: &str, options: &VerifyOptions) -> Result<Value, BuiltinError> {
    let invalid = || Value::array(vec![Value::Bool(false), Value::array(Vec::new())]);
    let Ok(blocks) = der_blocks(text, "CERTIFICATE") else {
        return Ok(invalid());
    };
    let Ok(chain) = blocks
        .iter()
        .map(|der| Certificate::parse(der))
        .collect::<Result<Vec<_>, _>>()
    else {
        return Ok(invalid());
    };
    if chain.len() < 2 || !chain_is_valid(&chain, options) {
        return Ok(invalid());
    }
    // Go's verified chain runs from the leaf up to the root.
    Ok(Value::array(vec![
        Value::Bool(true),
        Value::array(
            chain
                .iter()
                .rev()
                .map(|c| {
                    if options.uri_strings {
                        c.to_json()
                    } else {
                        c.to_go_json()
                    }
                })
                .collect(),
        ),
    ]))
}

fn chain_is_valid(chain: &[Certificate<'_>], options: &VerifyOptions) -> bool {
    let in_validity =
        |c: &Certificate<'_>| c.not_before <= options.now && options.now <= c.not_after;
    if !chain.iter().all(in_validity) {
        return false;
    }
    // The root signs itself; every other certificate is signed by the one before it.
    let root_signed = verify_signature(&chain[0], &chain[0]);
    let links_signed = chain.windows(2).all(|pair| {
        pair[0].is_ca()
            && pair[0].subject.raw == pair[1].issuer.raw
            && verify_signature(&pair[0], &pair[1])
    });
    let Some(leaf) = chain.last() else {
        return false;
    };
    let name_ok = options.dns_name.as_ref().is_none_or(|name| {
        leaf.dns_names()
            .iter()
            .any(|pattern| dns_matches(pattern, name))
    });
    let usages_ok = match leaf.ext_key_usages() {
        None => true,
        Some(allowed) if allowed.contains(&0) => true,
        Some(allowed) => {
            let wanted: &[i64] = if options.key_usages.is_empty() {
                &[1]
            } else {
                &options.key_usages
            };
            wanted.contains(&0) || wanted.iter().any(|usage| allowed.contains(usage))
        }
    };
    root_signed && links_signed && name_ok && usages_ok
}

fn dns_matches(pattern: &str, name: &str) -> bool {
    let pattern = pattern.to_ascii_lowercase();
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    match pattern.strip_prefix("*.") {
        Some(suffix) => name
            .split_once('.')
            .is_some_and(|(label, rest)| !label.is_empty() && rest == suffix),
        None => pattern == name,
    }
}

fn verify_signature(issuer: &Certificate<'_>, subject: &Certificate<'_>) -> bool {
    let Ok(key) = keys::parse_spki(issuer.spki.raw) else {
        return false;
    };
    let algorithm = match subject.signature_algorithm {
        3 => keys::Algorithm::Rs1,
        4 => keys::Algorithm::Rs256,
        5 => keys::Algorithm::Rs384,
        6 => keys::Algorithm::Rs512,
        10 => keys::Algorithm::Es256Der,
        11 => keys::Algorithm::Es384Der,
        12 => keys::Algorithm::Es512Der,
        13 => keys::Algorithm::Ps256,
        14 => keys::Algorithm::Ps384,
        15 => keys::Algorithm::Ps512,
        16 => keys::Algorithm::EdDsa,
        _ => return false,
    };
    key.verify(algorithm, subject.tbs, subject.signature)
}

fn parse_certificate_request(args: &[Value]) -> Result<Value, BuiltinError> {
    let text = args::string(args, 0)?;
    let der = if text.starts_with("-----BEGIN") {
        asn1::pem_blocks(text).into_iter().next().map(|b| b.der)
    } else {
        let bytes = asn1::decode_base64_std(text).map_err(BuiltinError::failed)?;
        if bytes.starts_with(b"-----BEGIN") {
            asn1::pem_blocks(&String::from_utf8_lossy(&bytes))
                .into_iter()
                .next()
                .map(|b| b.der)
        } else {
            Some(bytes)
        }
    };
    let der = der.ok_or_else(|| BuiltinError::failed("failed to parse a PEM block"))?;
    request_json(&der).ok_or_else(|| BuiltinError::failed("x509: malformed certificate request"))
}

/// Go's `x509.CertificateRequest` as JSON.
fn request_json(der: &[u8]) -> Option<Value> {
    let request = Reader::new(der).element(tag::SEQUENCE)?;
    let mut parts = request.children();
    let info = parts.element(tag::SEQUENCE)?;
    let algorithm = parts.element(tag::SEQUENCE)?;
    let signature = parts.element(tag::BIT_STRING)?.bits()?;
    let mut fields = info.children();
    let version = fields.element(tag::INTEGER)?;
    let subject = fields.element(tag::SEQUENCE)?;
    let spki = fields.element(tag::SEQUENCE)?;
    let mut json = Json::default();
    json.put("Raw", Value::string(base64_std(request.raw)));
    json.put(
        "RawTBSCertificateRequest",
        Value::string(base64_std(info.raw)),
    );
    json.put(
        "RawSubjectPublicKeyInfo",
        Value::string(base64_std(spki.raw)),
    );
    json.put("RawSubject", Value::string(base64_std(subject.raw)));
    json.put("Version", asn1::integer_value(version.content));
    json.put("Signature", Value::string(base64_std(signature)));
    json.put(
        "SignatureAlgorithm",
        Value::int(signature_algorithm(algorithm)),
    );
    let (key_algorithm, key) = public_key_json(spki);
    json.put("PublicKeyAlgorithm", Value::int(key_algorithm));
    json.put("PublicKey", key);
    json.put("Subject", name_json(subject));
    for key in [
        "Attributes",
        "Extensions",
        "ExtraExtensions",
        "DNSNames",
        "EmailAddresses",
        "IPAddresses",
        "URIs",
    ] {
        json.put(key, Value::Null);
    }
    let mut extensions = Vec::new();
    if let Some(attributes) = fields.next_if(0xa0) {
        let mut reader = attributes.children();
        while let Some(attribute) = reader.next_element() {
            let mut parts = attribute.children();
            let Some(kind) = parts.element(tag::OID) else {
                continue;
            };
            let values = parts.element(tag::SET)?;
            let mut sets = Vec::new();
            let mut value_reader = values.children();
            while let Some(value) = value_reader.next_element() {
                let mut pairs = Vec::new();
                let mut inner = value.children();
                while let Some(pair) = inner.next_element() {
                    let mut pair_fields = pair.children();
                    let (Some(id), Some(content)) =
                        (pair_fields.element(tag::OID), pair_fields.next_element())
                    else {
                        continue;
                    };
                    let content = match content.tag {
                        tag::OCTET_STRING => Value::string(base64_std(content.content)),
                        _ => string_value(content),
                    };
                    pairs.push(Value::object([
                        ("Type", oid_json(id.content)),
                        ("Value", content),
                    ]));
                }
                sets.push(Value::array(pairs));
            }
            json.push(
                "Attributes",
                Value::object([
                    ("Type", oid_json(kind.content)),
                    ("Value", Value::array(sets)),
                ]),
            );
            // The PKCS#9 extension request carries the requested extensions.
            if oid_is(kind.content, &[1, 2, 840, 113549, 1, 9, 14])
                && let Some(list) = values.children().element(tag::SEQUENCE)
            {
                extensions.extend(read_extensions(list)?);
            }
        }
    }
    if !extensions.is_empty() {
        json.put("Extensions", extensions_json(&extensions));
    }
    for extension in &extensions {
        if oid_is(extension.id, &[2, 5, 29, 17]) {
            apply_extension(&mut json, extension);
        }
    }
    // Requests have no `URIStrings`; it is OPA's addition to certificates only.
    json.0.remove(&Value::string("URIStrings"));
    Some(json.finish())
}

fn parse_keypair(args: &[Value]) -> Result<Value, BuiltinError> {
    let certificate_text = args::string(args, 0)?;
    let key_text = args::string(args, 1)?;
    let certificate_pem = pem_text(certificate_text)?;
    let key_pem = pem_text(key_text)?;
    let certificates = labelled(&certificate_pem, "CERTIFICATE");
    let Some(leaf_der) = certificates.first() else {
        return Err(BuiltinError::failed(
            "tls: failed to find any PEM data in certificate input",
        ));
    };
    let leaf = Certificate::parse(leaf_der).map_err(BuiltinError::failed)?;
    let key = keys::private_keys_from_pem(&key_pem)
        .into_iter()
        .next()
        .ok_or_else(|| BuiltinError::failed("tls: failed to find any PEM data in key input"))?;
    let public = keys::parse_spki(leaf.spki.raw).map_err(BuiltinError::failed)?;
    if !key.matches(&public) {
        let same_kind = matches!(
            (&key, &public),
            (PrivateKey::Rsa { .. }, PublicKey::Rsa { .. })
                | (PrivateKey::Ec { .. }, PublicKey::Ec { .. })
                | (PrivateKey::Ed25519 { .. }, PublicKey::Ed25519(_))
        );
        return Err(BuiltinError::failed(if same_kind {
            "tls: private key does not match public key"
        } else {
            "tls: private key type does not match public key type"
        }));
    }
    Ok(Value::object([
        (
            "Certificate",
            Value::array(
                certificates
                    .iter()
                    .map(|der| Value::string(base64_std(der)))
                    .collect(),
            ),
        ),
        ("Leaf", leaf.to_go_json()),
        ("OCSPStaple", Value::Null),
        ("PrivateKey", key.to_go_json()),
        ("SignedCertificateTimestamps", Value::Null),
        ("SupportedSignatureAlgorithms", Value::Null),
    ]))
}

/// PEM text as given, or decoded from base64.
fn pem_text(text: &str) -> Result<String, BuiltinError> {
    if text.starts_with("-----BEGIN") {
        return Ok(text.to_string());
    }
    let bytes = asn1::decode_base64_std(text).map_err(BuiltinError::failed)?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

fn parse_rsa_private_key(args: &[Value]) -> Result<Value, BuiltinError> {
    let text = args::string(args, 0)?;
    let pem = pem_text(text)?;
    let key = keys::private_keys_from_pem(&pem)
        .into_iter()
        .next()
        .ok_or_else(|| BuiltinError::failed("failed to parse PEM block containing the key"))?;
    Ok(key.to_jwk())
}

fn parse_private_keys(args: &[Value]) -> Result<Value, BuiltinError> {
    let text = args::string(args, 0)?;
    if text.is_empty() {
        return Ok(Value::Null);
    }
    // Text that is neither PEM nor base64 of PEM holds no keys; OPA answers `[]`.
    let pem = pem_text(text).unwrap_or_default();
    let found = keys::all_private_keys_from_pem(&pem).map_err(BuiltinError::failed)?;
    Ok(Value::array(
        found.iter().map(PrivateKey::to_go_json).collect(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_dates_both_ways() {
        let seconds = days_from_civil(2036, 11, 22) * 86_400 + 12 * 3600 + 23 * 60 + 54;
        assert_eq!(rfc3339(seconds), "2036-11-22T12:23:54Z");
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
    }

    #[test]
    fn matches_dns_names_as_go() {
        assert!(dns_matches("*.leaf.example", "a.leaf.example"));
        assert!(!dns_matches("*.leaf.example", "a.b.leaf.example"));
        assert!(dns_matches("Leaf.Example", "leaf.example."));
    }

    #[test]
    fn odd_input_is_an_error_not_a_panic() {
        for text in [
            "",
            "abc",
            "MIIB",
            "-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----",
        ] {
            let _ = parse_certificates(&[Value::string(text)]);
            let _ = parse_certificate_request(&[Value::string(text)]);
            let _ = parse_and_verify(&[Value::string(text)]);
            let _ = parse_private_keys(&[Value::string(text)]);
            let _ = parse_keypair(&[Value::string(text), Value::string(text)]);
        }
    }

    // Expected values confirmed with `opa eval` (OPA 1.22.2).
    #[test]
    fn private_keys_that_do_not_parse_are_errors() {
        let keys = |text: &str| {
            parse_private_keys(&[Value::string(text)])
                .map(|v| v.to_json())
                .map_err(|e| e.to_string())
        };
        assert!(keys("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n").is_err());
        assert!(
            keys("-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n").is_err()
        );
        assert_eq!(
            keys("-----BEGIN FOO-----\nAAAA\n-----END FOO-----\n"),
            Ok("[]".into())
        );
        assert_eq!(keys("garbage"), Ok("[]".into()));
        assert_eq!(keys(""), Ok("null".into()));
    }
}
