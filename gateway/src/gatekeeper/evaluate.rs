//! Reviewing one object against a snapshot's constraints, as the constraint framework's
//! `Client.Review` does: per template, the constraints that apply at the enforcement point
//! and match the object (a matcher error is an autoreject), then `data.template.violation`
//! with `input = {review, parameters}` once per constraint. A Rego runtime error becomes one
//! violation per constraint of that template, carrying the error text.

use std::collections::BTreeSet;
use std::sync::Arc;

use rego_runtime::{Entrypoint, Input, Limits, Outcome, Value};

use super::constraints::{PreparedConstraint, WEBHOOK_POINT};
use super::matching;
use super::review::Review;
use super::state::{PreparedGatekeeper, TemplateGroup};

/// One result: a constraint's message about the reviewed object.
#[derive(Clone, Debug)]
pub struct Violation {
    pub constraint: Arc<PreparedConstraint>,
    pub msg: String,
    /// `details` of the result: `None` for an autoreject (no metadata at all), `Null` for a
    /// runtime error (metadata without details).
    pub details: Option<Value>,
    /// The constraint's `enforcementAction`.
    pub enforcement_action: String,
    /// For `scoped`: the actions at the enforcement point.
    pub scoped_actions: Vec<String>,
}

impl Violation {
    /// The actions this result asks for at its enforcement point.
    pub fn actions(&self) -> Vec<&str> {
        if self.enforcement_action == "scoped" {
            self.scoped_actions.iter().map(String::as_str).collect()
        } else {
            vec![self.enforcement_action.as_str()]
        }
    }
}

/// The results of one review and what `print()` wrote meanwhile.
#[derive(Clone, Debug, Default)]
pub struct Reviewed {
    /// Sorted by constraint kind, then name, as Gatekeeper sorts them.
    pub violations: Vec<Violation>,
    pub prints: Vec<String>,
}

/// Reviews `review` at enforcement `point`.
///
/// # Errors
/// A result whose `msg` is not a string fails the whole review, as it does in Gatekeeper
/// (the webhook then answers 500).
pub fn review(
    state: &PreparedGatekeeper,
    review: &Review,
    point: &str,
    limits: &Limits,
) -> Result<Reviewed, String> {
    let mut outcome = Reviewed::default();
    for group in &state.groups {
        // Only the webhook filters templates by the request's operation.
        if point == WEBHOOK_POINT && !group.template.matches_operation(&review.operation) {
            continue;
        }
        let mut matched: Vec<(&Arc<PreparedConstraint>, Vec<String>)> = Vec::new();
        for constraint in &group.constraints {
            let Some(actions) = constraint.scoped_actions(point) else {
                continue;
            };
            let verdict = match &constraint.matcher {
                None => Ok(true),
                Some(matcher) => matching::match_any(
                    matcher,
                    [review.object.as_ref(), review.old_object.as_ref()],
                    review.namespace.as_ref(),
                    review.source,
                ),
            };
            match verdict {
                Ok(true) => matched.push((constraint, actions.to_vec())),
                Ok(false) => {}
                Err(error) => outcome.violations.push(Violation {
                    constraint: constraint.clone(),
                    msg: format!("unable to match constraints: {error}"),
                    details: None,
                    enforcement_action: constraint.action.clone(),
                    scoped_actions: actions.to_vec(),
                }),
            }
        }
        if !matched.is_empty() {
            evaluate_group(group, &matched, review, limits, &mut outcome)?;
        }
    }
    outcome.violations.sort_by(|a, b| {
        (&a.constraint.kind, &a.constraint.name, &a.details, &a.msg).cmp(&(
            &b.constraint.kind,
            &b.constraint.name,
            &b.details,
            &b.msg,
        ))
    });
    Ok(outcome)
}

fn evaluate_group(
    group: &TemplateGroup,
    matched: &[(&Arc<PreparedConstraint>, Vec<String>)],
    review: &Review,
    limits: &Limits,
    outcome: &mut Reviewed,
) -> Result<(), String> {
    let mut results = Vec::new();
    for (constraint, actions) in matched {
        let input = Value::object([
            ("review", review.value.clone()),
            ("parameters", constraint.parameters.clone()),
        ]);
        let evaluation = group.compiled.prepared.evaluate(
            Entrypoint::Data(&group.compiled.violation_path),
            Input::Value(&input),
            limits,
        );
        let evaluation = match evaluation {
            Ok(evaluation) => evaluation,
            Err(error) => {
                // The framework queries all of a template's constraints at once, so one
                // runtime error is the answer for every one of them.
                let msg = error.to_string();
                outcome
                    .violations
                    .extend(matched.iter().map(|(c, a)| Violation {
                        constraint: (*c).clone(),
                        msg: msg.clone(),
                        details: Some(Value::Null),
                        enforcement_action: c.action.clone(),
                        scoped_actions: a.clone(),
                    }));
                return Ok(());
            }
        };
        outcome.prints.extend(evaluation.prints);
        let items: Vec<Value> = match evaluation.outcome {
            Outcome::Document(Some(Value::Set(items))) => items.iter().cloned().collect(),
            Outcome::Document(Some(Value::Array(items))) => items.to_vec(),
            _ => Vec::new(),
        };
        // The hook's results form a set: equal (details, msg) pairs collapse.
        let mut seen = BTreeSet::new();
        for item in items {
            let Some(msg) = item.get("msg") else {
                // A result without `msg` is dropped, as the hook's `r.msg` is undefined.
                continue;
            };
            let Value::String(msg) = msg else {
                return Err(format!(
                    "extracting message binding: .msg accessor error: {} is of the type {}, expected string",
                    msg.to_json(),
                    go_type(msg)
                ));
            };
            let details = Some(item.get("details").cloned().unwrap_or_default());
            if seen.insert((details.clone(), msg.clone())) {
                results.push(Violation {
                    constraint: (*constraint).clone(),
                    msg: msg.to_string(),
                    details,
                    enforcement_action: constraint.action.clone(),
                    scoped_actions: actions.clone(),
                });
            }
        }
    }
    outcome.violations.extend(results);
    Ok(())
}

/// The Go type a JSON value decodes to, as `unstructured` errors name it.
fn go_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "<nil>",
        Value::Bool(_) => "bool",
        Value::Number(_) => "json.Number",
        Value::String(_) => "string",
        Value::Array(_) | Value::Set(_) => "[]interface {}",
        Value::Object(_) => "map[string]interface {}",
    }
}
