//! Reviewing one object against a snapshot's constraints, as the constraint framework's
//! `Client.Review` does: per template, the constraints that apply at the enforcement point
//! and match the object (a matcher error is an autoreject), then, as the frameworks' hook
//! does, `data.template.violation` with `input = {review, parameters}` for each matched
//! constraint, in name order. The hook queries a template's constraints in one query, so a
//! Rego runtime error in any of them becomes one violation per matched constraint of that
//! template, carrying the error text.
//!
//! A review's templates run one after the other on the calling thread. Spreading them over
//! idle cores (stops 8–14) halved a lone review's wall time but lengthened the tail under
//! random arrivals (likely: a review waited on a helper whose core a newly arrived review had
//! taken). Without it, p99 at half of peak fell from 4.55 to 3.00 ms
//! (`bench/README-gatekeeper.md`, stop 15).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, LazyLock};

use rego_runtime::{
    Engine, Entrypoint, Error as EngineError, Evaluation, Input, Limits, Outcome, PreparedInput,
    Value,
};

use super::constraints::{PreparedConstraint, WEBHOOK_POINT};
use super::matching;
use super::review::Review;
use super::state::{PreparedGatekeeper, TemplateGroup};
use super::templates::CompiledTemplate;

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

/// A constraint that matched, with its actions at the enforcement point.
type Matched<'a> = (&'a Arc<PreparedConstraint>, &'a [String]);

/// A template's answer: `data.template.violation` per matched constraint, or the first error,
/// which fails the whole template (the frameworks query all of its constraints at once).
type TemplateAnswer = Result<Vec<Evaluation>, EngineError>;

/// Reviews `review` at enforcement `point`. `engine` must be the engine the snapshot's
/// templates were prepared with: it prepares each constraint's input.
///
/// # Errors
/// A result whose `msg` is not a string fails the whole review, as it does in Gatekeeper
/// (the webhook then answers 500).
pub fn review(
    engine: &dyn Engine,
    state: &PreparedGatekeeper,
    review: &Review,
    point: &str,
    limits: &Limits,
) -> Result<Reviewed, String> {
    // Most reviews find the constraints evicted since the last: their lines are asked for at
    // once rather than missed one pointer at a time.
    state.matching.prefetch();
    let mut outcome = Reviewed::default();
    let mut plans: Vec<(&TemplateGroup, Vec<Matched<'_>>)> = Vec::new();
    for group in &state.groups {
        // Only the webhook filters templates by the request's operation.
        if point == WEBHOOK_POINT && !group.template.matches_operation(&review.operation) {
            continue;
        }
        let mut matched: Vec<Matched<'_>> = Vec::new();
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
                Ok(true) => matched.push((constraint, actions)),
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
            plans.push((group, matched));
        }
    }
    // Shaped in template order: the first bad `msg` decides the error, and prints keep
    // their order.
    for (group, matched) in &plans {
        let inputs = matched
            .iter()
            .map(|(constraint, _)| constraint_input(engine, review, constraint));
        let answer = evaluate_template(&group.compiled, inputs, limits);
        shape(answer, matched, &mut outcome)?;
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

/// `data.template.violation` for each input in turn, stopping at the first error.
pub fn evaluate_template(
    template: &CompiledTemplate,
    inputs: impl IntoIterator<Item = PreparedInput>,
    limits: &Limits,
) -> TemplateAnswer {
    // Most reviews find the program evicted since the last: its lines are asked for at once
    // rather than missed one node at a time.
    template.prepared.warm();
    inputs
        .into_iter()
        .map(|input| {
            template.prepared.evaluate(
                Entrypoint::Data(&template.violation_path),
                Input::Prepared(&input),
                limits,
            )
        })
        .collect()
}

/// The input one constraint's `violation` sees: `{review, parameters}`, as the frameworks'
/// hook builds it.
pub fn constraint_input(
    engine: &dyn Engine,
    review: &Review,
    constraint: &PreparedConstraint,
) -> PreparedInput {
    // Built key by key from keys made once: an input per constraint per review adds up.
    static KEYS: LazyLock<[Value; 2]> =
        LazyLock::new(|| [Value::string("review"), Value::string("parameters")]);
    let [review_key, parameters_key] = &*KEYS;
    let mut input = BTreeMap::new();
    input.insert(review_key.clone(), review.value.clone());
    input.insert(parameters_key.clone(), constraint.parameters.clone());
    engine.prepare_input(&Value::Object(Arc::new(input)))
}

/// Shapes one template's results as the frameworks' hook does.
fn shape(
    answer: TemplateAnswer,
    matched: &[Matched<'_>],
    outcome: &mut Reviewed,
) -> Result<(), String> {
    let evaluations = match answer {
        Ok(evaluations) => evaluations,
        Err(error) => {
            // The framework queries all of a template's constraints at once, so one
            // runtime error is the answer for every one of them.
            let msg = error.to_string();
            outcome
                .violations
                .extend(matched.iter().map(|(c, actions)| Violation {
                    constraint: (*c).clone(),
                    msg: msg.clone(),
                    details: Some(Value::Null),
                    enforcement_action: c.action.clone(),
                    scoped_actions: actions.to_vec(),
                }));
            return Ok(());
        }
    };
    for ((constraint, actions), evaluation) in matched.iter().zip(evaluations) {
        outcome.prints.extend(evaluation.prints);
        if let Outcome::Document(Some(Value::Set(items))) = &evaluation.outcome {
            shape_constraint(items, constraint, actions, outcome)?;
        }
    }
    Ok(())
}

/// Shapes one constraint's `violation` set: a result without `msg` is dropped, and results
/// equal in `details` and `msg` collapse, as the hook's set of responses does.
fn shape_constraint(
    items: &BTreeSet<Value>,
    constraint: &Arc<PreparedConstraint>,
    actions: &[String],
    outcome: &mut Reviewed,
) -> Result<(), String> {
    let mut seen = BTreeSet::new();
    for result in items {
        let Some(msg) = result.get("msg") else {
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
        let details = Some(result.get("details").cloned().unwrap_or_default());
        if seen.insert((details.clone(), msg.clone())) {
            outcome.violations.push(Violation {
                constraint: constraint.clone(),
                msg: msg.to_string(),
                details,
                enforcement_action: constraint.action.clone(),
                scoped_actions: actions.to_vec(),
            });
        }
    }
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

#[cfg(test)]
mod tests {
    //! The hook's `with input as` in the engine: each matched constraint sees its own
    //! parameters, unmatched ones are not evaluated, and the frameworks' result shaping holds.

    use super::*;
    use crate::gatekeeper::objects;
    use crate::gatekeeper::review;
    use crate::gatekeeper::state::{GatekeeperContents, Origin};
    use rego_runtime::rego::RegoEngine;

    const TEMPLATE: &str = r#"
apiVersion: templates.gatekeeper.sh/v1
kind: ConstraintTemplate
metadata: {name: k8slabel}
spec:
  crd: {spec: {names: {kind: K8sLabel}, validation: {legacySchema: true}}}
  targets:
  - target: admission.k8s.gatekeeper.sh
    rego: |
      package k8slabel
      # A helper rule over input: its value must not be cached across constraints.
      wanted := input.parameters.label
      violation[{"msg": msg, "details": {"label": label}}] {
        label := wanted
        not input.review.object.metadata.labels[label]
        msg := sprintf("missing %v on %v", [label, input.review.object.metadata.name])
      }
      violation[{"details": {"nomsg": true}}] { input.parameters.nomsg }
      violation[{"msg": "conflict"}] { input.parameters.conflict; x := input.parameters.conflict[_]; f(x) }
      f(x) = true { x == 1 }
      f(x) = false { x == 1 }
"#;

    fn constraint(name: &str, parameters: &str, kinds: &str) -> String {
        format!(
            "apiVersion: constraints.gatekeeper.sh/v1beta1\nkind: K8sLabel\nmetadata: {{name: {name}}}\nspec:\n  match: {{kinds: [{{apiGroups: [\"\"], kinds: [{kinds}]}}]}}\n  parameters: {parameters}\n"
        )
    }

    fn reviewed(constraints: &[String], object: &str) -> Result<Reviewed, String> {
        reviewed_with(&[TEMPLATE.to_string()], constraints, object)
    }

    fn reviewed_with(
        templates: &[String],
        constraints: &[String],
        object: &str,
    ) -> Result<Reviewed, String> {
        let (engine, state) = prepared(templates, constraints);
        let object = Value::from_json(object).expect("json");
        let review = review::from_object(&object, None, false, "Original");
        super::review(&engine, &state, &review, WEBHOOK_POINT, &Limits::default())
    }

    fn prepared(templates: &[String], constraints: &[String]) -> (RegoEngine, PreparedGatekeeper) {
        let engine = RegoEngine::default();
        let mut contents = GatekeeperContents::default();
        for text in templates {
            let template = objects::parse_documents(text).expect("yaml").remove(0);
            contents
                .put_template(template, Origin::Api)
                .expect("template");
        }
        for text in constraints {
            let object = objects::parse_documents(text).expect("yaml").remove(0);
            contents
                .put_constraint(object, Origin::Api)
                .expect("constraint");
        }
        let state = PreparedGatekeeper::build(&engine, &contents, None);
        (engine, state)
    }

    /// Templates named `k8slabel0`, `k8slabel1`, ... and a constraint of each; the fourth
    /// constraint's template fails at runtime.
    fn numbered(count: usize) -> (Vec<String>, Vec<String>) {
        let templates = (0..count)
            .map(|i| {
                TEMPLATE
                    .replace("name: k8slabel", &format!("name: k8slabel{i}"))
                    .replace("kind: K8sLabel}", &format!("kind: K8sLabel{i}}}"))
            })
            .collect();
        let constraints = (0..count)
            .map(|i| {
                let parameters = if i == 3 {
                    "{label: owner, conflict: [1]}"
                } else {
                    "{label: owner}"
                };
                constraint(&format!("c{i}"), parameters, "\"Pod\"")
                    .replace("kind: K8sLabel\n", &format!("kind: K8sLabel{i}\n"))
            })
            .collect();
        (templates, constraints)
    }

    fn messages(reviewed: &Reviewed) -> Vec<String> {
        reviewed
            .violations
            .iter()
            .map(|v| format!("[{}] {}", v.constraint.name, v.msg))
            .collect()
    }

    const POD: &str =
        r#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","labels":{"team":"a"}}}"#;

    #[test]
    fn each_constraint_sees_its_own_parameters_in_name_order() {
        let out = reviewed(
            &[
                constraint("b-owner", "{label: owner}", "\"Pod\""),
                constraint("a-app", "{label: app}", "\"Pod\""),
                constraint("c-team", "{label: team}", "\"Pod\""),
                constraint("d-other", "{label: other}", "\"Service\""),
            ],
            POD,
        )
        .expect("review");
        assert_eq!(
            messages(&out),
            ["[a-app] missing app on p", "[b-owner] missing owner on p"]
        );
        assert_eq!(
            out.violations[0].details,
            Some(Value::from_json(r#"{"label":"app"}"#).expect("json"))
        );
    }

    /// Templates enough that a review's results come from many programs.
    const MANY: usize = 11;

    #[test]
    fn many_templates_answer_in_kind_order_with_a_runtime_error_kept_to_its_template() {
        let (templates, constraints) = numbered(MANY);
        let first = reviewed_with(&templates, &constraints, POD).expect("review");
        let kinds: Vec<&str> = first
            .violations
            .iter()
            .map(|v| v.constraint.kind.as_str())
            .collect();
        let mut sorted = kinds.clone();
        sorted.sort_unstable();
        assert_eq!(kinds, sorted);
        assert_eq!(first.violations.len(), MANY);
        for violation in &first.violations {
            if violation.constraint.kind == "K8sLabel3" {
                assert!(
                    violation.msg.contains("eval_conflict_error"),
                    "{}",
                    violation.msg
                );
            } else {
                assert_eq!(violation.msg, "missing owner on p");
            }
        }
    }

    #[test]
    fn reviews_at_once_on_many_threads_agree() {
        // Every template's pool of evaluators is shared by the threads reviewing at once.
        let (templates, constraints) = numbered(MANY);
        let (engine, state) = prepared(&templates, &constraints);
        let object = Value::from_json(POD).expect("json");
        let review = review::from_object(&object, None, false, "Original");
        let run = || {
            let reviewed =
                super::review(&engine, &state, &review, WEBHOOK_POINT, &Limits::default());
            messages(&reviewed.expect("review"))
        };
        let alone = run();
        assert_eq!(alone.len(), MANY);
        std::thread::scope(|scope| {
            let reviewers: Vec<_> = (0..4)
                .map(|_| scope.spawn(|| (0..10).map(|_| run()).collect::<Vec<_>>()))
                .collect();
            for reviewer in reviewers {
                for messages in reviewer.join().expect("reviewer") {
                    assert_eq!(messages, alone);
                }
            }
        });
    }

    #[test]
    fn results_without_msg_are_dropped() {
        let out = reviewed(
            &[constraint("quiet", "{label: team, nomsg: true}", "\"Pod\"")],
            POD,
        )
        .expect("review");
        assert!(out.violations.is_empty(), "{:?}", messages(&out));
    }

    #[test]
    fn a_runtime_error_is_one_violation_per_matched_constraint() {
        let out = reviewed(
            &[
                constraint("x-conflict", "{label: team, conflict: [1]}", "\"Pod\""),
                constraint("y-fine", "{label: team}", "\"Pod\""),
                constraint("z-unmatched", "{label: team}", "\"Service\""),
            ],
            POD,
        )
        .expect("review");
        let names: Vec<&str> = out
            .violations
            .iter()
            .map(|v| v.constraint.name.as_str())
            .collect();
        assert_eq!(names, ["x-conflict", "y-fine"]);
        assert_eq!(out.violations[0].msg, out.violations[1].msg);
        assert!(
            out.violations[0].msg.contains("template:"),
            "{}",
            out.violations[0].msg
        );
        assert_eq!(out.violations[0].details, Some(Value::Null));
    }
}
