//! Constraints: the checks Gatekeeper makes when one is added (metadata, template, selectors,
//! the generated CRD's schema with the template's parameters schema, unknown fields), its
//! defaults, and its enforcement actions per enforcement point.

use std::collections::BTreeMap;

use rego_runtime::Value;

use super::matching::Match;
use super::objects;
use super::schema::{self, Schema};
use super::templates::Template;

/// The API group of constraints.
pub const GROUP: &str = "constraints.gatekeeper.sh";

/// Gatekeeper's enforcement points.
pub const WEBHOOK_POINT: &str = "validation.gatekeeper.sh";
pub const AUDIT_POINT: &str = "audit.gatekeeper.sh";
pub const GATOR_POINT: &str = "gator.gatekeeper.sh";
const ALL_POINTS: &str = "*";
/// The points a scoped constraint's actions are computed for.
const KNOWN_POINTS: [&str; 3] = [WEBHOOK_POINT, AUDIT_POINT, GATOR_POINT];

/// The match schema of the generated constraint CRD (Gatekeeper's `match` CRD, trimmed to
/// what validation and pruning use).
const MATCH_SCHEMA: &str = r#"{"type":"object","properties":{
 "excludedNamespaces":{"type":"array","items":{"type":"string","pattern":"^\\*?[-:a-z0-9]*\\*?$"}},
 "kinds":{"type":"array","items":{"type":"object","properties":{
   "apiGroups":{"type":"array","items":{"type":"string"}},
   "kinds":{"type":"array","items":{"type":"string"}}}}},
 "labelSelector":{"type":"object","properties":{
   "matchExpressions":{"type":"array","items":{"type":"object","required":["key","operator"],"properties":{
     "key":{"type":"string"},"operator":{"type":"string"},"values":{"type":"array","items":{"type":"string"}}}}},
   "matchLabels":{"type":"object","additionalProperties":{"type":"string"}}}},
 "name":{"type":"string","pattern":"^\\*?[-:a-z0-9]*\\*?$"},
 "namespaceSelector":{"type":"object","properties":{
   "matchExpressions":{"type":"array","items":{"type":"object","required":["key","operator"],"properties":{
     "key":{"type":"string"},"operator":{"type":"string"},"values":{"type":"array","items":{"type":"string"}}}}},
   "matchLabels":{"type":"object","additionalProperties":{"type":"string"}}}},
 "namespaces":{"type":"array","items":{"type":"string","pattern":"^\\*?[-:a-z0-9]*\\*?$"}},
 "scope":{"type":"string"},
 "source":{"type":"string","enum":["All","Generated","Original"]}}}"#;

/// Why a constraint was refused, by the error Gatekeeper wraps it in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConstraintError {
    /// `schema validation failed: ...` (what gator's `invalid: true` expects).
    Schema(String),
    /// `invalid Constraint: ...`, `missing required field: ...`.
    Invalid(String),
    /// `missing ConstraintTemplate: template "x" not found`.
    MissingTemplate(String),
    /// The template exists but cannot enforce (its own error is in its status).
    TemplateNotReady(String),
}

impl std::fmt::Display for ConstraintError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConstraintError::Schema(m) => write!(f, "schema validation failed: {m}"),
            ConstraintError::Invalid(m) => f.write_str(m),
            ConstraintError::MissingTemplate(name) => {
                write!(f, "missing ConstraintTemplate: template {name:?} not found")
            }
            ConstraintError::TemplateNotReady(name) => write!(
                f,
                "the ConstraintTemplate {name:?} has errors; see its status"
            ),
        }
    }
}

/// A constraint ready to match and evaluate.
#[derive(Clone, Debug)]
pub struct PreparedConstraint {
    pub kind: String,
    pub name: String,
    /// The constraint as Gatekeeper keeps it: defaults applied, `status` dropped.
    pub object: Value,
    /// `spec.parameters` after defaults, `{}` when absent: `input.parameters`.
    pub parameters: Value,
    /// `spec.match`; `None` matches everything.
    pub matcher: Option<Match>,
    /// `spec.enforcementAction` (default `deny`).
    pub action: String,
    /// For `scoped`: the actions at each enforcement point that lists it (or `*`).
    pub scoped: BTreeMap<String, Vec<String>>,
}

impl PreparedConstraint {
    /// The actions at `point`: `None` when a scoped constraint does not apply there.
    pub fn scoped_actions(&self, point: &str) -> Option<&[String]> {
        if self.action != "scoped" {
            return Some(&[]);
        }
        self.scoped.get(point).map(Vec::as_slice)
    }
}

/// The lowercase name of the template a constraint kind belongs to.
pub fn template_name(kind: &str) -> String {
    kind.to_lowercase()
}

/// Checks the metadata every constraint needs before its template is looked up.
///
/// # Errors
/// `invalid Constraint: missing metadata.name`, `... missing kind`, or a wrong group.
pub fn check_metadata(object: &Value) -> Result<(), ConstraintError> {
    let name = objects::name(object);
    if name.is_empty() {
        return Err(ConstraintError::Invalid(
            "invalid Constraint: missing metadata.name".to_string(),
        ));
    }
    if objects::kind(object).is_empty() {
        return Err(ConstraintError::Invalid(
            "invalid Constraint: missing kind".to_string(),
        ));
    }
    let group = objects::group_of(objects::api_version(object));
    if group != GROUP {
        return Err(ConstraintError::Invalid(format!(
            "invalid Constraint: wrong API Group for Constraint {name:?}, got {group:?} but need {GROUP:?}"
        )));
    }
    Ok(())
}

/// Validates `object` against `template` and prepares it, as `Client.AddConstraint` does.
///
/// # Errors
/// The first check that fails, worded as Gatekeeper's.
pub fn prepare(object: &Value, template: &Template) -> Result<PreparedConstraint, ConstraintError> {
    check_metadata(object)?;
    let name = objects::name(object).to_string();
    let kind = objects::kind(object).to_string();
    let invalid =
        |message: String| ConstraintError::Invalid(format!("invalid Constraint: {message}"));

    let spec_match = object.get("spec").and_then(|s| s.get("match"));
    let matcher = match spec_match {
        Some(value) if !matches!(value, Value::Null) => {
            Some(Match::from_value(value).map_err(invalid)?)
        }
        _ => None,
    };

    if !is_dns1123_subdomain(&name) {
        return Err(invalid(String::from(
            "invalid name: \"a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')\"",
        )));
    }
    if kind != template.kind {
        return Err(invalid(format!(
            "wrong kind {name:?} for constraint {kind:?}; want {:?}",
            template.kind
        )));
    }
    let version = objects::version_of(objects::api_version(object));
    if !matches!(version, "v1alpha1" | "v1beta1") {
        return Err(invalid(format!(
            "unsupported version {version:?} for Constraint {name:?}; supported versions: map[v1alpha1:true v1beta1:true]"
        )));
    }
    let crd = crd_schema(template.parameters.as_ref());
    let mut errors = Vec::new();
    crd.validate(object, "", &mut errors);
    for error in &mut errors {
        error.root = "[].";
    }
    if !errors.is_empty() {
        return Err(ConstraintError::Schema(schema::aggregate(&errors)));
    }
    let unknown = crd.unknown_fields(object, true);
    if !unknown.is_empty() {
        return Err(invalid(format!("unknown fields: [{}]", unknown.join(" "))));
    }

    let mut defaulted = objects::without_member(object, "status");
    crd.apply_defaults(&mut defaulted);
    let spec = defaulted.get("spec").cloned().unwrap_or_default();
    let parameters = match spec.get("parameters") {
        Some(p) if !matches!(p, Value::Null) => p.clone(),
        _ => Value::empty_object(),
    };
    let action = match spec.get("enforcementAction") {
        None => "deny".to_string(),
        Some(Value::String(a)) => a.to_string(),
        Some(_) => return Err(invalid("invalid spec.enforcementAction".to_string())),
    };
    let scoped = if action == "scoped" {
        scoped_actions(&spec)?
    } else {
        BTreeMap::new()
    };
    Ok(PreparedConstraint {
        kind,
        name,
        object: defaulted,
        parameters,
        matcher,
        action,
        scoped,
    })
}

/// `GetEnforcementActionsForEP` over the known enforcement points.
fn scoped_actions(spec: &Value) -> Result<BTreeMap<String, Vec<String>>, ConstraintError> {
    let Some(list) = spec
        .get("scopedEnforcementActions")
        .and_then(Value::as_array)
    else {
        return Err(ConstraintError::Invalid(
            "missing required field: spec.scopedEnforcementActions must be defined".to_string(),
        ));
    };
    let mut by_point: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for entry in list {
        if entry.as_object().is_none() {
            return Err(ConstraintError::Invalid(
                "scopedEnforcementActions value must be a [{action: string, enforcementPoints: [{name: string}]}]".to_string(),
            ));
        }
        let action = objects::str_at(entry, &["action"]).to_string();
        let points = entry
            .get("enforcementPoints")
            .and_then(Value::as_array)
            .unwrap_or_default();
        for point in points {
            let point_name = objects::str_at(point, &["name"]);
            let targets: Vec<&str> = if point_name == ALL_POINTS {
                KNOWN_POINTS.to_vec()
            } else if KNOWN_POINTS.contains(&point_name) {
                vec![point_name]
            } else {
                Vec::new()
            };
            for target in targets {
                let actions = by_point.entry(target.to_string()).or_default();
                if !actions.contains(&action) {
                    actions.push(action.clone());
                }
            }
            if point_name == ALL_POINTS {
                break;
            }
        }
    }
    for actions in by_point.values_mut() {
        actions.sort();
    }
    Ok(by_point)
}

/// True for the actions Gatekeeper's webhook acts on (`ValidateEnforcementAction`).
pub fn is_known_action(action: &str) -> bool {
    matches!(action, "deny" | "dryrun" | "warn")
}

/// The generated CRD's schema (`crds.CreateSchema`).
fn crd_schema(parameters: Option<&Schema>) -> Schema {
    let match_schema = Value::from_json(MATCH_SCHEMA)
        .ok()
        .and_then(|v| Schema::from_value(&v).ok())
        .unwrap_or_default();
    let mut spec = Schema {
        type_name: "object".to_string(),
        ..Schema::default()
    };
    spec.properties.insert("match".to_string(), match_schema);
    spec.properties.insert(
        "enforcementAction".to_string(),
        Schema {
            type_name: "string".to_string(),
            default: Some(Value::string("deny")),
            ..Schema::default()
        },
    );
    let mut point = Schema {
        type_name: "object".to_string(),
        ..Schema::default()
    };
    point.properties.insert("name".to_string(), string_schema());
    let mut scoped_entry = Schema {
        type_name: "object".to_string(),
        ..Schema::default()
    };
    scoped_entry
        .properties
        .insert("action".to_string(), string_schema());
    scoped_entry.properties.insert(
        "enforcementPoints".to_string(),
        Schema {
            type_name: "array".to_string(),
            items: Some(Box::new(point)),
            ..Schema::default()
        },
    );
    spec.properties.insert(
        "scopedEnforcementActions".to_string(),
        Schema {
            type_name: "array".to_string(),
            items: Some(Box::new(scoped_entry)),
            ..Schema::default()
        },
    );
    if let Some(parameters) = parameters {
        spec.properties
            .insert("parameters".to_string(), parameters.clone());
    }
    let mut metadata = Schema {
        type_name: "object".to_string(),
        ..Schema::default()
    };
    metadata.properties.insert(
        "name".to_string(),
        Schema {
            type_name: "string".to_string(),
            max_length: Some(63),
            ..Schema::default()
        },
    );
    let mut root = Schema {
        type_name: "object".to_string(),
        ..Schema::default()
    };
    root.properties.insert("metadata".to_string(), metadata);
    root.properties.insert("spec".to_string(), spec);
    root.properties.insert(
        "status".to_string(),
        Schema {
            preserve_unknown_fields: true,
            ..Schema::default()
        },
    );
    root
}

fn string_schema() -> Schema {
    Schema {
        type_name: "string".to_string(),
        ..Schema::default()
    }
}

/// Kubernetes' `IsDNS1123Subdomain`.
fn is_dns1123_subdomain(name: &str) -> bool {
    name.len() <= 253
        && !name.is_empty()
        && name.split('.').all(|label| {
            !label.is_empty()
                && label
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn template(schema: &str) -> Template {
        let yaml = format!(
            "apiVersion: templates.gatekeeper.sh/v1\nkind: ConstraintTemplate\nmetadata: {{name: k8sx}}\nspec:\n  crd:\n    spec:\n      names: {{kind: K8sX}}\n      validation:\n        openAPIV3Schema: {schema}\n  targets:\n  - target: admission.k8s.gatekeeper.sh\n    rego: |\n      package x\n      violation[{{\"msg\": \"m\"}}] {{ true }}\n"
        );
        let docs = objects::parse_documents(&yaml).expect("yaml");
        Template::from_object(&docs[0]).expect("template")
    }

    fn constraint(spec: &str) -> Value {
        let yaml = format!(
            "apiVersion: constraints.gatekeeper.sh/v1beta1\nkind: K8sX\nmetadata: {{name: c1}}\nspec: {spec}\n"
        );
        objects::parse_documents(&yaml).expect("yaml").remove(0)
    }

    #[test]
    fn names_the_bad_parameter() {
        let t =
            template("{type: object, properties: {labels: {type: array, items: {type: string}}}}");
        let error = prepare(&constraint("{parameters: {labels: owner}}"), &t).expect_err("bad");
        assert_eq!(
            error.to_string(),
            "schema validation failed: [].spec.parameters.labels: Invalid value: \"string\": spec.parameters.labels in body must be of type array: \"string\""
        );
        assert!(matches!(error, ConstraintError::Schema(_)));
        let unknown = prepare(&constraint("{parameters: {other: 1}}"), &t).expect_err("unknown");
        assert_eq!(
            unknown.to_string(),
            "invalid Constraint: unknown fields: [spec.parameters.other]"
        );
    }

    #[test]
    fn applies_defaults_only_under_present_parameters() {
        let t = template("{type: object, properties: {mode: {type: string, default: strict}}}");
        let with = prepare(&constraint("{parameters: {}}"), &t).expect("ok");
        assert_eq!(with.parameters.to_json(), r#"{"mode":"strict"}"#);
        assert_eq!(with.action, "deny");
        assert_eq!(
            objects::str_at(&with.object, &["spec", "enforcementAction"]),
            "deny"
        );
        let without = prepare(&constraint("{}"), &t).expect("ok");
        assert_eq!(without.parameters.to_json(), "{}");
    }

    #[test]
    fn scoped_actions_per_point() {
        let t = template("{type: object}");
        let c = prepare(
            &constraint("{enforcementAction: scoped, scopedEnforcementActions: [{action: warn, enforcementPoints: [{name: validation.gatekeeper.sh}]}, {action: deny, enforcementPoints: [{name: '*'}]}]}"),
            &t,
        )
        .expect("ok");
        assert_eq!(
            c.scoped_actions(WEBHOOK_POINT),
            Some(&["deny".to_string(), "warn".to_string()][..])
        );
        assert_eq!(
            c.scoped_actions(AUDIT_POINT),
            Some(&["deny".to_string()][..])
        );
        let missing = prepare(&constraint("{enforcementAction: scoped}"), &t).expect_err("missing");
        assert!(missing.to_string().contains("must be defined"));
    }
}
