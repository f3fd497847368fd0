//! `{"x": x, "y": 2} = {"x": 1, "y": y}`: regorus cannot order a unification of two object
//! literals with variables on both sides; it prints "could not schedule all statements" to
//! stderr, which a server must never do. With the same constant keys in the same order on
//! both sides OPA unifies the values pair by pair, which is what `[x, 2] = [1, y]` means, and
//! regorus orders that one.

use super::lexer::{Kind, Token, line_break, matching};
use super::lowering::Edit;
use super::output_args::{Unit, ends_literal, literal_starts};

/// The rewrites of every such unification in `tokens` (the significant tokens of a module
/// or query).
pub(super) fn rewrites(source: &str, tokens: &[Token], unit: Unit) -> Vec<Edit> {
    let mut edits = Vec::new();
    let starts = literal_starts(source, tokens, unit);
    let text = |i: usize| tokens.get(i).map_or("", |t| t.text(source));
    for (open, _) in starts.iter().enumerate().filter(|(_, start)| **start) {
        // After `if`, a brace opens the body.
        if text(open) != "{" || open.checked_sub(1).is_some_and(|p| text(p) == "if") {
            continue;
        }
        let Some(close) = matching(source, tokens, open) else {
            continue;
        };
        if text(close + 1) != "=" || text(close + 2) != "{" {
            continue;
        }
        let Some(other_close) = matching(source, tokens, close + 2) else {
            continue;
        };
        if !ends_literal(source, tokens, other_close) {
            continue;
        }
        let (Some(left), Some(right)) = (
            fields(source, tokens, open, close),
            fields(source, tokens, close + 2, other_close),
        ) else {
            continue;
        };
        let keys = |fields: &[Field]| -> Vec<&str> {
            fields.iter().map(|f| tokens[f.key].text(source)).collect()
        };
        let mut distinct = keys(&left);
        distinct.sort_unstable();
        distinct.dedup();
        if left.is_empty() || keys(&left) != keys(&right) || distinct.len() != left.len() {
            continue;
        }
        for (open, close, fields) in [(open, close, &left), (close + 2, other_close, &right)] {
            edits.push(replace(&tokens[open], "["));
            edits.push(replace(&tokens[close], "]"));
            for field in fields {
                edits.push(Edit {
                    start: tokens[field.key].start,
                    end: tokens[field.value].start,
                    text: String::new(),
                });
            }
        }
    }
    edits
}

/// One `key: value` of an object literal: the key's and the value's first token.
struct Field {
    key: usize,
    value: usize,
}

/// The fields of the object literal between `open` and `close`, when every key is one
/// constant token on the line of its value.
fn fields(source: &str, tokens: &[Token], open: usize, close: usize) -> Option<Vec<Field>> {
    let mut fields = Vec::new();
    let mut i = open + 1;
    while i < close {
        let key = &tokens[i];
        let colon = tokens.get(i + 1)?;
        if !matches!(key.kind, Kind::String | Kind::Number)
            || colon.text(source) != ":"
            || line_break(source, key, tokens.get(i + 2)?)
        {
            return None;
        }
        fields.push(Field {
            key: i,
            value: i + 2,
        });
        // The value runs to the next comma at this depth.
        let mut depth = 0usize;
        i += 2;
        while i < close {
            match tokens[i].text(source) {
                "{" | "[" | "(" => depth += 1,
                "}" | "]" | ")" => depth = depth.saturating_sub(1),
                "," if depth == 0 => break,
                _ => {}
            }
            i += 1;
        }
        i += 1;
    }
    Some(fields)
}

fn replace(token: &Token, text: &str) -> Edit {
    Edit {
        start: token.start,
        end: token.end,
        text: text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rego::{lexer, lowering};

    fn rewritten(source: &str) -> String {
        let tokens = lexer::significant(source);
        lowering::apply(source, rewrites(source, &tokens, Unit::Module)).text
    }

    #[test]
    fn objects_with_the_same_keys_unify_as_arrays() {
        assert_eq!(
            rewritten(
                "package t\np contains z if {\n\t{\"x\": x, \"y\": 2} = {\"x\": 1, \"y\": y}\n\tz = [x, y]\n}\n"
            ),
            "package t\np contains z if {\n\t[x, 2] = [1, y]\n\tz = [x, y]\n}\n"
        );
        assert_eq!(
            rewritten("package t\np if { {\"a\": [1, 2], \"b\": x} = {\"a\": y, \"b\": 3} }\n"),
            "package t\np if { [[1, 2], x] = [y, 3] }\n"
        );
    }

    #[test]
    fn other_objects_are_left_alone() {
        for source in [
            // Keys differ, or differ in order: OPA's answer is not an array's.
            "package t\np if { {\"a\": v} = {\"a\": 1, \"b\": 2} }\n",
            "package t\np if { {\"a\": x, \"b\": 1} = {\"b\": y, \"a\": 2} }\n",
            // A key that is a variable, a term inside a larger expression, not a body.
            "package t\np if { {k: 1} = {\"a\": v} }\n",
            "package t\np if { x := {\"a\": 1} = {\"a\": 1} }\n",
            "package t\np := {\"a\": 1}\n",
            "package t\np if {\"a\": 1} = {\"a\": 1}\n",
        ] {
            assert_eq!(rewritten(source), source, "{source}");
        }
    }
}
