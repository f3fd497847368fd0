//! `import input`: OPA takes it as saying nothing (and rejects a second one, which would
//! shadow the first); regorus prints "redundant import of `input`" to stderr for it, which a
//! server must never do. The first is blanked out, the line kept; a second is OPA's error.

use super::lexer::{self, Kind, Token, line_break};
use super::lowering::{Edit, Rejection};

/// The edits that blank a module's plain `import input`, or OPA's error for a second one.
pub(super) fn rewrites(source: &str, tokens: &[Token]) -> Result<Vec<Edit>, Rejection> {
    let mut edits = Vec::new();
    for (i, token) in tokens.iter().enumerate() {
        let plain = token.text(source) == "import"
            && (i == 0 || line_break(source, &tokens[i - 1], token))
            && tokens
                .get(i + 1)
                .is_some_and(|t| t.kind == Kind::Ident && t.text(source) == "input")
            && tokens.get(i + 2).is_none_or(|next| {
                line_break(source, &tokens[i + 1], next) || next.text(source) == ";"
            });
        if !plain {
            continue;
        }
        if !edits.is_empty() {
            let (row, col) = lexer::row_col(source, token.start);
            return Err(Rejection {
                code: "rego_compile_error",
                row,
                col,
                message: "import must not shadow import input".to_string(),
            });
        }
        edits.push(Edit {
            start: token.start,
            end: tokens[i + 1].end,
            text: String::new(),
        });
    }
    Ok(edits)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rego::lowering;

    fn lowered(source: &str) -> Result<String, String> {
        let tokens = lexer::significant(source);
        rewrites(source, &tokens)
            .map(|edits| lowering::apply(source, edits).text)
            .map_err(|e| format!("{}:{} {}", e.row, e.col, e.message))
    }

    #[test]
    fn a_plain_input_import_says_nothing() {
        assert_eq!(
            lowered("package t\n\nimport input\n\np := input.x\n").as_deref(),
            Ok("package t\n\n\n\np := input.x\n")
        );
        for source in [
            "package t\n\nimport input.x\n",
            "package t\n\nimport input as i\n",
        ] {
            assert_eq!(lowered(source).as_deref(), Ok(source));
        }
    }

    #[test]
    fn a_second_one_shadows_the_first() {
        assert_eq!(
            lowered("package t\n\nimport input\nimport input\n"),
            Err("4:1 import must not shadow import input".to_string())
        );
    }
}
