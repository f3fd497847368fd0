//! `glob.quote_meta`, escaping what gobwas/glob (OPA's glob library) treats as syntax, and
//! `glob.match` with that library's syntax, separators and errors (`glob: syntax error at 2:
//! unexpected end of input`), which regorus words differently.
//!
//! A pattern is compiled to a regular expression: `*` is any run of non-separators, `**` any
//! run at all, `?` one non-separator, `[a-z]`/`[!abc]` one character of a class, `{a,b}`
//! alternatives, and `\` quotes the next character.

use std::sync::Arc;

use regex::Regex;

use super::args::{self, BuiltinError};
use super::pattern_cache::PatternCache;
use super::{Builtin, Implementation};
use crate::Value;

pub(super) const BUILTINS: &[Builtin] = &[
    Builtin {
        name: "glob.quote_meta",
        arity: 1,
        nondeterministic: false,
        eval: Implementation::Operands(quote_meta),
    },
    Builtin {
        name: "glob.match",
        arity: 3,
        nondeterministic: false,
        eval: Implementation::Operands(glob_match),
    },
];

static CACHE: PatternCache = PatternCache::new();

/// A syntax error at a byte offset, worded as gobwas/glob words it.
fn syntax(at: usize, message: &str) -> String {
    format!("glob: syntax error at {at}: {message}")
}

/// The translation of one pattern into a regular expression.
struct Translator<'a> {
    chars: Vec<(usize, char)>,
    next: usize,
    text: &'a str,
    /// `[^...]`: any character but a separator.
    not_separator: String,
}

impl Translator<'_> {
    /// The byte offset after everything read so far, where gobwas reports errors.
    fn offset(&self) -> usize {
        self.chars
            .get(self.next)
            .map_or(self.text.len(), |(at, _)| *at)
    }

    fn read(&mut self) -> Option<char> {
        let c = self.chars.get(self.next).map(|(_, c)| *c);
        if c.is_some() {
            self.next += 1;
        }
        c
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.next).map(|(_, c)| *c)
    }

    /// Terms until the end, or until `,`/`}` inside braces (`depth > 0`).
    fn sequence(&mut self, depth: usize, out: &mut String) -> Result<(), String> {
        while let Some(c) = self.peek() {
            match c {
                ',' | '}' if depth > 0 => return Ok(()),
                '*' => {
                    self.next += 1;
                    if self.peek() == Some('*') {
                        self.next += 1;
                        out.push_str(".*");
                    } else {
                        out.push_str(&self.not_separator);
                        out.push('*');
                    }
                }
                '?' => {
                    self.next += 1;
                    out.push_str(&self.not_separator);
                }
                '[' => {
                    self.next += 1;
                    self.class(out)?;
                }
                '{' => {
                    self.next += 1;
                    out.push_str("(?:");
                    loop {
                        self.sequence(depth + 1, out)?;
                        match self.read() {
                            Some(',') => out.push('|'),
                            Some('}') => break,
                            _ => return Err(syntax(self.text.len(), "unclosed `{`")),
                        }
                    }
                    out.push(')');
                }
                '\\' => {
                    self.next += 1;
                    let quoted = self
                        .read()
                        .ok_or_else(|| syntax(self.text.len(), "trailing backslash"))?;
                    out.push_str(&regex::escape(&quoted.to_string()));
                }
                c => {
                    self.next += 1;
                    out.push_str(&regex::escape(&c.to_string()));
                }
            }
        }
        Ok(())
    }

    /// After `[`: one range `lo-hi`, or a list of characters, then `]`.
    fn class(&mut self, out: &mut String) -> Result<(), String> {
        let end = |t: &Self| syntax(t.text.len(), "unexpected end of input");
        let negated = if self.peek() == Some('!') {
            self.next += 1;
            true
        } else {
            false
        };
        let first = self.read().ok_or_else(|| end(self))?;
        let mut members = String::new();
        if first != '\\' && first != ']' && self.peek() == Some('-') {
            self.next += 1;
            let hi = self.read().ok_or_else(|| end(self))?;
            let close = self.read().ok_or_else(|| end(self))?;
            if close != ']' {
                return Err(syntax(self.offset(), "expected close range character"));
            }
            if hi < first {
                return Err(syntax(self.offset(), "range hi character is less than lo"));
            }
            members.push_str(&format!(
                "{}-{}",
                regex::escape(&first.to_string()),
                regex::escape(&hi.to_string())
            ));
        } else {
            self.next -= 1;
            while let Some(c) = self.read() {
                match c {
                    ']' => break,
                    '\\' => {
                        let quoted = self.read().ok_or_else(|| end(self))?;
                        members.push_str(&regex::escape(&quoted.to_string()));
                    }
                    c => members.push_str(&regex::escape(&c.to_string())),
                }
                if self.peek().is_none() {
                    return Err(end(self));
                }
            }
            if members.is_empty() {
                return Err(syntax(self.offset(), "could not parse range"));
            }
        }
        out.push_str(if negated { "[^" } else { "[" });
        out.push_str(&members);
        out.push(']');
        Ok(())
    }
}

/// The regular expression of `pattern`, anchored, with `separators` bounding `*` and `?`.
fn compile(pattern: &str, separators: &[char]) -> Result<Arc<Regex>, String> {
    // The separators' count, then the separators and the pattern: unambiguous.
    let separator_text: String = separators.iter().collect();
    let key = format!("{}:{separator_text}{pattern}", separators.len());
    CACHE.get_or_compile(&key, || {
        let escaped: String = separators
            .iter()
            .map(|c| regex::escape(&c.to_string()))
            .collect();
        let mut translator = Translator {
            chars: pattern.char_indices().collect(),
            next: 0,
            text: pattern,
            not_separator: format!("[^{escaped}]"),
        };
        let mut expression = String::from("(?s)^");
        translator.sequence(0, &mut expression)?;
        expression.push('$');
        Regex::new(&expression).map_err(|e| format!("glob: {e}"))
    })
}

/// Separators: single characters; `null` or none at all mean `.`, as in OPA.
fn separators(args: &[Value]) -> Result<Vec<char>, BuiltinError> {
    let items = match args::any(args, 1)? {
        Value::Null => return Ok(vec!['.']),
        Value::Array(items) => items,
        other => return Err(args::wrong_type(1, "one of {array, null}", other)),
    };
    let mut out = Vec::with_capacity(items.len());
    for item in items.iter() {
        let Value::String(text) = item else {
            return Err(BuiltinError::Type(format!(
                "operand 2 must be array of strings but got array containing {}",
                item.type_name()
            )));
        };
        let mut chars = text.chars();
        match (chars.next(), chars.next()) {
            (Some(c), None) => out.push(c),
            _ => {
                return Err(BuiltinError::Type(
                    "operand 2 must be array of runes but got array containing string".into(),
                ));
            }
        }
    }
    if out.is_empty() {
        out.push('.');
    }
    Ok(out)
}

fn glob_match(args: &[Value]) -> Result<Value, BuiltinError> {
    let pattern = args::string(args, 0)?;
    let separators = separators(args)?;
    let text = args::string(args, 2)?;
    let compiled = compile(pattern, &separators).map_err(BuiltinError::failed)?;
    Ok(Value::Bool(compiled.is_match(text)))
}

fn quote_meta(args: &[Value]) -> Result<Value, BuiltinError> {
    let text = args::string(args, 0)?;
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if "*?[]{}\\".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    Ok(Value::string(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(pattern: &str, separators: &str, text: &str) -> Result<bool, String> {
        let args = [
            Value::string(pattern),
            Value::from_json(separators).expect("json"),
            Value::string(text),
        ];
        match glob_match(&args) {
            Ok(Value::Bool(b)) => Ok(b),
            Ok(other) => Err(format!("unexpected {other:?}")),
            Err(e) => Err(e.to_string()),
        }
    }

    // Expected values confirmed with `opa eval` (OPA 1.22.2).
    #[test]
    fn matches_as_gobwas() {
        assert_eq!(
            matches("*.example.com", r#"["."]"#, "api.example.com"),
            Ok(true)
        );
        assert_eq!(
            matches("*.example.com", r#"["."]"#, "a.b.example.com"),
            Ok(false)
        );
        assert_eq!(
            matches("**.example.com", r#"["."]"#, "a.b.example.com"),
            Ok(true)
        );
        assert_eq!(matches("a*z", "[]", "a.z"), Ok(false));
        assert_eq!(matches("a*z", "null", "ab/cz"), Ok(true));
        assert_eq!(matches("[!abc]at", "[]", "bat"), Ok(false));
        assert_eq!(matches("a{b,c{d,e}}", "[]", "ace"), Ok(true));
        assert_eq!(matches("?", "[]", "."), Ok(false));
        assert_eq!(matches("[.]", "[]", "."), Ok(true));
        assert_eq!(matches("a}b]c,d", "[]", "a}b]c,d"), Ok(true));
        assert_eq!(matches("{a,}x", "[]", "x"), Ok(true));
        assert_eq!(matches(r"[a\-z]", "[]", "-"), Ok(true));
        assert_eq!(matches("[^a]", "[]", "b"), Ok(false));
        assert_eq!(matches("*.com", r#"[".", ":"]"#, "a:b.com"), Ok(false));
    }

    #[test]
    fn fails_as_gobwas() {
        let error = |p: &str| matches(p, "[]", "a").expect_err("invalid");
        assert_eq!(
            error("[a"),
            "glob: syntax error at 2: unexpected end of input"
        );
        assert_eq!(
            error("[ab"),
            "glob: syntax error at 3: unexpected end of input"
        );
        assert_eq!(
            error("x[a-"),
            "glob: syntax error at 4: unexpected end of input"
        );
        assert_eq!(error("{a,b"), "glob: syntax error at 4: unclosed `{`");
        assert_eq!(error("a\\"), "glob: syntax error at 2: trailing backslash");
        assert_eq!(
            error("[]"),
            "glob: syntax error at 2: could not parse range"
        );
        assert_eq!(
            error("[!]"),
            "glob: syntax error at 3: could not parse range"
        );
        assert_eq!(
            error("[a-cx]"),
            "glob: syntax error at 5: expected close range character"
        );
        assert_eq!(
            error("[z-a]"),
            "glob: syntax error at 5: range hi character is less than lo"
        );
        assert_eq!(
            matches("*", r#"["ab"]"#, "a"),
            Err("operand 2 must be array of runes but got array containing string".into())
        );
        assert_eq!(
            matches("*", r#"".""#, "a"),
            Err("operand 2 must be one of {array, null} but got string".into())
        );
    }

    // Expected value confirmed with `opa eval` (OPA 1.22.2).
    #[test]
    fn escapes_glob_syntax() {
        let quoted = quote_meta(&[Value::string("a.b*c?d[e]f{g}h\\i!j-k^l")]);
        assert_eq!(
            quoted.ok().and_then(|v| v.as_str().map(str::to_string)),
            Some("a.b\\*c\\?d\\[e\\]f\\{g\\}h\\\\i!j-k^l".to_string())
        );
    }
}
