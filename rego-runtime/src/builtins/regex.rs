//! `regex.*` and the deprecated `re_match` on the `regex` crate, whose syntax is RE2's as Go
//! uses it; errors are worded as Go's `regexp` package words them.

use std::sync::Arc;

use regex::Regex;

use super::args::{self, BuiltinError};
use super::pattern_cache::PatternCache;
use super::{Builtin, builtin};
use crate::Value;

pub(super) const BUILTINS: &[Builtin] = &[
    builtin("regex.match", 2, regex_match),
    builtin("re_match", 2, regex_match),
    builtin("regex.is_valid", 1, is_valid),
    builtin("regex.split", 2, split),
    builtin("regex.find_n", 3, find_n),
    builtin("regex.replace", 3, replace),
    builtin(
        "regex.find_all_string_submatch_n",
        3,
        find_all_string_submatch_n,
    ),
    builtin("regex.globs_match", 2, globs_match),
    builtin("regex.template_match", 4, template_match),
];

/// Go's RE2 rejects repetition counts above this; the `regex` crate would accept them.
const MAX_REPEAT: u32 = 1000;

static CACHE: PatternCache = PatternCache::new();

/// Compiles `pattern`, or fails with Go's `error parsing regexp: ...` wording.
pub(super) fn compile(pattern: &str) -> Result<Arc<Regex>, BuiltinError> {
    CACHE.get_or_compile(pattern, || {
        if let Some(count) = oversized_repeat(pattern) {
            return Err(BuiltinError::failed(format!(
                "error parsing regexp: invalid repeat count: `{count}`"
            )));
        }
        Regex::new(pattern).map_err(|error| go_error(pattern, &error))
    })
}

/// The first `{n}`/`{n,m}` whose count exceeds RE2's limit, as written.
fn oversized_repeat(pattern: &str) -> Option<&str> {
    let mut rest = pattern;
    let mut offset = 0;
    while let Some(open) = rest.find('{') {
        let start = offset + open;
        let after = &pattern[start + 1..];
        let close = after.find('}')?;
        let inside = &after[..close];
        let counts: Vec<&str> = inside.split(',').collect();
        let numeric = !inside.is_empty()
            && counts.len() <= 2
            && counts.iter().all(|c| c.bytes().all(|b| b.is_ascii_digit()));
        if numeric
            && counts
                .iter()
                .any(|c| c.parse::<u32>().map_or(!c.is_empty(), |n| n > MAX_REPEAT))
        {
            return Some(&pattern[start..start + close + 2]);
        }
        offset = start + 1;
        rest = &pattern[offset..];
    }
    None
}

fn go_error(pattern: &str, error: &regex::Error) -> BuiltinError {
    let text = error.to_string();
    let reason = if text.contains("unclosed group") {
        format!("missing closing ): `{pattern}`")
    } else if text.contains("unopened group") {
        format!("unexpected ): `{pattern}`")
    } else if text.contains("unclosed character class") {
        let from = pattern.rfind('[').map_or(pattern, |i| &pattern[i..]);
        format!("missing closing ]: `{from}`")
    } else if text.contains("repetition operator missing expression") {
        let operator = pattern.chars().find(|c| "*+?".contains(*c)).unwrap_or('*');
        format!("missing argument to repetition operator: `{operator}`")
    } else if text.contains("unrecognized escape sequence")
        || text.contains("incomplete escape sequence")
    {
        let escape: String = pattern
            .find('\\')
            .map_or(pattern, |i| &pattern[i..])
            .chars()
            .take(2)
            .collect();
        format!("invalid escape sequence: `{escape}`")
    } else if text.contains("exceeds size limit") {
        "expression too large".to_string()
    } else {
        format!("invalid or unsupported Perl syntax: `{pattern}`")
    };
    BuiltinError::failed(format!("error parsing regexp: {reason}"))
}

fn regex_match(args: &[Value]) -> Result<Value, BuiltinError> {
    let pattern = args::string(args, 0)?;
    let value = args::string(args, 1)?;
    Ok(Value::Bool(compile(pattern)?.is_match(value)))
}

fn is_valid(args: &[Value]) -> Result<Value, BuiltinError> {
    // OPA answers false, not a type error, for a pattern that is not a string.
    let valid = match &args[0] {
        Value::String(pattern) => compile(pattern).is_ok(),
        _ => false,
    };
    Ok(Value::Bool(valid))
}

/// Go's `Regexp.Split(s, -1)`.
fn split(args: &[Value]) -> Result<Value, BuiltinError> {
    let pattern = args::string(args, 0)?;
    let value = args::string(args, 1)?;
    let regex = compile(pattern)?;
    if value.is_empty() {
        return Ok(Value::array(vec![Value::string("")]));
    }
    let mut parts = Vec::new();
    let (mut begin, mut end) = (0, 0);
    for found in regex.find_iter(value) {
        end = found.start();
        if found.end() != 0 {
            parts.push(Value::string(&value[begin..end]));
        }
        begin = found.end();
    }
    if end != value.len() {
        parts.push(Value::string(&value[begin..]));
    }
    Ok(Value::array(parts))
}

/// How many matches `n` asks for: all when negative.
fn limit(n: i64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

fn find_n(args: &[Value]) -> Result<Value, BuiltinError> {
    let pattern = args::string(args, 0)?;
    let value = args::string(args, 1)?;
    let n = args::integer(args, 2)?;
    let regex = compile(pattern)?;
    Ok(Value::array(
        regex
            .find_iter(value)
            .take(limit(n))
            .map(|m| Value::string(m.as_str()))
            .collect(),
    ))
}

fn replace(args: &[Value]) -> Result<Value, BuiltinError> {
    let value = args::string(args, 0)?;
    let pattern = args::string(args, 1)?;
    let replacement = args::string(args, 2)?;
    let regex = compile(pattern)?;
    Ok(Value::string(regex.replace_all(value, replacement)))
}

fn find_all_string_submatch_n(args: &[Value]) -> Result<Value, BuiltinError> {
    let pattern = args::string(args, 0)?;
    let value = args::string(args, 1)?;
    let n = args::integer(args, 2)?;
    let regex = compile(pattern)?;
    Ok(Value::array(
        regex
            .captures_iter(value)
            .take(limit(n))
            .map(|captures| {
                Value::array(
                    captures
                        .iter()
                        .map(|group| Value::string(group.map_or("", |m| m.as_str())))
                        .collect(),
                )
            })
            .collect(),
    ))
}

/// A set of characters a glob token matches: ranges, possibly negated.
#[derive(Clone, Debug)]
struct CharSet {
    negated: bool,
    ranges: Vec<(char, char)>,
}

impl CharSet {
    fn any() -> CharSet {
        CharSet {
            negated: true,
            ranges: Vec::new(),
        }
    }

    fn single(c: char) -> CharSet {
        CharSet {
            negated: false,
            ranges: vec![(c, c)],
        }
    }

    fn contains(&self, c: char) -> bool {
        self.ranges.iter().any(|(lo, hi)| *lo <= c && c <= *hi) != self.negated
    }

    /// True when some character is in both sets.
    fn intersects(&self, other: &CharSet) -> bool {
        match (self.negated, other.negated) {
            // Both exclude finitely many characters of an unbounded alphabet.
            (true, true) => true,
            (false, _) => self.ranges.iter().any(|(lo, hi)| {
                (*lo..=*hi).take(4096).any(|c| other.contains(c))
                    || (*lo..=*hi).rev().take(4096).any(|c| other.contains(c))
            }),
            (true, false) => other.intersects(self),
        }
    }
}

/// One glob token and how often it repeats.
#[derive(Clone, Debug)]
struct Token {
    set: CharSet,
    repeat: bool,
}

/// Parses the extended globs `regex.globs_match` takes: `.`, `[...]`, escapes, `*` and `+`.
fn glob_tokens(pattern: &str) -> Result<Vec<Token>, BuiltinError> {
    // glob-intersection's wording: `input:[, pos:1, found [ without matching ]: ...`.
    let invalid = |pos: usize, reason: &str| {
        BuiltinError::failed(format!(
            "input:{pattern}, pos:{pos}, {reason}: the input provided is invalid"
        ))
    };
    let length = pattern.chars().count();
    let mut tokens: Vec<Token> = Vec::new();
    let mut chars = pattern.chars().enumerate().peekable();
    // A flag (`*`, `+`) must follow a character, a class or an escape, not another flag.
    let mut after_flag = false;
    while let Some((i, c)) = chars.next() {
        let flag = matches!(c, '*' | '+');
        match c {
            '*' | '+' => {
                let last = match tokens.last() {
                    Some(last) if !after_flag => last.clone(),
                    _ => {
                        return Err(invalid(
                            i + 1,
                            &format!("flag '{c}' must be preceded by a non-flag"),
                        ));
                    }
                };
                if c == '*' {
                    if let Some(t) = tokens.last_mut() {
                        t.repeat = true;
                    }
                } else {
                    tokens.push(Token {
                        set: last.set,
                        repeat: true,
                    });
                }
            }
            '.' => tokens.push(Token {
                set: CharSet::any(),
                repeat: false,
            }),
            '\\' => {
                let (_, escaped) = chars
                    .next()
                    .ok_or_else(|| invalid(i, "input ends with a \\ (escape) character"))?;
                tokens.push(Token {
                    set: CharSet::single(escaped),
                    repeat: false,
                });
            }
            ']' => return Err(invalid(i + 1, "set-close ']' with no preceding '['")),
            '[' => {
                let mut set = CharSet {
                    negated: false,
                    ranges: Vec::new(),
                };
                if chars.peek().map(|(_, c)| *c) == Some('^') {
                    chars.next();
                    set.negated = true;
                }
                let mut closed = false;
                while let Some((_, member)) = chars.next() {
                    let member = match member {
                        ']' => {
                            closed = true;
                            break;
                        }
                        '\\' => chars.next().map_or('\\', |(_, c)| c),
                        other => other,
                    };
                    if let Some(&(dash, '-')) = chars.peek() {
                        chars.next();
                        match chars.next() {
                            Some((_, ']')) | None => {
                                return Err(invalid(
                                    dash + 1,
                                    "range character '-' must be followed by a Unicode character",
                                ));
                            }
                            Some((_, hi)) => set.ranges.push((member, hi)),
                        }
                    } else {
                        set.ranges.push((member, member));
                    }
                }
                if !closed {
                    return Err(invalid(length, "found [ without matching ]"));
                }
                tokens.push(Token { set, repeat: false });
            }
            other => tokens.push(Token {
                set: CharSet::single(other),
                repeat: false,
            }),
        }
        after_flag = flag;
    }
    Ok(tokens)
}

/// `[start, end)` of every outermost delimited part of a template; unbalanced delimiters are
/// OPA's `unbalanced braces in "a{b"`.
fn delimited(template: &str, open: u8, close: u8) -> Result<Vec<(usize, usize)>, BuiltinError> {
    let unbalanced = || {
        BuiltinError::failed(format!(
            "unbalanced braces in {}",
            serde_json::to_string(template).unwrap_or_default()
        ))
    };
    let (mut level, mut start) = (0i64, 0);
    let mut parts = Vec::new();
    for (i, b) in template.bytes().enumerate() {
        if b == open {
            level += 1;
            if level == 1 {
                start = i;
            }
        } else if b == close {
            level -= 1;
            if level == 0 {
                parts.push((start, i + 1));
            } else if level < 0 {
                return Err(unbalanced());
            }
        }
    }
    if level != 0 {
        return Err(unbalanced());
    }
    Ok(parts)
}

/// OPA's `regex.template_match`: text outside the delimiters is literal, each delimited part
/// a regular expression.
fn template_match(args: &[Value]) -> Result<Value, BuiltinError> {
    let template = args::string(args, 0)?;
    let text = args::string(args, 1)?;
    let start = args::string(args, 2)?;
    let end = args::string(args, 3)?;
    let delimiter = |which: &str, d: &str| -> Result<u8, BuiltinError> {
        match d.as_bytes() {
            [b] => Ok(*b),
            other => Err(BuiltinError::failed(format!(
                "{which} delimiter has to be exactly one character long but is {} long",
                other.len()
            ))),
        }
    };
    let (open, close) = (delimiter("start", start)?, delimiter("end", end)?);
    let mut pattern = String::from("^");
    let mut last = 0;
    for (from, to) in delimited(template, open, close)? {
        // Each part must compile alone first, as OPA checks it.
        let part = &template[from + 1..to - 1];
        compile(&format!("^{part}$"))?;
        pattern.push_str(&regex::escape(&template[last..from]));
        pattern.push('(');
        pattern.push_str(part);
        pattern.push(')');
        last = to;
    }
    pattern.push_str(&regex::escape(&template[last..]));
    pattern.push('$');
    Ok(Value::Bool(compile(&pattern)?.is_match(text)))
}

/// True when some string matches both globs: a search over pairs of positions.
fn globs_match(args: &[Value]) -> Result<Value, BuiltinError> {
    let a = glob_tokens(args::string(args, 0)?)?;
    let b = glob_tokens(args::string(args, 1)?)?;
    let mut seen = vec![vec![false; b.len() + 1]; a.len() + 1];
    let mut stack = vec![(0usize, 0usize)];
    while let Some((i, j)) = stack.pop() {
        if seen[i][j] {
            continue;
        }
        seen[i][j] = true;
        if i == a.len() && j == b.len() {
            return Ok(Value::Bool(true));
        }
        // A repeated token may match nothing.
        if i < a.len() && a[i].repeat {
            stack.push((i + 1, j));
        }
        if j < b.len() && b[j].repeat {
            stack.push((i, j + 1));
        }
        if i < a.len() && j < b.len() && a[i].set.intersects(&b[j].set) {
            // Consume one character on both sides; a repeated token may stay.
            stack.push((i + 1, j + 1));
            if a[i].repeat {
                stack.push((i, j + 1));
            }
            if b[j].repeat {
                stack.push((i + 1, j));
            }
            if a[i].repeat && b[j].repeat {
                stack.push((i, j));
            }
        }
    }
    Ok(Value::Bool(false))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builtins::run_fn as run;

    // Expected values confirmed with `opa eval` (OPA 1.22.2).
    #[test]
    fn matches_and_finds() {
        assert_eq!(run(regex_match, r#"["^a+$","aaa"]"#), Ok("true".into()));
        assert_eq!(
            run(regex_match, r#"["(","a"]"#),
            Err("error parsing regexp: missing closing ): `(`".into())
        );
        assert_eq!(
            run(regex_match, r#"["a{1001}","a"]"#),
            Err("error parsing regexp: invalid repeat count: `{1001}`".into())
        );
        assert_eq!(
            run(find_all_string_submatch_n, r#"["a(x*)b","-ab-axxb-",-1]"#),
            Ok(r#"[["ab",""],["axxb","xx"]]"#.into())
        );
        assert_eq!(
            run(find_n, r#"["a.","banana",2]"#),
            Ok(r#"["an","an"]"#.into())
        );
        assert_eq!(
            run(split, r#"["a","banana"]"#),
            Ok(r#"["b","n","n",""]"#.into())
        );
        assert_eq!(
            run(replace, r#"["banana","a(n)","<$1>"]"#),
            Ok(r#""b<n><n>a""#.into())
        );
        assert_eq!(run(is_valid, "[1]"), Ok("false".into()));
    }

    #[test]
    fn intersects_globs() {
        assert_eq!(
            run(globs_match, r#"["a.a.[0-9]+z",".b.b2359825792*594823z"]"#),
            Ok("true".into())
        );
        assert_eq!(
            run(globs_match, r#"["[a-z]+","[0-9]*"]"#),
            Ok("false".into())
        );
        assert_eq!(run(globs_match, r#"["a*","b*"]"#), Ok("true".into()));
        assert!(run(globs_match, r#"["[a","b"]"#).is_err());
        assert_eq!(
            run(
                template_match,
                r#"["urn:foo:{.*}","urn:foo:bar:baz","{","}"]"#
            ),
            Ok("true".into())
        );
        assert_eq!(
            run(template_match, r#"["id-<[0-9]+>-x","id-42-x","<",">"]"#),
            Ok("true".into())
        );
        assert_eq!(
            run(
                template_match,
                r#"["urn:foo:{[0-9]+}","urn:foo:bar","{","}"]"#
            ),
            Ok("false".into())
        );
        assert_eq!(
            run(template_match, r#"["a{b","x","{","}"]"#),
            Err(r#"unbalanced braces in "a{b""#.into())
        );
        assert_eq!(
            run(template_match, r#"["a{(}b","a(b","{","}"]"#),
            Err("error parsing regexp: missing closing ): `^($`".into())
        );
        assert_eq!(
            run(template_match, r#"["a<x>","ax","<<",">"]"#),
            Err("start delimiter has to be exactly one character long but is 2 long".into())
        );
        assert_eq!(
            run(globs_match, r#"["[","a"]"#),
            Err("input:[, pos:1, found [ without matching ]: the input provided is invalid".into())
        );
        assert_eq!(
            run(globs_match, r#"["]","a"]"#),
            Err("input:], pos:1, set-close ']' with no preceding '[': the input provided is invalid".into())
        );
        assert_eq!(
            run(globs_match, r#"["a\\","a"]"#),
            Err(r"input:a\, pos:1, input ends with a \ (escape) character: the input provided is invalid".into())
        );
        assert_eq!(
            run(globs_match, r#"["[a-]","a"]"#),
            Err("input:[a-], pos:3, range character '-' must be followed by a Unicode character: the input provided is invalid".into())
        );
        assert_eq!(
            run(globs_match, r#"["+","a"]"#),
            Err("input:+, pos:1, flag '+' must be preceded by a non-flag: the input provided is invalid".into())
        );
    }
}
