//! `semver.is_valid` and `semver.compare` on SemVer 2.0.0, accepting a leading `v` as OPA's
//! semver library does (regorus rejects it).

use std::cmp::Ordering;

use super::args::{self, BuiltinError};
use super::{Builtin, Implementation};
use crate::Value;

pub(super) const BUILTINS: &[Builtin] = &[
    Builtin {
        name: "semver.is_valid",
        arity: 1,
        nondeterministic: false,
        eval: Implementation::Operands(is_valid),
    },
    Builtin {
        name: "semver.compare",
        arity: 2,
        nondeterministic: false,
        eval: Implementation::Operands(compare),
    },
];

/// A parsed version; build metadata is checked but plays no part in ordering.
struct Version<'a> {
    core: [u64; 3],
    prerelease: Vec<&'a str>,
}

fn numeric(part: &str) -> Option<u64> {
    let leading_zero = part.len() > 1 && part.starts_with('0');
    (!part.is_empty() && !leading_zero && part.bytes().all(|b| b.is_ascii_digit()))
        .then(|| part.parse().ok())?
}

fn identifier(part: &str) -> bool {
    !part.is_empty() && part.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

fn parse(text: &str) -> Option<Version<'_>> {
    let text = text.strip_prefix('v').unwrap_or(text);
    let (rest, build) = match text.split_once('+') {
        Some((rest, build)) => (rest, Some(build)),
        None => (text, None),
    };
    if build.is_some_and(|b| !b.split('.').all(identifier)) {
        return None;
    }
    let (core, prerelease) = match rest.split_once('-') {
        Some((core, pre)) => (core, pre.split('.').collect::<Vec<_>>()),
        None => (rest, Vec::new()),
    };
    let valid_prerelease = prerelease
        .iter()
        .all(|p| identifier(p) && (!p.bytes().all(|b| b.is_ascii_digit()) || numeric(p).is_some()));
    if !valid_prerelease {
        return None;
    }
    let parts: Vec<&str> = core.split('.').collect();
    let [major, minor, patch] = parts.as_slice() else {
        return None;
    };
    Some(Version {
        core: [numeric(major)?, numeric(minor)?, numeric(patch)?],
        prerelease,
    })
}

fn order(a: &Version<'_>, b: &Version<'_>) -> Ordering {
    a.core.cmp(&b.core).then_with(
        || match (a.prerelease.is_empty(), b.prerelease.is_empty()) {
            (true, true) => Ordering::Equal,
            (true, false) => Ordering::Greater,
            (false, true) => Ordering::Less,
            (false, false) => {
                for (x, y) in a.prerelease.iter().zip(b.prerelease.iter()) {
                    let ordering = match (x.parse::<u64>(), y.parse::<u64>()) {
                        (Ok(x), Ok(y)) => x.cmp(&y),
                        (Ok(_), Err(_)) => Ordering::Less,
                        (Err(_), Ok(_)) => Ordering::Greater,
                        (Err(_), Err(_)) => x.cmp(y),
                    };
                    if ordering != Ordering::Equal {
                        return ordering;
                    }
                }
                a.prerelease.len().cmp(&b.prerelease.len())
            }
        },
    )
}

/// False, not an error, for anything that is not a valid version string.
fn is_valid(args: &[Value]) -> Result<Value, BuiltinError> {
    Ok(Value::Bool(args[0].as_str().and_then(parse).is_some()))
}

fn compare(args: &[Value]) -> Result<Value, BuiltinError> {
    let version = |position: usize| -> Result<Version<'_>, BuiltinError> {
        let text = args::string(args, position)?;
        parse(text).ok_or_else(|| {
            BuiltinError::failed(format!(
                "operand {}: string {} is not a valid SemVer",
                position + 1,
                serde_json::to_string(text).unwrap_or_default()
            ))
        })
    };
    let (a, b) = (version(0)?, version(1)?);
    Ok(Value::int(match order(&a, &b) {
        Ordering::Less => -1,
        Ordering::Equal => 0,
        Ordering::Greater => 1,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid(text: &str) -> bool {
        is_valid(&[Value::string(text)]) == Ok(Value::Bool(true))
    }

    fn cmp(a: &str, b: &str) -> Result<Value, BuiltinError> {
        compare(&[Value::string(a), Value::string(b)])
    }

    // Expected values confirmed with `opa eval` (OPA 1.22.2).
    #[test]
    fn validates_as_opa() {
        assert!(valid("v1.2.3"));
        assert!(valid("1.2.3-0a"));
        assert!(valid("1.2.3+001"));
        assert!(!valid("V1.2.3"));
        assert!(!valid("1.2.3-01"));
        assert!(!valid(" 1.2.3"));
        assert!(!valid("1.2"));
        assert_eq!(is_valid(&[Value::int(1)]), Ok(Value::Bool(false)));
    }

    #[test]
    fn orders_by_precedence() {
        assert_eq!(cmp("1.2.3-alpha.1", "1.2.3-alpha.beta"), Ok(Value::int(-1)));
        assert_eq!(cmp("1.2.3-alpha.10", "1.2.3-alpha.9"), Ok(Value::int(1)));
        assert_eq!(cmp("v1.0.0", "1.2.3"), Ok(Value::int(-1)));
        assert_eq!(cmp("1.2.3+b1", "1.2.3+b2"), Ok(Value::int(0)));
        assert_eq!(
            cmp("1.2.3", "a").map_err(|e| e.to_string()),
            Err(r#"operand 2: string "a" is not a valid SemVer"#.into())
        );
    }
}
