//! The `rego` target: the gateway's Rego engine, in-process.

use std::collections::BTreeMap;
use std::sync::Arc;

use rego_runtime::rego::RegoEngine;
use rego_runtime::{
    Engine, Entrypoint, Error, Input, Limits, Outcome as EngineOutcome, PolicyModule, PolicySet,
    Value,
};

use super::Target;
use crate::case::LoadedCase;
use crate::outcome::{Outcome, Run};

/// Runs cases on [`RegoEngine`]: modules prepared, then the query evaluated. Target `rego` is
/// the engine as the gateway runs it (the compiled evaluator, regorus where it declines);
/// target `regorus` is regorus alone, so the two evaluators are held to one answer.
pub struct RegoTarget {
    compiled_evaluator: bool,
}

impl Default for RegoTarget {
    fn default() -> Self {
        RegoTarget {
            compiled_evaluator: true,
        }
    }
}

impl RegoTarget {
    /// The engine with its compiled evaluator off: every case on regorus.
    pub fn regorus_only() -> RegoTarget {
        RegoTarget {
            compiled_evaluator: false,
        }
    }
}

impl Target for RegoTarget {
    fn name(&self) -> &str {
        if self.compiled_evaluator {
            "rego"
        } else {
            "regorus"
        }
    }

    fn run(&self, loaded: &LoadedCase) -> Run {
        let case = &loaded.case;
        let modules = case
            .modules
            .iter()
            .enumerate()
            .map(|(i, source)| {
                // OPA's own runner names modules this way; error texts carry the name.
                let name = format!("test-{i}.rego");
                PolicyModule {
                    id: name.clone(),
                    file: name,
                    source: Arc::from(source.as_str()),
                    rego_version: loaded.rego_version,
                }
            })
            .collect();
        let data = case
            .data
            .clone()
            .map(Value::from)
            .unwrap_or_else(Value::empty_object);
        let engine = RegoEngine::default().with_compiled_evaluator(self.compiled_evaluator);
        let prepared = match engine.prepare(&PolicySet {
            modules,
            data,
            disabled_builtins: Vec::new(),
            conflict_messages: Default::default(),
        }) {
            Ok(prepared) => prepared,
            Err(error) => return Run::Done(error_outcome(&error)),
        };
        let term_input;
        let input = match (&case.input_term, &case.input) {
            (Some(term), _) => match evaluate_term(term) {
                Ok(value) => {
                    term_input = value;
                    Input::Value(&term_input)
                }
                Err(error) => return Run::Done(error_outcome(&error)),
            },
            (None, Some(json)) => {
                term_input = Value::from(json.clone());
                Input::Value(&term_input)
            }
            (None, None) => Input::Undefined,
        };
        let limits = Limits {
            strict_builtin_errors: case.strict_error,
            ..Limits::default()
        };
        match prepared.evaluate(Entrypoint::Query(&case.query), input, &limits) {
            Ok(evaluation) => match evaluation.outcome {
                EngineOutcome::Bindings(solutions) => Run::Done(Outcome::Results(
                    solutions.iter().map(to_json_bindings).collect(),
                )),
                EngineOutcome::Document(_) => {
                    Run::Skipped("the engine answered a document to a query".into())
                }
            },
            Err(error) => Run::Done(error_outcome(&error)),
        }
    }
}

/// Evaluates an `input_term` (Rego term text, sets allowed) into a value.
fn evaluate_term(term: &str) -> Result<Value, Error> {
    let prepared = RegoEngine::default().prepare(&PolicySet::default())?;
    let query = format!("__input_term := {term}");
    let evaluation = prepared.evaluate(
        Entrypoint::Query(&query),
        Input::Undefined,
        &Limits::default(),
    )?;
    match evaluation.outcome {
        EngineOutcome::Bindings(mut solutions) if !solutions.is_empty() => solutions
            .swap_remove(0)
            .remove("__input_term")
            .ok_or_else(|| Error::Internal("input_term has no value".into())),
        _ => Err(Error::Internal("input_term is undefined".into())),
    }
}

fn to_json_bindings(bindings: &BTreeMap<String, Value>) -> BTreeMap<String, serde_json::Value> {
    bindings
        .iter()
        .map(|(name, value)| (name.clone(), serde_json::Value::from(value)))
        .collect()
}

fn error_outcome(error: &Error) -> Outcome {
    let code = match error {
        Error::Compile(problems) => problems.first().map_or("rego_compile_error", |p| p.code),
        Error::Evaluation(problem) => problem.code,
        _ => "eval_internal_error",
    };
    Outcome::Error {
        code: code.to_string(),
        message: error.to_string(),
    }
}
