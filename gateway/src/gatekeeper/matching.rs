//! Which constraints apply to an object, decided before any Rego runs, as Gatekeeper's
//! `pkg/mutation/match/match.go` decides: kinds, scope, namespaces, excludedNamespaces,
//! labelSelector, namespaceSelector, name and source, all of which must hold.

use rego_runtime::Value;
use rego_runtime::footprint::FootprintBuilder;

use super::objects;

/// A label selector: `matchLabels` and `matchExpressions`, ANDed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Selector {
    pub match_labels: Vec<(String, String)>,
    pub expressions: Vec<Requirement>,
}

/// One `matchExpressions` entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Requirement {
    pub key: String,
    pub operator: Operator,
    pub values: Vec<String>,
}

/// The selector operators Kubernetes defines.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operator {
    In,
    NotIn,
    Exists,
    DoesNotExist,
}

/// One `kinds[]` entry.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KindsEntry {
    pub api_groups: Vec<String>,
    pub kinds: Vec<String>,
}

/// One top-level matcher.
type Check = fn(&Match, &Matchable<'_>) -> Result<bool, String>;

/// A constraint's `spec.match`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Match {
    pub kinds: Vec<KindsEntry>,
    pub scope: String,
    pub namespaces: Vec<String>,
    pub excluded_namespaces: Vec<String>,
    pub label_selector: Option<Selector>,
    pub namespace_selector: Option<Selector>,
    pub name: String,
    pub source: String,
}

/// What is matched: one object, the Namespace it lives in (when known) and its source
/// (`Original`, `Generated`, or empty when the caller does not say).
#[derive(Clone, Copy, Debug)]
pub struct Matchable<'a> {
    pub object: &'a Value,
    pub namespace: Option<&'a Value>,
    pub source: &'a str,
}

impl Match {
    /// Adds the lines matching reads: every list and string below this one.
    pub fn add_footprint(&self, lines: &mut FootprintBuilder) {
        let strings = |lines: &mut FootprintBuilder, strings: &[String]| {
            lines.slice(strings);
            strings.iter().for_each(|s| lines.str(s));
        };
        lines.slice(&self.kinds);
        for entry in &self.kinds {
            strings(lines, &entry.api_groups);
            strings(lines, &entry.kinds);
        }
        strings(lines, &self.namespaces);
        strings(lines, &self.excluded_namespaces);
        for selector in self.label_selector.iter().chain(&self.namespace_selector) {
            lines.slice(&selector.match_labels);
            for (key, value) in &selector.match_labels {
                lines.str(key);
                lines.str(value);
            }
            lines.slice(&selector.expressions);
            for requirement in &selector.expressions {
                lines.str(&requirement.key);
                strings(lines, &requirement.values);
            }
        }
        for text in [&self.scope, &self.name, &self.source] {
            lines.str(text);
        }
    }

    /// Reads `spec.match` (already schema-checked; wrong types read as empty).
    ///
    /// # Errors
    /// A selector whose operator or values are not valid, worded as
    /// `ValidateLabelSelector` words it (under `spec.labelSelector`, as Gatekeeper names both
    /// selectors).
    pub fn from_value(value: &Value) -> Result<Match, String> {
        let kinds = value
            .get("kinds")
            .and_then(Value::as_array)
            .unwrap_or_default()
            .iter()
            .map(|entry| KindsEntry {
                api_groups: strings(entry.get("apiGroups")),
                kinds: strings(entry.get("kinds")),
            })
            .collect();
        Ok(Match {
            kinds,
            scope: objects::str_at(value, &["scope"]).to_string(),
            namespaces: strings(value.get("namespaces")),
            excluded_namespaces: strings(value.get("excludedNamespaces")),
            label_selector: selector(value.get("labelSelector"))?,
            namespace_selector: selector(value.get("namespaceSelector"))?,
            name: objects::str_at(value, &["name"]).to_string(),
            source: objects::str_at(value, &["source"]).to_string(),
        })
    }

    /// Whether `target` matches, as `match.Matches` decides.
    ///
    /// # Errors
    /// `failed to run Match criteria: <why>` when a matcher cannot decide (a namespaced
    /// object whose Namespace is unknown under a namespaceSelector, a bad source).
    pub fn matches(&self, target: &Matchable<'_>) -> Result<bool, String> {
        let checks: [Check; 8] = [
            kinds_match,
            scope_match,
            namespaces_match,
            excluded_namespaces_match,
            label_selector_match,
            namespace_selector_match,
            name_match,
            source_match,
        ];
        for check in checks {
            match check(self, target) {
                Ok(true) => {}
                Ok(false) => return Ok(false),
                Err(error) => return Err(format!("failed to run Match criteria: {error}")),
            }
        }
        Ok(true)
    }
}

/// `matchAny`: a hit on the object or the old object matches; having neither is an error.
///
/// # Errors
/// The matcher's error prefixed as the target prefixes it:
/// `error matching the requested object: <name> :<why>`, or
/// `invalid request object: neither object nor old object are defined`.
pub fn match_any(
    matcher: &Match,
    objects_to_match: [Option<&Value>; 2],
    namespace: Option<&Value>,
    source: &str,
) -> Result<bool, String> {
    let mut present = 0;
    for object in objects_to_match.into_iter().flatten() {
        present += 1;
        let target = Matchable {
            object,
            namespace,
            source,
        };
        match matcher.matches(&target) {
            Ok(true) => return Ok(true),
            Ok(false) => {}
            Err(error) => {
                return Err(format!(
                    "error matching the requested object: {} :{error}",
                    objects::name(object)
                ));
            }
        }
    }
    if present == 0 {
        return Err(
            "invalid request object: neither object nor old object are defined".to_string(),
        );
    }
    Ok(false)
}

fn strings(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_array)
        .unwrap_or_default()
        .iter()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect()
}

fn selector(value: Option<&Value>) -> Result<Option<Selector>, String> {
    let Some(value) = value.filter(|v| !matches!(v, Value::Null)) else {
        return Ok(None);
    };
    let mut out = Selector::default();
    if let Some(labels) = value.get("matchLabels").and_then(Value::as_object) {
        for (key, label_value) in labels.iter() {
            out.match_labels.push((
                key.as_str().unwrap_or_default().to_string(),
                label_value.as_str().unwrap_or_default().to_string(),
            ));
        }
    }
    let expressions = value
        .get("matchExpressions")
        .and_then(Value::as_array)
        .unwrap_or_default();
    for (i, expression) in expressions.iter().enumerate() {
        let at = format!("spec.labelSelector.matchExpressions[{i}]");
        let operator_text = objects::str_at(expression, &["operator"]);
        let operator = match operator_text {
            "In" => Operator::In,
            "NotIn" => Operator::NotIn,
            "Exists" => Operator::Exists,
            "DoesNotExist" => Operator::DoesNotExist,
            other => {
                return Err(format!(
                    "{at}.operator: Invalid value: {other:?}: not a valid selector operator"
                ));
            }
        };
        let values = strings(expression.get("values"));
        match operator {
            Operator::In | Operator::NotIn if values.is_empty() => {
                return Err(format!(
                    "{at}.values: Required value: must be specified when `operator` is 'In' or 'NotIn'"
                ));
            }
            Operator::Exists | Operator::DoesNotExist if !values.is_empty() => {
                return Err(format!(
                    "{at}.values: Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'"
                ));
            }
            _ => {}
        }
        out.expressions.push(Requirement {
            key: objects::str_at(expression, &["key"]).to_string(),
            operator,
            values,
        });
    }
    Ok(Some(out))
}

impl Selector {
    /// Whether `object`'s labels satisfy every requirement (an empty selector matches all).
    pub fn matches(&self, object: &Value) -> bool {
        let label = |key: &str| objects::label(object, key);
        self.match_labels
            .iter()
            .all(|(key, value)| label(key) == Some(value.as_str()))
            && self.expressions.iter().all(|r| {
                let found = label(&r.key);
                match r.operator {
                    Operator::In => found.is_some_and(|v| r.values.iter().any(|x| x == v)),
                    Operator::NotIn => found.is_none_or(|v| r.values.iter().all(|x| x != v)),
                    Operator::Exists => found.is_some(),
                    Operator::DoesNotExist => found.is_none(),
                }
            })
    }
}

/// Gatekeeper's wildcard: `*x*` contains, `*x` suffix, `x*` prefix, else exact.
pub fn wildcard_matches(pattern: &str, candidate: &str) -> bool {
    match (pattern.strip_prefix('*'), pattern.strip_suffix('*')) {
        (Some(rest), Some(_)) => candidate.contains(rest.strip_suffix('*').unwrap_or(rest)),
        (Some(suffix), None) => candidate.ends_with(suffix),
        (None, Some(prefix)) => candidate.starts_with(prefix),
        (None, None) => pattern == candidate,
    }
}

/// The wildcard against `metadata.generateName`: only `x*` and `*x*` can match.
fn wildcard_matches_generate_name(pattern: &str, candidate: &str) -> bool {
    match (pattern.strip_prefix('*'), pattern.strip_suffix('*')) {
        (Some(rest), Some(_)) => candidate.contains(rest.strip_suffix('*').unwrap_or(rest)),
        (None, Some(prefix)) => candidate.starts_with(prefix),
        _ => false,
    }
}

fn kinds_match(m: &Match, t: &Matchable<'_>) -> Result<bool, String> {
    if m.kinds.is_empty() {
        return Ok(true);
    }
    let kind = objects::kind(t.object);
    let group = objects::group_of(objects::api_version(t.object));
    let has = |list: &[String], item: &str| list.iter().any(|x| x == "*" || x == item);
    Ok(m.kinds.iter().any(|entry| {
        (entry.kinds.is_empty() || has(&entry.kinds, kind))
            && (entry.api_groups.is_empty() || has(&entry.api_groups, group))
    }))
}

fn scope_match(m: &Match, t: &Matchable<'_>) -> Result<bool, String> {
    let has_namespace = !objects::namespace(t.object).is_empty() || t.namespace.is_some();
    let is_namespace = objects::is_namespace(t.object);
    Ok(match m.scope.as_str() {
        "Cluster" => is_namespace || !has_namespace,
        "Namespaced" => !is_namespace && has_namespace,
        // `*`, empty, and typos all match everything, as in Gatekeeper.
        _ => true,
    })
}

/// The namespace name matchers compare: the Namespace's own name, the supplied Namespace's,
/// or the object's `metadata.namespace`; `None` for a cluster-scoped object.
fn namespace_name<'a>(t: &Matchable<'a>) -> Option<&'a str> {
    if objects::is_namespace(t.object) {
        return Some(objects::name(t.object));
    }
    if let Some(ns) = t.namespace {
        return Some(objects::name(ns));
    }
    Some(objects::namespace(t.object)).filter(|n| !n.is_empty())
}

fn namespaces_match(m: &Match, t: &Matchable<'_>) -> Result<bool, String> {
    if m.namespaces.is_empty() {
        return Ok(true);
    }
    Ok(namespace_name(t).is_none_or(|ns| m.namespaces.iter().any(|p| wildcard_matches(p, ns))))
}

fn excluded_namespaces_match(m: &Match, t: &Matchable<'_>) -> Result<bool, String> {
    if m.excluded_namespaces.is_empty() {
        return Ok(true);
    }
    Ok(namespace_name(t).is_none_or(|ns| {
        !m.excluded_namespaces
            .iter()
            .any(|p| wildcard_matches(p, ns))
    }))
}

fn label_selector_match(m: &Match, t: &Matchable<'_>) -> Result<bool, String> {
    Ok(m.label_selector
        .as_ref()
        .is_none_or(|s| s.matches(t.object)))
}

fn namespace_selector_match(m: &Match, t: &Matchable<'_>) -> Result<bool, String> {
    let Some(selector) = &m.namespace_selector else {
        return Ok(true);
    };
    let is_namespace = objects::is_namespace(t.object);
    if !is_namespace && t.namespace.is_none() && objects::namespace(t.object).is_empty() {
        // Cluster-scoped objects other than Namespaces always pass.
        return Ok(true);
    }
    if is_namespace {
        return Ok(selector.matches(t.object));
    }
    match t.namespace {
        Some(ns) => Ok(selector.matches(ns)),
        None => {
            Err("namespace selector for namespace-scoped object but missing Namespace".to_string())
        }
    }
}

fn name_match(m: &Match, t: &Matchable<'_>) -> Result<bool, String> {
    if m.name.is_empty() {
        return Ok(true);
    }
    Ok(wildcard_matches(&m.name, objects::name(t.object))
        || wildcard_matches_generate_name(&m.name, objects::generate_name(t.object)))
}

fn source_match(m: &Match, t: &Matchable<'_>) -> Result<bool, String> {
    let wanted = if m.source.is_empty() {
        "All"
    } else {
        m.source.as_str()
    };
    let valid = |s: &str| matches!(s, "All" | "Original" | "Generated");
    if !valid(wanted) {
        return Err(format!("invalid source field {wanted:?}"));
    }
    if t.source.is_empty() && wanted != "All" {
        return Err(format!(
            "source field not specified for resource {}",
            objects::name(t.object)
        ));
    }
    if wanted == "All" {
        return Ok(true);
    }
    if !valid(t.source) {
        return Err(format!("invalid source field {:?}", t.source));
    }
    Ok(wanted == t.source)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(json: &str) -> Value {
        Value::from_json(json).expect("json")
    }

    fn pod(ns: &str, labels: &str) -> Value {
        value(&format!(
            r#"{{"apiVersion":"v1","kind":"Pod","metadata":{{"name":"web-1","generateName":"web-","namespace":"{ns}","labels":{labels}}}}}"#
        ))
    }

    #[test]
    fn wildcards_follow_gatekeeper() {
        assert!(wildcard_matches("kube-*", "kube-system"));
        assert!(wildcard_matches("*-system", "kube-system"));
        assert!(wildcard_matches("*sys*", "kube-system"));
        assert!(wildcard_matches("*", "anything"));
        assert!(!wildcard_matches("kube", "kube-system"));
        assert!(wildcard_matches_generate_name("web*", "web-"));
        assert!(!wildcard_matches_generate_name("*-", "web-"));
    }

    #[test]
    fn every_field_must_hold() {
        let m = Match::from_value(&value(
            r#"{"kinds":[{"apiGroups":[""],"kinds":["Pod"]}],"namespaces":["prod-*"],"excludedNamespaces":["prod-secret"],"labelSelector":{"matchExpressions":[{"key":"app","operator":"In","values":["web"]}]}}"#,
        ))
        .expect("match");
        let matches = |obj: &Value| {
            m.matches(&Matchable {
                object: obj,
                namespace: None,
                source: "Original",
            })
            .expect("no error")
        };
        assert!(matches(&pod("prod-a", r#"{"app":"web"}"#)));
        assert!(!matches(&pod("prod-secret", r#"{"app":"web"}"#)));
        assert!(!matches(&pod("dev", r#"{"app":"web"}"#)));
        assert!(!matches(&pod("prod-a", r#"{"app":"db"}"#)));
    }

    #[test]
    fn namespace_selector_needs_the_namespace() {
        let m = Match::from_value(&value(
            r#"{"namespaceSelector":{"matchLabels":{"env":"prod"}}}"#,
        ))
        .expect("match");
        let object = pod("shop", "{}");
        let error = match_any(&m, [Some(&object), None], None, "Original").expect_err("no ns");
        assert_eq!(
            error,
            "error matching the requested object: web-1 :failed to run Match criteria: namespace selector for namespace-scoped object but missing Namespace"
        );
        let ns = value(
            r#"{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"shop","labels":{"env":"prod"}}}"#,
        );
        assert_eq!(
            match_any(&m, [Some(&object), None], Some(&ns), "Original"),
            Ok(true)
        );
        assert_eq!(match_any(&m, [Some(&ns), None], None, ""), Ok(true));
    }

    #[test]
    fn bad_selectors_are_refused() {
        let error = Match::from_value(&value(
            r#"{"labelSelector":{"matchExpressions":[{"key":"a","operator":"In"}]}}"#,
        ))
        .expect_err("values required");
        assert!(error.contains("Required value"), "{error}");
    }
}
