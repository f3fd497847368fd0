//! Reads a module's outline from its tokens, without parsing it: whether it is empty, and its
//! package path. Loading uses it before any engine sees the module.

use super::lexer::{self, Kind, Token};

/// True when a module has nothing but layout and comments (OPA's "empty module").
pub fn is_empty_module(source: &str) -> bool {
    lexer::tokenize(source).iter().all(Token::is_trivia)
}

/// The package path of a module (`package a.b["c"]` gives `a`, `b`, `c`), if it has one.
pub fn package_path(source: &str) -> Option<Vec<String>> {
    let tokens: Vec<Token> = lexer::significant(source);
    let start = tokens
        .iter()
        .position(|t| t.kind == Kind::Ident && t.text(source) == "package")?;
    let mut path = Vec::new();
    let mut i = start + 1;
    let row_of = |t: &Token| lexer::row_col(source, t.start).0;
    let package_row = row_of(&tokens[start]);
    while let Some(token) = tokens.get(i) {
        if row_of(token) != package_row {
            break;
        }
        match (token.kind, token.text(source)) {
            (Kind::Ident, word) => path.push(word.to_string()),
            (Kind::String, quoted) => path.push(serde_json::from_str(quoted).ok()?),
            (Kind::Punct, "." | "[" | "]") => {}
            _ => break,
        }
        i += 1;
    }
    (!path.is_empty()).then_some(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_package_paths() {
        assert_eq!(
            package_path("# c\npackage a.b[\"c.d\"]\n\nx := 1\n"),
            Some(vec!["a".into(), "b".into(), "c.d".into()])
        );
        assert_eq!(package_path("x := 1"), None);
    }
}
