//! Audit: every constraint against every inventory object it matches, at enforcement point
//! `audit.gatekeeper.sh`, reported per constraint as Gatekeeper writes `status`: the full
//! `totalViolations` and at most `limit` violations, the lexicographically smallest by
//! (group, version, kind, namespace, name, message, action), listed in descending order,
//! messages cut to 256 bytes (`pkg/audit/manager.go`).

use std::collections::BTreeMap;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use rego_runtime::{Engine, Limits};

use super::constraints::AUDIT_POINT;
use super::evaluate;
use super::objects;
use super::review;
use super::state::PreparedGatekeeper;

/// `--constraint-violations-limit`'s default.
pub const DEFAULT_VIOLATIONS_LIMIT: usize = 20;
/// Audit messages longer than this are cut (with `...`).
const MESSAGE_LIMIT: usize = 256;

/// One entry of `status.violations`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct StatusViolation {
    pub group: String,
    pub version: String,
    pub kind: String,
    pub namespace: String,
    pub name: String,
    pub message: String,
    pub enforcement_action: String,
    /// For scoped constraints: the actions at the audit point.
    pub enforcement_actions: Vec<String>,
}

/// One constraint's audit status.
#[derive(Clone, Debug)]
pub struct ConstraintAudit {
    pub kind: String,
    pub name: String,
    pub total_violations: u64,
    /// Descending, at most the limit.
    pub violations: Vec<StatusViolation>,
}

/// The result of one audit run.
#[derive(Clone, Debug)]
pub struct AuditReport {
    /// RFC 3339, UTC, of the run's start.
    pub timestamp: String,
    /// Seconds since the epoch of the run's start.
    pub started_unix: i64,
    pub duration: std::time::Duration,
    /// By (kind, name).
    pub constraints: BTreeMap<(String, String), ConstraintAudit>,
    /// Violations per enforcement action (`gatekeeper_violations`).
    pub by_action: BTreeMap<String, u64>,
    /// Objects that could not be reviewed, with why.
    pub errors: Vec<String>,
}

/// Audits every inventory object; `engine` is the one the snapshot was prepared with.
pub fn run(
    engine: &dyn Engine,
    state: &PreparedGatekeeper,
    limits: &Limits,
    limit: usize,
) -> AuditReport {
    let started = Instant::now();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    let mut constraints: BTreeMap<(String, String), ConstraintAudit> = state
        .groups
        .iter()
        .flat_map(|g| &g.constraints)
        .map(|c| {
            (
                (c.kind.clone(), c.name.clone()),
                ConstraintAudit {
                    kind: c.kind.clone(),
                    name: c.name.clone(),
                    total_violations: 0,
                    violations: Vec::new(),
                },
            )
        })
        .collect();
    let mut by_action: BTreeMap<String, u64> = BTreeMap::new();
    let mut errors = Vec::new();
    for object in state.inventory.objects() {
        let namespace = Some(objects::namespace(object))
            .filter(|ns| !ns.is_empty())
            .and_then(|ns| state.inventory.namespace(ns))
            .cloned();
        let review = review::from_object(object, namespace, true, "Original");
        let outcome = match evaluate::review(engine, state, &review, AUDIT_POINT, limits) {
            Ok(outcome) => outcome,
            Err(error) => {
                errors.push(format!(
                    "{} {}/{}: {error}",
                    objects::api_version(object),
                    objects::namespace(object),
                    objects::name(object)
                ));
                continue;
            }
        };
        let api_version = objects::api_version(object);
        for violation in outcome.violations {
            *by_action
                .entry(violation.enforcement_action.clone())
                .or_default() += 1;
            let key = (
                violation.constraint.kind.clone(),
                violation.constraint.name.clone(),
            );
            let Some(entry) = constraints.get_mut(&key) else {
                continue;
            };
            entry.total_violations += 1;
            let status = StatusViolation {
                group: objects::group_of(api_version).to_string(),
                version: objects::version_of(api_version).to_string(),
                kind: objects::kind(object).to_string(),
                namespace: objects::namespace(object).to_string(),
                name: objects::name(object).to_string(),
                message: truncate(&violation.msg),
                enforcement_action: violation.enforcement_action.clone(),
                enforcement_actions: violation.scoped_actions.clone(),
            };
            keep_smallest(&mut entry.violations, status, limit);
        }
    }
    for entry in constraints.values_mut() {
        entry.violations.sort();
        entry.violations.reverse();
    }
    AuditReport {
        timestamp: rfc3339(now),
        started_unix: i64::try_from(now).unwrap_or(i64::MAX),
        duration: started.elapsed(),
        constraints,
        by_action,
        errors,
    }
}

/// Keeps the `limit` smallest violations (Gatekeeper's bounded max-heap).
fn keep_smallest(kept: &mut Vec<StatusViolation>, violation: StatusViolation, limit: usize) {
    if limit == 0 {
        return;
    }
    if kept.len() < limit {
        kept.push(violation);
        return;
    }
    if let Some((largest_at, largest)) = kept.iter().enumerate().max_by(|a, b| a.1.cmp(b.1))
        && violation < *largest
    {
        kept[largest_at] = violation;
    }
}

/// Gatekeeper's `truncateString`: past 256 bytes, the first 253 and `...`.
fn truncate(message: &str) -> String {
    if message.len() <= MESSAGE_LIMIT {
        return message.to_string();
    }
    let mut cut = MESSAGE_LIMIT - 3;
    while !message.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}...", &message[..cut])
}

/// Seconds since the epoch as RFC 3339 in UTC (`2019-08-15T01:46:13Z`).
pub fn rfc3339(unix: u64) -> String {
    let days = i64::try_from(unix / 86_400).unwrap_or_default();
    let seconds = unix % 86_400;
    // Howard Hinnant's civil-from-days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        seconds / 3600,
        seconds / 60 % 60,
        seconds % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn violation(name: &str) -> StatusViolation {
        StatusViolation {
            group: String::new(),
            version: "v1".into(),
            kind: "Pod".into(),
            namespace: "ns".into(),
            name: name.into(),
            message: "m".into(),
            enforcement_action: "deny".into(),
            enforcement_actions: Vec::new(),
        }
    }

    #[test]
    fn keeps_the_smallest_in_descending_order() {
        let mut kept = Vec::new();
        for name in ["e", "a", "d", "b", "c"] {
            keep_smallest(&mut kept, violation(name), 3);
        }
        kept.sort();
        kept.reverse();
        let names: Vec<&str> = kept.iter().map(|v| v.name.as_str()).collect();
        assert_eq!(names, ["c", "b", "a"]);
    }

    #[test]
    fn truncates_long_messages() {
        let long = "x".repeat(300);
        let cut = truncate(&long);
        assert_eq!(cut.len(), 256);
        assert!(cut.ends_with("..."));
    }

    #[test]
    fn formats_timestamps() {
        assert_eq!(rfc3339(1_565_833_573), "2019-08-15T01:46:13Z");
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
    }
}
