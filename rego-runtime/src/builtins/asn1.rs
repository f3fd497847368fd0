//! A small DER reader for certificates and keys, plus the encodings builtins share: base64
//! flavours, PEM blocks and big unsigned integers as decimal text.
//!
//! Certificates are read by hand rather than through a typed X.509 crate because OPA returns
//! Go's `x509.Certificate` field by field, raw byte ranges included.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};

use crate::Value;
use crate::value::Number;

/// DER tags used by the readers.
pub(super) mod tag {
    pub const BOOLEAN: u8 = 0x01;
    pub const INTEGER: u8 = 0x02;
    pub const BIT_STRING: u8 = 0x03;
    pub const OCTET_STRING: u8 = 0x04;
    pub const OID: u8 = 0x06;
    pub const UTC_TIME: u8 = 0x17;
    pub const GENERALIZED_TIME: u8 = 0x18;
    pub const SEQUENCE: u8 = 0x30;
    pub const SET: u8 = 0x31;
}

/// One DER element: its tag, its whole encoding and its contents.
#[derive(Clone, Copy, Debug)]
pub(super) struct Element<'a> {
    pub tag: u8,
    pub raw: &'a [u8],
    pub content: &'a [u8],
}

impl<'a> Element<'a> {
    /// The elements inside a constructed element.
    pub fn children(&self) -> Reader<'a> {
        Reader { rest: self.content }
    }

    /// An OID's arcs.
    pub fn oid(&self) -> Option<Vec<u64>> {
        (self.tag == tag::OID).then(|| oid_arcs(self.content))?
    }

    /// The bytes of a BIT STRING without its unused-bits byte.
    pub fn bits(&self) -> Option<&'a [u8]> {
        (self.tag == tag::BIT_STRING).then(|| self.content.get(1..))?
    }
}

/// Reads consecutive DER elements.
#[derive(Clone, Copy, Debug)]
pub(super) struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    pub fn new(bytes: &'a [u8]) -> Reader<'a> {
        Reader { rest: bytes }
    }

    pub fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    /// The next element, or `None` when the input is exhausted or malformed.
    pub fn next_element(&mut self) -> Option<Element<'a>> {
        let (&tag, after_tag) = self.rest.split_first()?;
        let (&first, after_len) = after_tag.split_first()?;
        let (length, header) = if first < 0x80 {
            (usize::from(first), 2)
        } else {
            let count = usize::from(first & 0x7f);
            if count == 0 || count > 4 {
                return None;
            }
            let bytes = after_len.get(..count)?;
            let length = bytes
                .iter()
                .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
            (length, 2 + count)
        };
        let total = header.checked_add(length)?;
        let raw = self.rest.get(..total)?;
        self.rest = &self.rest[total..];
        Some(Element {
            tag,
            raw,
            content: &raw[header..],
        })
    }

    /// The next element when it has `tag`; the reader does not move otherwise.
    pub fn next_if(&mut self, tag: u8) -> Option<Element<'a>> {
        let mut probe = *self;
        let element = probe.next_element()?;
        if element.tag == tag {
            *self = probe;
            Some(element)
        } else {
            None
        }
    }

    /// The next element, which must have `tag`.
    pub fn element(&mut self, tag: u8) -> Option<Element<'a>> {
        let element = self.next_element()?;
        (element.tag == tag).then_some(element)
    }
}

fn oid_arcs(content: &[u8]) -> Option<Vec<u64>> {
    let mut arcs = Vec::new();
    let mut current: u64 = 0;
    for (i, byte) in content.iter().enumerate() {
        current = current.checked_mul(128)? | u64::from(byte & 0x7f);
        if byte & 0x80 == 0 {
            if arcs.is_empty() {
                let first = (current / 40).min(2);
                arcs.push(first);
                arcs.push(current - first * 40);
            } else {
                arcs.push(current);
            }
            current = 0;
        } else if i + 1 == content.len() {
            return None;
        }
    }
    (!arcs.is_empty()).then_some(arcs)
}

/// An OID as an array of numbers, the way Go's `asn1.ObjectIdentifier` marshals.
pub(super) fn oid_value(arcs: &[u64]) -> Value {
    Value::array(arcs.iter().map(|a| Value::int(*a as i64)).collect())
}

/// A DER INTEGER's contents as a number value (two's complement, any size).
pub(super) fn integer_value(content: &[u8]) -> Value {
    let negative = content.first().is_some_and(|b| b & 0x80 != 0);
    if !negative {
        return unsigned_value(content);
    }
    // Two's complement: magnitude = !bytes + 1.
    let mut magnitude: Vec<u8> = content.iter().map(|b| !b).collect();
    for byte in magnitude.iter_mut().rev() {
        let (sum, carry) = byte.overflowing_add(1);
        *byte = sum;
        if !carry {
            break;
        }
    }
    match unsigned_value(&magnitude) {
        Value::Number(Number::Int(i)) => Value::Number(Number::Int(-i)),
        Value::Number(Number::Big(text)) => Value::Number(Number::Big(format!("-{text}").into())),
        other => other,
    }
}

/// Big-endian unsigned bytes as a number value, exact at any size.
pub(super) fn unsigned_value(bytes: &[u8]) -> Value {
    let significant = bytes
        .iter()
        .position(|b| *b != 0)
        .map_or(&[][..], |start| &bytes[start..]);
    if significant.len() <= 15 {
        let n = significant
            .iter()
            .fold(0i128, |acc, b| (acc << 8) | i128::from(*b));
        return Value::Number(Number::Int(n));
    }
    Value::Number(Number::Big(decimal(significant).into()))
}

/// Big-endian unsigned bytes as decimal text.
pub(super) fn decimal(bytes: &[u8]) -> String {
    // Limbs of 10^9, least significant first.
    let mut limbs: Vec<u32> = vec![0];
    for byte in bytes {
        let mut carry = u64::from(*byte);
        for limb in limbs.iter_mut() {
            let value = u64::from(*limb) * 256 + carry;
            *limb = (value % 1_000_000_000) as u32;
            carry = value / 1_000_000_000;
        }
        while carry > 0 {
            limbs.push((carry % 1_000_000_000) as u32);
            carry /= 1_000_000_000;
        }
    }
    let mut text = limbs.last().map(|l| l.to_string()).unwrap_or_default();
    for limb in limbs.iter().rev().skip(1) {
        text.push_str(&format!("{limb:09}"));
    }
    text
}

/// Standard base64 with padding, as Go marshals `[]byte`.
pub(super) fn base64_std(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

/// URL-safe base64 without padding, as JWTs and JWKs use.
pub(super) fn base64_url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Decodes standard base64 with Go's error wording (`illegal base64 data at input byte N`).
pub(super) fn decode_base64_std(text: &str) -> Result<Vec<u8>, String> {
    STANDARD
        .decode(text)
        .map_err(|error| go_base64_error(text, &error))
}

/// Decodes base64url with or without padding (JWT segments and JWK members).
pub(super) fn decode_base64_url(text: &str) -> Result<Vec<u8>, String> {
    URL_SAFE_NO_PAD
        .decode(text.trim_end_matches('='))
        .or_else(|_| URL_SAFE.decode(text))
        .or_else(|_| STANDARD_NO_PAD.decode(text.trim_end_matches('=')))
        .map_err(|error| go_base64_error(text, &error))
}

/// Decodes padded base64url as Go's `base64.URLEncoding` does: padding required, trailing
/// bits ignored.
pub(super) fn decode_base64_url_padded(text: &str) -> Result<Vec<u8>, String> {
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    const GO_URL: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::URL_SAFE,
        GeneralPurposeConfig::new()
            .with_decode_allow_trailing_bits(true)
            .with_decode_padding_mode(DecodePaddingMode::RequireCanonical),
    );
    GO_URL
        .decode(text)
        .map_err(|error| go_base64_error(text, &error))
}

fn go_base64_error(text: &str, error: &base64::DecodeError) -> String {
    let offset = match error {
        // Go complains about the first byte after a padding run, not the padding itself.
        base64::DecodeError::InvalidByte(offset, b'=') => text[*offset..]
            .find(|c| c != '=')
            .map_or(text.len(), |after| offset + after),
        base64::DecodeError::InvalidByte(offset, _)
        | base64::DecodeError::InvalidLastSymbol { offset, .. } => *offset,
        // Go reads a short padded group to the end, and an unpadded one from its start.
        _ if text.ends_with('=') => text.len(),
        _ => text.len() - text.len() % 4,
    };
    format!("illegal base64 data at input byte {offset}")
}

/// One PEM block: its label and DER contents.
#[derive(Clone, Debug)]
pub(super) struct PemBlock {
    pub label: String,
    pub der: Vec<u8>,
}

/// Every PEM block in `text`, in order; text between blocks is ignored as Go's `pem.Decode`
/// does. A block whose body is not base64 ends the scan, as in Go.
pub(super) fn pem_blocks(text: &str) -> Vec<PemBlock> {
    let mut blocks = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("-----BEGIN ") {
        let after = &rest[start + "-----BEGIN ".len()..];
        let Some(label_end) = after.find("-----") else {
            break;
        };
        let label = after[..label_end].to_string();
        let body_start = &after[label_end + 5..];
        let end_marker = format!("-----END {label}-----");
        let Some(body_end) = body_start.find(&end_marker) else {
            break;
        };
        let body: String = body_start[..body_end]
            .lines()
            .filter(|line| !line.contains(':'))
            .flat_map(|line| line.chars())
            .filter(|c| !c.is_whitespace())
            .collect();
        match STANDARD.decode(body) {
            Ok(der) => blocks.push(PemBlock { label, der }),
            Err(_) => break,
        }
        rest = &body_start[body_end + end_marker.len()..];
    }
    blocks
}

/// Minimal DER writers, for the few structures builtins re-encode (JWK keys as PKCS#1).
pub(super) fn der_integer(unsigned: &[u8]) -> Vec<u8> {
    let trimmed = unsigned
        .iter()
        .position(|b| *b != 0)
        .map_or(&[0u8][..], |start| &unsigned[start..]);
    let mut content = Vec::with_capacity(trimmed.len() + 1);
    if trimmed[0] & 0x80 != 0 {
        content.push(0);
    }
    content.extend_from_slice(trimmed);
    der_wrap(tag::INTEGER, &content)
}

/// A DER element with `tag` around `content`.
pub(super) fn der_wrap(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let length = content.len();
    if length < 0x80 {
        out.push(length as u8);
    } else {
        let bytes: Vec<u8> = length
            .to_be_bytes()
            .into_iter()
            .skip_while(|b| *b == 0)
            .collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(content);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_oids_and_integers() {
        let oid = [0x06, 0x03, 0x55, 0x1d, 0x11];
        let element = Reader::new(&oid).next_element().expect("element");
        assert_eq!(element.oid(), Some(vec![2, 5, 29, 17]));
        assert_eq!(integer_value(&[0xff]).to_json(), "-1");
        assert_eq!(integer_value(&[0x00, 0x80]).to_json(), "128");
        assert_eq!(
            decimal(&[1, 0, 0, 0, 0, 0, 0, 0, 0]),
            "18446744073709551616"
        );
    }

    #[test]
    fn truncated_input_is_not_a_panic() {
        assert!(Reader::new(&[0x30, 0x85, 1]).next_element().is_none());
        assert!(Reader::new(&[0x30, 0x05, 1]).next_element().is_none());
        assert!(Reader::new(&[]).next_element().is_none());
    }

    #[test]
    fn encodes_integers_minimally() {
        assert_eq!(der_integer(&[0, 0x80]), vec![0x02, 0x02, 0x00, 0x80]);
        assert_eq!(der_integer(&[0, 0]), vec![0x02, 0x01, 0x00]);
    }
}
