//! `net.*`: CIDR arithmetic with Go's `net.ParseCIDR`/`net.ParseIP` rules, and
//! `net.lookup_ip_addr` through the system resolver.

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, ToSocketAddrs};

use super::Builtin;
use super::args::{self, BuiltinError};
use crate::Value;

pub(super) const BUILTINS: &[Builtin] = &[
    builtin("net.cidr_contains", 2, cidr_contains, false),
    // Deprecated alias OPA still accepts: same check as `net.cidr_contains`.
    builtin("net.cidr_overlap", 2, cidr_contains, false),
    builtin("net.cidr_intersects", 2, cidr_intersects, false),
    builtin("net.cidr_contains_matches", 2, cidr_contains_matches, false),
    builtin("net.cidr_merge", 1, cidr_merge, false),
    builtin("net.cidr_expand", 1, cidr_expand, false),
    builtin("net.cidr_is_valid", 1, cidr_is_valid, false),
    builtin("net.lookup_ip_addr", 1, lookup_ip_addr, true),
];

const fn builtin(
    name: &'static str,
    arity: u8,
    eval: fn(&[Value]) -> Result<Value, BuiltinError>,
    nondeterministic: bool,
) -> Builtin {
    Builtin {
        nondeterministic,
        ..super::builtin(name, arity, eval)
    }
}

/// Expanding more addresses than this (a /12 of IPv4) would take gigabytes; OPA has no limit
/// and would.
const MAX_EXPANSION: u128 = 1 << 20;

/// A network: its first address, prefix length and family.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Network {
    v6: bool,
    start: u128,
    prefix: u8,
}

impl Network {
    fn bits(self) -> u8 {
        if self.v6 { 128 } else { 32 }
    }

    fn size(self) -> u128 {
        let host_bits = u32::from(self.bits() - self.prefix);
        if host_bits >= 128 {
            u128::MAX
        } else {
            1u128 << host_bits
        }
    }

    fn last(self) -> u128 {
        self.start + (self.size() - 1)
    }

    fn contains(self, other: Network) -> bool {
        self.v6 == other.v6
            && self.prefix <= other.prefix
            && other.start >= self.start
            && other.last() <= self.last()
    }

    fn overlaps(self, other: Network) -> bool {
        self.v6 == other.v6 && self.start <= other.last() && other.start <= self.last()
    }

    fn text(self) -> String {
        format!("{}/{}", address_text(self.v6, self.start), self.prefix)
    }
}

fn address_text(v6: bool, address: u128) -> String {
    if v6 {
        Ipv6Addr::from(address).to_string()
    } else {
        Ipv4Addr::from(address as u32).to_string()
    }
}

fn network(v6: bool, address: u128, prefix: u8) -> Network {
    let bits = if v6 { 128 } else { 32 };
    let host_bits = u32::from(bits - prefix);
    let mask = if host_bits >= 128 {
        0
    } else {
        !((1u128 << host_bits) - 1)
    };
    let full = if v6 { u128::MAX } else { u128::from(u32::MAX) };
    Network {
        v6,
        start: address & mask & full,
        prefix,
    }
}

/// Go's `net.ParseIP`: dotted IPv4 (IPv4-mapped IPv6 counts as IPv4) or IPv6.
fn parse_ip(text: &str) -> Option<(bool, u128)> {
    match text.parse::<IpAddr>().ok()? {
        IpAddr::V4(v4) => Some((false, u128::from(u32::from(v4)))),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => Some((false, u128::from(u32::from(v4)))),
            None => Some((true, u128::from(v6))),
        },
    }
}

/// Go's `net.ParseCIDR`.
fn parse_cidr(text: &str) -> Option<Network> {
    let (address, prefix) = text.split_once('/')?;
    let (v6, address) = parse_ip(address)?;
    if prefix.is_empty() || prefix.len() > 3 || !prefix.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut prefix: u8 = prefix.parse().ok()?;
    // An IPv4-mapped address keeps its IPv6 prefix length; Go then compares as IPv4.
    if !v6 && address_is_mapped(text) {
        prefix = prefix.checked_sub(96)?;
    }
    let bits = if v6 { 128 } else { 32 };
    (prefix <= bits).then(|| network(v6, address, prefix))
}

fn address_is_mapped(cidr: &str) -> bool {
    cidr.split('/')
        .next()
        .is_some_and(|address| address.contains(':'))
}

fn cidr_operand(text: &str) -> Result<Network, BuiltinError> {
    parse_cidr(text).ok_or_else(|| BuiltinError::failed(format!("invalid CIDR address: {text}")))
}

/// A CIDR, or a single address as a host network.
fn cidr_or_ip(text: &str) -> Option<Network> {
    parse_cidr(text).or_else(|| {
        let (v6, address) = parse_ip(text)?;
        Some(network(v6, address, if v6 { 128 } else { 32 }))
    })
}

fn cidr_contains(args: &[Value]) -> Result<Value, BuiltinError> {
    let outer = cidr_operand(args::string(args, 0)?)?;
    let text = args::string(args, 1)?;
    let inner = cidr_or_ip(text).ok_or_else(|| {
        BuiltinError::failed(format!(
            "not a valid textual representation of an IP address or CIDR: {text}"
        ))
    })?;
    Ok(Value::Bool(outer.contains(inner)))
}

fn cidr_intersects(args: &[Value]) -> Result<Value, BuiltinError> {
    let a = cidr_operand(args::string(args, 0)?)?;
    // OPA names operand 1 for a second operand of the wrong type too.
    let b = args::any(args, 1)?
        .as_str()
        .ok_or_else(|| args::wrong_type(0, "string", &args[1]))?;
    let b = cidr_operand(b)?;
    Ok(Value::Bool(a.overlaps(b)))
}

/// `(index, address text)` pairs of a `cidr_contains_matches` operand: a string is its own
/// index, arrays index by position, objects by key, sets by element; an array element
/// `[cidr, ...]` stands for its first member.
fn indexed(args: &[Value], position: usize) -> Result<Vec<(Value, String)>, BuiltinError> {
    let text_of = |value: &Value| -> Option<String> {
        match value {
            Value::String(s) => Some(s.to_string()),
            Value::Array(items) => items.first()?.as_str().map(str::to_string),
            _ => None,
        }
    };
    // A collection of the right type with an element of the wrong one is a builtin error.
    let element_error = |_: &Value| {
        BuiltinError::failed(format!(
            "operand {}: element must be string or non-empty array",
            position + 1
        ))
    };
    match &args[position] {
        Value::String(s) => Ok(vec![(Value::String(s.clone()), s.to_string())]),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                Ok((
                    Value::int(i as i64),
                    text_of(item).ok_or_else(|| element_error(item))?,
                ))
            })
            .collect(),
        Value::Set(items) => items
            .iter()
            .map(|item| {
                Ok((
                    item.clone(),
                    text_of(item).ok_or_else(|| element_error(item))?,
                ))
            })
            .collect(),
        Value::Object(entries) => entries
            .iter()
            .map(|(key, item)| {
                Ok((
                    key.clone(),
                    text_of(item).ok_or_else(|| element_error(item))?,
                ))
            })
            .collect(),
        // OPA answers no matches for any other operand rather than failing.
        _ => Ok(Vec::new()),
    }
}

fn cidr_contains_matches(args: &[Value]) -> Result<Value, BuiltinError> {
    let cidrs = indexed(args, 0)?;
    let targets = indexed(args, 1)?;
    let mut matches = BTreeSet::new();
    for (cidr_index, cidr_text) in &cidrs {
        let cidr = cidr_operand(cidr_text)?;
        for (target_index, target_text) in &targets {
            let target = cidr_or_ip(target_text).ok_or_else(|| {
                BuiltinError::failed(format!(
                    "not a valid textual representation of an IP address or CIDR: {target_text}"
                ))
            })?;
            if cidr.contains(target) {
                matches.insert(Value::array(vec![cidr_index.clone(), target_index.clone()]));
            }
        }
    }
    Ok(Value::Set(std::sync::Arc::new(matches)))
}

/// Go's `IP.DefaultMask` for a bare address: the old class A/B/C masks for IPv4.
fn default_network(text: &str) -> Option<Network> {
    let (v6, address) = parse_ip(text)?;
    if v6 {
        return Some(network(true, address, 128));
    }
    let first = (address >> 24) as u8;
    let prefix = if first < 0x80 {
        8
    } else if first < 0xc0 {
        16
    } else {
        24
    };
    Some(network(false, address, prefix))
}

fn cidr_merge(args: &[Value]) -> Result<Value, BuiltinError> {
    let items: Vec<&Value> = match &args[0] {
        Value::Array(items) => items.iter().collect(),
        Value::Set(items) => items.iter().collect(),
        _ => return Err(BuiltinError::failed("operand must be an array")),
    };
    let mut networks = Vec::with_capacity(items.len());
    for item in items {
        let text = item.as_str().ok_or_else(|| {
            BuiltinError::Type(format!(
                "operand 1 must be array or set of strings but got {}",
                item.type_name()
            ))
        })?;
        let parsed = match parse_cidr(text) {
            Some(network) => network,
            None if text.parse::<Ipv6Addr>().is_ok() => {
                return Err(BuiltinError::failed("IPv6 invalid: needs prefix length"));
            }
            None => default_network(text)
                .ok_or_else(|| BuiltinError::failed(format!("invalid CIDR address: {text}")))?,
        };
        networks.push(parsed);
    }
    let merged = merge(networks);
    Ok(Value::set(
        merged.into_iter().map(|n| Value::string(n.text())),
    ))
}

/// Smallest set of networks covering exactly the union of `networks`.
fn merge(mut networks: Vec<Network>) -> Vec<Network> {
    loop {
        networks.sort();
        networks.dedup();
        let mut kept: Vec<Network> = Vec::with_capacity(networks.len());
        for current in networks.iter().copied() {
            if kept.last().is_some_and(|last| last.contains(current)) {
                continue;
            }
            kept.push(current);
        }
        let mut changed = false;
        let mut joined: Vec<Network> = Vec::with_capacity(kept.len());
        for current in kept {
            if let Some(last) = joined.last().copied()
                && last.v6 == current.v6
                && last.prefix == current.prefix
                && last.prefix > 0
                && last.last().checked_add(1) == Some(current.start)
                && network(last.v6, last.start, last.prefix - 1).start == last.start
            {
                joined.pop();
                joined.push(network(last.v6, last.start, last.prefix - 1));
                changed = true;
                continue;
            }
            joined.push(current);
        }
        networks = joined;
        if !changed {
            return networks;
        }
    }
}

fn cidr_expand(args: &[Value]) -> Result<Value, BuiltinError> {
    let cidr = cidr_operand(args::string(args, 0)?)?;
    if cidr.size() > MAX_EXPANSION {
        return Err(BuiltinError::failed(format!(
            "CIDR {} too large to expand",
            cidr.text()
        )));
    }
    Ok(Value::set((cidr.start..=cidr.last()).map(|address| {
        Value::string(address_text(cidr.v6, address))
    })))
}

/// Anything but a string is simply not a valid CIDR.
fn cidr_is_valid(args: &[Value]) -> Result<Value, BuiltinError> {
    Ok(Value::Bool(
        args::any(args, 0)?
            .as_str()
            .is_some_and(|text| parse_cidr(text).is_some()),
    ))
}

fn lookup_ip_addr(args: &[Value]) -> Result<Value, BuiltinError> {
    let name = args::string(args, 0)?;
    let addresses = (name, 0u16)
        .to_socket_addrs()
        .map_err(|e| BuiltinError::failed(format!("lookup {name}: {e}")))?;
    Ok(Value::set(
        addresses.map(|a| Value::string(a.ip().to_string())),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(f: fn(&[Value]) -> Result<Value, BuiltinError>, args: &str) -> Result<String, String> {
        let Value::Array(args) = Value::from_json(args).expect("json") else {
            panic!("arguments must be an array")
        };
        f(&args).map(|v| v.to_json()).map_err(|e| e.to_string())
    }

    // Expected values confirmed with `opa eval` (OPA 1.22.2).
    #[test]
    fn contains_and_intersects() {
        assert_eq!(
            run(cidr_contains, r#"["10.0.0.0/8","10.1.2.3"]"#),
            Ok("true".into())
        );
        assert_eq!(
            run(cidr_contains, r#"["10.0.0.0/8","11.0.0.0/7"]"#),
            Ok("false".into())
        );
        assert_eq!(
            run(cidr_contains, r#"["::/0","10.0.0.1"]"#),
            Ok("false".into())
        );
        assert_eq!(
            run(cidr_contains, r#"["bad","10.1.2.3"]"#),
            Err("invalid CIDR address: bad".into())
        );
        assert_eq!(
            run(cidr_contains, r#"["10.0.0.0/8","bad/8"]"#),
            Err("not a valid textual representation of an IP address or CIDR: bad/8".into())
        );
        assert_eq!(
            run(cidr_intersects, r#"["10.0.0.0/8","10.1.0.0/16"]"#),
            Ok("true".into())
        );
    }

    #[test]
    fn matches_merges_and_expands() {
        assert_eq!(
            run(
                cidr_contains_matches,
                r#"[["10.0.0.0/8","192.168.0.0/16"],["10.1.2.3","192.168.1.1","1.1.1.1"]]"#
            ),
            Ok("[[0,0],[1,1]]".into())
        );
        assert_eq!(
            run(
                cidr_contains_matches,
                r#"[{"a":"10.0.0.0/8"},{"x":"10.1.2.3"}]"#
            ),
            Ok(r#"[["a","x"]]"#.into())
        );
        assert_eq!(
            run(cidr_merge, r#"[["192.0.128.0/24","192.0.129.0/24"]]"#),
            Ok(r#"["192.0.128.0/23"]"#.into())
        );
        assert_eq!(
            run(cidr_merge, r#"[["10.0.0.1","10.0.0.0","10.0.0.2/31"]]"#),
            Ok(r#"["10.0.0.0/8"]"#.into())
        );
        assert_eq!(
            run(
                cidr_merge,
                r#"[["2001:db8::/33","2001:db8:8000::/33","10.0.0.0/8"]]"#
            ),
            Ok(r#"["10.0.0.0/8","2001:db8::/32"]"#.into())
        );
        assert_eq!(
            run(cidr_expand, r#"["10.0.0.1/31"]"#),
            Ok(r#"["10.0.0.0","10.0.0.1"]"#.into())
        );
        assert!(run(cidr_expand, r#"["::/0"]"#).is_err());
        assert_eq!(run(cidr_is_valid, r#"["10.0.0.0/33"]"#), Ok("false".into()));
        assert_eq!(run(cidr_is_valid, "[4]"), Ok("false".into()));
        assert_eq!(
            run(cidr_intersects, r#"["10.0.0.0/8",[]]"#),
            Err("operand 1 must be string but got array".into())
        );
    }

    #[test]
    fn resolves_literal_addresses() {
        assert_eq!(
            run(lookup_ip_addr, r#"["127.0.0.1"]"#),
            Ok(r#"["127.0.0.1"]"#.into())
        );
    }
}
