//! Judges an outcome exactly as OPA's topdown test runner does: bindings compared as a set,
//! `want_error` as a substring, `want_error_code` as an equal code.

use serde_json::Value as Json;

use crate::case::TestCase;
use crate::outcome::{Bindings, Outcome};

/// A case's result on one target.
#[derive(Clone, Debug, PartialEq)]
pub enum Verdict {
    Pass,
    Fail {
        reason: String,
        expected: String,
        actual: String,
    },
}

/// Compares `outcome` with what `case` wants.
pub fn judge(case: &TestCase, outcome: &Outcome) -> Verdict {
    let expects_error = case.want_error.is_some() || case.want_error_code.is_some();
    match outcome {
        Outcome::Error { code, message } => {
            if !expects_error {
                return fail(
                    "unexpected error",
                    &expected_text(case),
                    &format!("error {code}: {message}"),
                );
            }
            if let Some(want) = &case.want_error_code
                && want != code
            {
                return fail("wrong error code", want, &format!("{code}: {message}"));
            }
            if let Some(want) = &case.want_error
                && !message.contains(want.as_str())
            {
                return fail("error text does not contain want_error", want, message);
            }
            Verdict::Pass
        }
        Outcome::Results(results) => {
            if expects_error {
                return fail(
                    "expected an error",
                    &expected_text(case),
                    &results_text(results),
                );
            }
            if let Some(want) = &case.want_result {
                let actual = normalize(results, case);
                let expected = normalize(want, case);
                if !same_set(&expected, &actual) {
                    return fail(
                        "results differ",
                        &results_text(want),
                        &results_text(results),
                    );
                }
            }
            if let Some(defined) = case.want_defined
                && defined == results.is_empty()
            {
                return fail(
                    "definedness differs",
                    if defined { "defined" } else { "undefined" },
                    &results_text(results),
                );
            }
            Verdict::Pass
        }
    }
}

fn fail(reason: &str, expected: &str, actual: &str) -> Verdict {
    Verdict::Fail {
        reason: reason.to_string(),
        expected: expected.to_string(),
        actual: actual.to_string(),
    }
}

fn expected_text(case: &TestCase) -> String {
    match (&case.want_error_code, &case.want_error, &case.want_result) {
        (Some(code), Some(text), _) => format!("error {code}: ...{text}..."),
        (Some(code), None, _) => format!("error {code}"),
        (None, Some(text), _) => format!("error ...{text}..."),
        (None, None, Some(results)) => results_text(results),
        _ => "a result".to_string(),
    }
}

fn results_text(results: &[Bindings]) -> String {
    serde_json::to_string(results).unwrap_or_default()
}

/// Drops generated variables and, with `sort_bindings`, sorts array values.
fn normalize(results: &[Bindings], case: &TestCase) -> Vec<Bindings> {
    results
        .iter()
        .map(|bindings| {
            bindings
                .iter()
                .filter(|(name, _)| !(case.ignore_generated_vars && name.starts_with("__")))
                .map(|(name, value)| {
                    let mut value = value.clone();
                    if case.sort_bindings {
                        sort_arrays(&mut value);
                    }
                    (name.clone(), value)
                })
                .collect()
        })
        .collect()
}

fn sort_arrays(value: &mut Json) {
    if let Json::Array(items) = value {
        items.sort_by_key(|item| item.to_string());
    }
}

/// Set equality of binding objects, numbers compared by value.
fn same_set(expected: &[Bindings], actual: &[Bindings]) -> bool {
    let contains =
        |set: &[Bindings], item: &Bindings| set.iter().any(|other| bindings_equal(other, item));
    expected.iter().all(|e| contains(actual, e)) && actual.iter().all(|a| contains(expected, a))
}

fn bindings_equal(a: &Bindings, b: &Bindings) -> bool {
    a.len() == b.len()
        && a.iter()
            .all(|(k, v)| b.get(k).is_some_and(|w| json_equal(v, w)))
}

fn json_equal(a: &Json, b: &Json) -> bool {
    match (a, b) {
        (Json::Number(x), Json::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(i), Some(j)) => i == j,
            _ => x.as_f64() == y.as_f64(),
        },
        (Json::Array(x), Json::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| json_equal(a, b))
        }
        (Json::Object(x), Json::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_equal(v, w)))
        }
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(yaml: &str) -> TestCase {
        yaml_serde::from_str(yaml).expect("case")
    }

    fn bindings(json: &str) -> Vec<Bindings> {
        serde_json::from_str(json).expect("bindings")
    }

    #[test]
    fn results_are_a_set_with_numbers_by_value() {
        let c = case("note: n\nquery: q\nwant_result: [{x: 1}, {x: 2.0}]\n");
        assert_eq!(
            judge(&c, &Outcome::Results(bindings(r#"[{"x":2},{"x":1.0}]"#))),
            Verdict::Pass
        );
        assert!(matches!(
            judge(&c, &Outcome::Results(bindings(r#"[{"x":2}]"#))),
            Verdict::Fail { .. }
        ));
    }

    #[test]
    fn errors_match_by_code_and_substring() {
        let c = case(
            "note: n\nquery: q\nwant_error_code: eval_type_error\nwant_error: must be string\n",
        );
        let outcome = Outcome::Error {
            code: "eval_type_error".into(),
            message: "test-0.rego:3: eval_type_error: x: operand 1 must be string but got number"
                .into(),
        };
        assert_eq!(judge(&c, &outcome), Verdict::Pass);
        let other = Outcome::Error {
            code: "eval_builtin_error".into(),
            message: "must be string".into(),
        };
        assert!(matches!(judge(&c, &other), Verdict::Fail { .. }));
        assert!(matches!(
            judge(&c, &Outcome::Results(vec![])),
            Verdict::Fail { .. }
        ));
    }

    #[test]
    fn sort_bindings_sorts_arrays() {
        let c = case("note: n\nquery: q\nsort_bindings: true\nwant_result: [{x: [1, 2, 3]}]\n");
        assert_eq!(
            judge(&c, &Outcome::Results(bindings(r#"[{"x":[3,1,2]}]"#))),
            Verdict::Pass
        );
    }
}
