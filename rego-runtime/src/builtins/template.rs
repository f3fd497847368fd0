//! `strings.render_template`: the part of Go's `text/template` policies use, over values as
//! OPA hands them to Go (numbers are `json.Number` strings, missing values print
//! `<undefined>`). Supported: text, `{{- -}}` trimming, comments, fields and chains,
//! variables, pipelines, `if`/`else if`/`else`, `range` (with `else`), `with`, and the
//! functions `and or not len index print printf println eq ne lt le gt ge html js urlquery`.

use super::args::{self, BuiltinError};
use super::sprintf::{Operand, format_go};
use super::{Builtin, Implementation};
use crate::Value;

pub(super) const BUILTINS: &[Builtin] = &[Builtin {
    name: "strings.render_template",
    arity: 2,
    nondeterministic: false,
    eval: Implementation::Operands(render_template),
}];

/// Nesting deeper than this is refused rather than risk the stack.
const MAX_DEPTH: usize = 100;

fn render_template(args: &[Value]) -> Result<Value, BuiltinError> {
    let source = args::string(args, 0)?;
    args::object(args, 1)?;
    let nodes = Parser::new(source)
        .parse()
        .map_err(|e| BuiltinError::failed(format!("template: template:{e}")))?;
    let root = Data::Value(args[1].clone());
    let mut renderer = Renderer {
        out: String::new(),
        variables: vec![("$".to_string(), root.clone())],
    };
    renderer
        .render(&nodes, &root, 0)
        .map_err(|e| BuiltinError::failed(format!("template: template: {e}")))?;
    Ok(Value::string(renderer.out))
}

/// A value inside the template: data, or a literal written in the template.
#[derive(Clone, Debug, PartialEq)]
enum Data {
    Value(Value),
    /// Missing data (and `null`), printed `<undefined>`.
    Missing,
    Int(i64),
    Float(f64),
    Str(String),
    Bool(bool),
}

impl Data {
    fn from_value(value: Option<&Value>) -> Data {
        match value {
            None | Some(Value::Null) => Data::Missing,
            Some(value) => Data::Value(value.clone()),
        }
    }

    /// Go's truth: false, zero, nil and empty things are false; a `json.Number` is a string.
    fn truthy(&self) -> bool {
        match self {
            Data::Missing => false,
            Data::Int(i) => *i != 0,
            Data::Float(f) => *f != 0.0,
            Data::Str(s) => !s.is_empty(),
            Data::Bool(b) => *b,
            Data::Value(value) => match value {
                Value::Null => false,
                Value::Bool(b) => *b,
                Value::Number(_) => true,
                Value::String(s) => !s.is_empty(),
                Value::Array(a) => !a.is_empty(),
                Value::Set(s) => !s.is_empty(),
                Value::Object(o) => !o.is_empty(),
            },
        }
    }

    /// Go's `%v`.
    fn text(&self) -> String {
        match self {
            Data::Missing => "<undefined>".to_string(),
            Data::Int(i) => i.to_string(),
            Data::Float(f) => f.to_string(),
            Data::Str(s) => s.clone(),
            Data::Bool(b) => b.to_string(),
            Data::Value(value) => go_text(value),
        }
    }

    fn operand(&self) -> Operand<'_> {
        match self {
            Data::Missing => Operand::Str("<undefined>".into()),
            Data::Int(i) => Operand::Int(*i),
            Data::Float(f) => Operand::Float(*f),
            Data::Str(s) => Operand::Str(s.as_str().into()),
            Data::Bool(b) => Operand::Bool(*b),
            Data::Value(Value::Number(n)) => Operand::JsonNumber(n.to_string()),
            Data::Value(Value::String(s)) => Operand::Str((&**s).into()),
            Data::Value(Value::Bool(b)) => Operand::Bool(*b),
            Data::Value(other) => Operand::Str(go_text(other).into()),
        }
    }

    /// The string Go compares for string-kinded values (`string` and `json.Number`).
    fn string_kind(&self) -> Option<String> {
        match self {
            Data::Str(s) => Some(s.clone()),
            Data::Value(Value::String(s)) => Some(s.to_string()),
            Data::Value(Value::Number(n)) => Some(n.to_string()),
            _ => None,
        }
    }

    fn type_name(&self) -> &'static str {
        match self {
            Data::Missing => "nil",
            Data::Int(_) => "int",
            Data::Float(_) => "float64",
            Data::Str(_) => "string",
            Data::Bool(_) => "bool",
            Data::Value(Value::Number(_)) => "json.Number",
            Data::Value(Value::String(_)) => "string",
            Data::Value(Value::Bool(_)) => "bool",
            Data::Value(Value::Object(_)) => "map[string]interface {}",
            Data::Value(_) => "[]interface {}",
        }
    }
}

/// Go's `%v` of a decoded JSON value: `[a b]`, `map[k:v]`.
fn go_text(value: &Value) -> String {
    match value {
        Value::Null => "<nil>".to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.to_string(),
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(go_text).collect::<Vec<_>>().join(" ")
        ),
        Value::Set(items) => format!(
            "[{}]",
            items.iter().map(go_text).collect::<Vec<_>>().join(" ")
        ),
        Value::Object(entries) => format!(
            "map[{}]",
            entries
                .iter()
                .map(|(k, v)| format!("{}:{}", go_text(k), go_text(v)))
                .collect::<Vec<_>>()
                .join(" ")
        ),
    }
}

/// A parsed template node.
#[derive(Clone, Debug)]
enum Node {
    Text(String),
    Action(Pipeline),
    If(Pipeline, Vec<Node>, Vec<Node>),
    Range(Pipeline, Vec<Node>, Vec<Node>),
    With(Pipeline, Vec<Node>, Vec<Node>),
}

/// `$a, $b := cmd | cmd`.
#[derive(Clone, Debug, Default)]
struct Pipeline {
    declarations: Vec<String>,
    commands: Vec<Vec<Term>>,
}

#[derive(Clone, Debug)]
enum Term {
    /// `.a.b` (empty for `.`).
    Field(Vec<String>),
    /// `$x.a.b`.
    Variable(String, Vec<String>),
    Function(String),
    Literal(Data),
    Nested(Pipeline, Vec<String>),
}

/// Splits the source into text and actions, then parses actions into nodes.
struct Parser<'a> {
    source: &'a str,
    position: usize,
    line: usize,
}

/// What ended a list of nodes.
enum Stop {
    Eof,
    End,
    Else(Option<Pipeline>, String),
}

impl<'a> Parser<'a> {
    fn new(source: &'a str) -> Parser<'a> {
        Parser {
            source,
            position: 0,
            line: 1,
        }
    }

    fn parse(mut self) -> Result<Vec<Node>, String> {
        let (nodes, end) = self.list(0)?;
        match end {
            Stop::Eof => Ok(nodes),
            Stop::End => Err(format!("{}: unexpected {{{{end}}}}", self.line)),
            Stop::Else(..) => Err(format!("{}: unexpected {{{{else}}}}", self.line)),
        }
    }

    fn list(&mut self, depth: usize) -> Result<(Vec<Node>, Stop), String> {
        if depth > MAX_DEPTH {
            return Err(format!("{}: template nested too deeply", self.line));
        }
        let mut nodes = Vec::new();
        loop {
            let rest = &self.source[self.position..];
            let Some(open) = rest.find("{{") else {
                if !rest.is_empty() {
                    nodes.push(Node::Text(rest.to_string()));
                }
                self.position = self.source.len();
                return Ok((nodes, Stop::Eof));
            };
            let mut text = rest[..open].to_string();
            let mut inner_start = self.position + open + 2;
            if self.source[inner_start..].starts_with("- ")
                || self.source[inner_start..].starts_with("-\t")
                || self.source[inner_start..].starts_with("-\n")
            {
                text = text.trim_end().to_string();
                inner_start += 1;
            }
            self.line += rest[..open].matches('\n').count();
            if !text.is_empty() {
                nodes.push(Node::Text(text));
            }
            let after = &self.source[inner_start..];
            let close =
                find_close(after).ok_or_else(|| format!("{}: unclosed action", self.line))?;
            let mut action = &after[..close];
            let mut next = inner_start + close + 2;
            if action.ends_with(" -") || action.ends_with("\t-") || action.ends_with("\n-") {
                action = &action[..action.len() - 1];
                let trimmed = self.source[next..].trim_start();
                next = self.source.len() - trimmed.len();
            }
            self.line += action.matches('\n').count();
            self.position = next;
            let action = action.trim();
            if action.starts_with("/*") {
                continue;
            }
            let words = tokenize(action).map_err(|e| format!("{}: {e}", self.line))?;
            match words.first().map(String::as_str) {
                Some("end") => return Ok((nodes, Stop::End)),
                Some("else") => {
                    let rest = &words[1..];
                    let condition = match rest.first().map(String::as_str) {
                        Some("if") | Some("with") => Some(self.pipeline(&rest[1..])?),
                        _ => None,
                    };
                    let keyword = rest.first().cloned().unwrap_or_default();
                    return Ok((nodes, Stop::Else(condition, keyword)));
                }
                Some(keyword @ ("if" | "range" | "with")) => {
                    let keyword = keyword.to_string();
                    let pipeline = self.pipeline(&words[1..])?;
                    nodes.push(self.block(&keyword, pipeline, depth)?);
                }
                Some(_) => nodes.push(Node::Action(self.pipeline(&words)?)),
                None => return Err(format!("{}: missing value for command", self.line)),
            }
        }
    }

    /// The body and else branch of `if`, `range` or `with`, up to its `{{end}}`.
    fn block(&mut self, keyword: &str, pipeline: Pipeline, depth: usize) -> Result<Node, String> {
        let (body, end) = self.list(depth + 1)?;
        let otherwise = match end {
            Stop::End => Vec::new(),
            Stop::Eof => return Err(format!("{}: unexpected EOF", self.line)),
            Stop::Else(None, _) => {
                let (otherwise, end) = self.list(depth + 1)?;
                if !matches!(end, Stop::End) {
                    return Err(format!("{}: expected end; found else", self.line));
                }
                otherwise
            }
            // `{{else if x}}` nests a new block that shares this one's `{{end}}`.
            Stop::Else(Some(condition), chained) => {
                vec![self.block(&chained, condition, depth + 1)?]
            }
        };
        Ok(match keyword {
            "if" => Node::If(pipeline, body, otherwise),
            "range" => Node::Range(pipeline, body, otherwise),
            _ => Node::With(pipeline, body, otherwise),
        })
    }

    fn pipeline(&self, words: &[String]) -> Result<Pipeline, String> {
        let mut pipeline = Pipeline::default();
        let mut words = words;
        if let Some(assign) = words.iter().position(|w| w == ":=" || w == "=") {
            pipeline.declarations = words[..assign]
                .iter()
                .filter(|w| *w != ",")
                .map(|w| w.trim_end_matches(',').to_string())
                .collect();
            words = &words[assign + 1..];
        }
        let mut command = Vec::new();
        let mut i = 0;
        while i < words.len() {
            let word = &words[i];
            if word == "|" {
                pipeline.commands.push(std::mem::take(&mut command));
            } else if word == "(" {
                let close = matching_paren(words, i)
                    .ok_or_else(|| format!("{}: unclosed left paren", self.line))?;
                let nested = self.pipeline(&words[i + 1..close])?;
                let mut fields = Vec::new();
                let mut j = close + 1;
                while j < words.len() && words[j].starts_with('.') && words[j].len() > 1 {
                    fields.extend(words[j][1..].split('.').map(str::to_string));
                    j += 1;
                }
                command.push(Term::Nested(nested, fields));
                i = j;
                continue;
            } else {
                command.push(term(word).map_err(|e| format!("{}: {e}", self.line))?);
            }
            i += 1;
        }
        if !command.is_empty() {
            pipeline.commands.push(command);
        }
        if pipeline.commands.is_empty() {
            return Err(format!("{}: missing value for command", self.line));
        }
        Ok(pipeline)
    }
}

fn matching_paren(words: &[String], open: usize) -> Option<usize> {
    let mut depth = 0;
    for (i, word) in words.iter().enumerate().skip(open) {
        match word.as_str() {
            "(" => depth += 1,
            ")" => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// The `}}` closing an action, skipping quoted strings.
fn find_close(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i + 1 < bytes.len() {
        match bytes[i] {
            b'"' | b'`' | b'\'' => {
                let quote = bytes[i];
                i += 1;
                while i < bytes.len() && bytes[i] != quote {
                    if bytes[i] == b'\\' && quote != b'`' {
                        i += 1;
                    }
                    i += 1;
                }
            }
            b'}' if bytes[i + 1] == b'}' => return Some(i),
            _ => {}
        }
        i += 1;
    }
    None
}

/// Splits an action into words: quoted strings whole, `|`, `(`, `)`, `:=` apart.
fn tokenize(action: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let chars: Vec<char> = action.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '"' || c == '`' || c == '\'' {
            let start = i;
            i += 1;
            while i < chars.len() && chars[i] != c {
                if chars[i] == '\\' && c != '`' {
                    i += 1;
                }
                i += 1;
            }
            if i >= chars.len() {
                return Err("unterminated quoted string".to_string());
            }
            i += 1;
            words.push(chars[start..i].iter().collect());
        } else if c == '|' || c == '(' || c == ')' || c == ',' {
            words.push(c.to_string());
            i += 1;
        } else if c == ':' && chars.get(i + 1) == Some(&'=') {
            words.push(":=".to_string());
            i += 2;
        } else {
            let start = i;
            let ends_word = |i: usize| {
                chars[i].is_whitespace()
                    || "|(),".contains(chars[i])
                    || (chars[i] == ':' && chars.get(i + 1) == Some(&'='))
            };
            while i < chars.len() && !ends_word(i) {
                i += 1;
            }
            words.push(chars[start..i].iter().collect());
        }
    }
    Ok(words)
}

fn term(word: &str) -> Result<Term, String> {
    let first = word.chars().next().unwrap_or(' ');
    Ok(match first {
        '.' if word == "." => Term::Field(Vec::new()),
        '.' => {
            let fields: Vec<String> = word[1..].split('.').map(str::to_string).collect();
            if fields
                .iter()
                .any(|f| f.is_empty() || f.chars().next().is_some_and(|c| c.is_ascii_digit()))
            {
                return Err(format!(
                    "illegal number syntax: {}",
                    serde_json::to_string(word).unwrap_or_default()
                ));
            }
            Term::Field(fields)
        }
        '$' => {
            let mut parts = word.split('.');
            let name = parts.next().unwrap_or("$").to_string();
            Term::Variable(name, parts.map(str::to_string).collect())
        }
        '"' => Term::Literal(Data::Str(
            serde_json::from_str::<String>(word).map_err(|e| format!("bad string: {e}"))?,
        )),
        '`' => Term::Literal(Data::Str(word.trim_matches('`').to_string())),
        '\'' => Term::Literal(Data::Int(
            word.trim_matches('\'')
                .chars()
                .next()
                .map_or(0, |c| i64::from(u32::from(c))),
        )),
        _ if word == "true" || word == "false" => Term::Literal(Data::Bool(word == "true")),
        _ if word == "nil" => Term::Literal(Data::Missing),
        _ if first.is_ascii_digit() || first == '-' || first == '+' => {
            if let Ok(i) = word.parse::<i64>() {
                Term::Literal(Data::Int(i))
            } else {
                Term::Literal(Data::Float(word.parse().map_err(|_| {
                    format!(
                        "illegal number syntax: {}",
                        serde_json::to_string(word).unwrap_or_default()
                    )
                })?))
            }
        }
        _ if first.is_alphabetic() || first == '_' => Term::Function(word.to_string()),
        _ => return Err(format!("unexpected {word:?} in command")),
    })
}

struct Renderer {
    out: String,
    variables: Vec<(String, Data)>,
}

impl Renderer {
    fn render(&mut self, nodes: &[Node], dot: &Data, depth: usize) -> Result<(), String> {
        if depth > MAX_DEPTH {
            return Err("template nested too deeply".to_string());
        }
        for node in nodes {
            match node {
                Node::Text(text) => self.out.push_str(text),
                Node::Action(pipeline) => {
                    let value = self.pipeline(pipeline, dot)?;
                    if pipeline.declarations.is_empty() {
                        self.out.push_str(&value.text());
                    }
                }
                Node::If(pipeline, body, otherwise) => {
                    let mark = self.variables.len();
                    let branch = if self.pipeline(pipeline, dot)?.truthy() {
                        body
                    } else {
                        otherwise
                    };
                    self.render(branch, dot, depth + 1)?;
                    self.variables.truncate(mark);
                }
                Node::With(pipeline, body, otherwise) => {
                    let mark = self.variables.len();
                    let value = self.pipeline(pipeline, dot)?;
                    if value.truthy() {
                        self.render(body, &value, depth + 1)?;
                    } else {
                        self.render(otherwise, dot, depth + 1)?;
                    }
                    self.variables.truncate(mark);
                }
                Node::Range(pipeline, body, otherwise) => {
                    let mark = self.variables.len();
                    let bare = Pipeline {
                        declarations: Vec::new(),
                        commands: pipeline.commands.clone(),
                    };
                    let ranged = self.pipeline(&bare, dot)?;
                    let items = items(&ranged)?;
                    if items.is_empty() {
                        self.render(otherwise, dot, depth + 1)?;
                    }
                    for (key, item) in items {
                        let inner = self.variables.len();
                        match pipeline.declarations.as_slice() {
                            [value] => self.variables.push((value.clone(), item.clone())),
                            [index, value] => {
                                self.variables.push((index.clone(), key));
                                self.variables.push((value.clone(), item.clone()));
                            }
                            _ => {}
                        }
                        self.render(body, &item, depth + 1)?;
                        self.variables.truncate(inner);
                    }
                    self.variables.truncate(mark);
                }
            }
        }
        Ok(())
    }
}

/// `(key, element)` pairs `range` walks: indexes of arrays, sorted keys of maps.
fn items(value: &Data) -> Result<Vec<(Data, Data)>, String> {
    Ok(match value {
        Data::Value(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, v)| (Data::Int(i as i64), Data::from_value(Some(v))))
            .collect(),
        Data::Value(Value::Set(items)) => items
            .iter()
            .enumerate()
            .map(|(i, v)| (Data::Int(i as i64), Data::from_value(Some(v))))
            .collect(),
        Data::Value(Value::Object(entries)) => entries
            .iter()
            .map(|(k, v)| (Data::from_value(Some(k)), Data::from_value(Some(v))))
            .collect(),
        Data::Int(n) => (0..*n).map(|i| (Data::Int(i), Data::Int(i))).collect(),
        Data::Missing => Vec::new(),
        other => return Err(format!("range can't iterate over {}", other.text())),
    })
}

impl Renderer {
    fn pipeline(&mut self, pipeline: &Pipeline, dot: &Data) -> Result<Data, String> {
        let mut value: Option<Data> = None;
        for command in &pipeline.commands {
            value = Some(self.command(command, dot, value)?);
        }
        let value = value.unwrap_or(Data::Missing);
        for name in &pipeline.declarations {
            self.variables.push((name.clone(), value.clone()));
        }
        Ok(value)
    }

    fn command(&mut self, terms: &[Term], dot: &Data, piped: Option<Data>) -> Result<Data, String> {
        let Some(first) = terms.first() else {
            return Err("empty command".to_string());
        };
        if let Term::Function(name) = first {
            let mut arguments = terms[1..]
                .iter()
                .map(|t| self.evaluate(t, dot))
                .collect::<Result<Vec<_>, _>>()?;
            arguments.extend(piped);
            return call(name, &arguments);
        }
        if terms.len() > 1 || piped.is_some() {
            return Err(format!("can't give argument to non-function {first:?}"));
        }
        self.evaluate(first, dot)
    }

    fn evaluate(&mut self, term: &Term, dot: &Data) -> Result<Data, String> {
        Ok(match term {
            Term::Field(fields) => walk(dot.clone(), fields),
            Term::Variable(name, fields) => {
                let found = self
                    .variables
                    .iter()
                    .rev()
                    .find(|(n, _)| n == name)
                    .map(|(_, v)| v.clone())
                    .ok_or_else(|| format!("undefined variable: {name}"))?;
                walk(found, fields)
            }
            Term::Literal(data) => data.clone(),
            Term::Function(name) => call(name, &[])?,
            Term::Nested(pipeline, fields) => {
                let value = self.pipeline(pipeline, dot)?;
                walk(value, fields)
            }
        })
    }
}

fn walk(mut current: Data, fields: &[String]) -> Data {
    for field in fields {
        current = match &current {
            Data::Value(value) => Data::from_value(value.get(field)),
            _ => Data::Missing,
        };
    }
    current
}

/// Go's `eq`: basic values of the same kind compare by value.
fn equal(a: &Data, b: &Data) -> Result<bool, String> {
    if let (Some(x), Some(y)) = (a.string_kind(), b.string_kind()) {
        if a.type_name() != b.type_name() {
            return Err(format!(
                "incompatible types for comparison: {} and {}",
                a.type_name(),
                b.type_name()
            ));
        }
        return Ok(x == y);
    }
    match (a, b) {
        (Data::Int(x), Data::Int(y)) => Ok(x == y),
        (Data::Float(x), Data::Float(y)) => Ok(x == y),
        (Data::Bool(x), Data::Bool(y)) | (Data::Value(Value::Bool(x)), Data::Bool(y)) => Ok(x == y),
        (Data::Bool(x), Data::Value(Value::Bool(y))) => Ok(x == y),
        (Data::Value(Value::Bool(x)), Data::Value(Value::Bool(y))) => Ok(x == y),
        (Data::Missing, Data::Missing) => Ok(true),
        _ => Err(format!(
            "incompatible types for comparison: {} and {}",
            a.type_name(),
            b.type_name()
        )),
    }
}

fn less(a: &Data, b: &Data) -> Result<bool, String> {
    if let (Some(x), Some(y)) = (a.string_kind(), b.string_kind())
        && a.type_name() == b.type_name()
    {
        return Ok(x < y);
    }
    match (a, b) {
        (Data::Int(x), Data::Int(y)) => Ok(x < y),
        (Data::Float(x), Data::Float(y)) => Ok(x < y),
        _ => Err(format!(
            "incompatible types for comparison: {} and {}",
            a.type_name(),
            b.type_name()
        )),
    }
}

fn call(name: &str, arguments: &[Data]) -> Result<Data, String> {
    let wrap = |e: String| format!("error calling {name}: {e}");
    let arity = |n: usize| {
        if arguments.len() == n {
            Ok(())
        } else {
            Err(format!(
                "wrong number of args for {name}: want {n} got {}",
                arguments.len()
            ))
        }
    };
    Ok(match name {
        "and" => arguments
            .iter()
            .find(|a| !a.truthy())
            .or(arguments.last())
            .cloned()
            .unwrap_or(Data::Missing),
        "or" => arguments
            .iter()
            .find(|a| a.truthy())
            .or(arguments.last())
            .cloned()
            .unwrap_or(Data::Missing),
        "not" => {
            arity(1)?;
            Data::Bool(!arguments[0].truthy())
        }
        "len" => {
            arity(1)?;
            Data::Int(match &arguments[0] {
                Data::Value(Value::Array(a)) => a.len(),
                Data::Value(Value::Set(s)) => s.len(),
                Data::Value(Value::Object(o)) => o.len(),
                Data::Value(Value::String(s)) => s.len(),
                Data::Str(s) => s.len(),
                other => return Err(wrap(format!("len of type {}", other.type_name()))),
            } as i64)
        }
        "index" => {
            let Some((first, keys)) = arguments.split_first() else {
                return Err("wrong number of args for index: want at least 1 got 0".to_string());
            };
            let mut current = first.clone();
            for key in keys {
                current = match (&current, key) {
                    (Data::Value(Value::Array(items)), Data::Int(i)) => {
                        let item = usize::try_from(*i).ok().and_then(|i| items.get(i));
                        match item {
                            Some(item) => Data::from_value(Some(item)),
                            None => return Err(wrap(format!("index out of range: {i}"))),
                        }
                    }
                    (Data::Value(Value::Object(entries)), key) => match key.string_kind() {
                        Some(k) => Data::from_value(entries.get(&Value::string(k))),
                        None => Data::Missing,
                    },
                    _ => {
                        return Err(wrap(format!(
                            "can't index item of type {}",
                            current.type_name()
                        )));
                    }
                };
            }
            current
        }
        "print" | "println" => {
            let texts: Vec<String> = arguments.iter().map(Data::text).collect();
            let mut text = if name == "println" {
                texts.join(" ")
            } else {
                // Go's Sprint adds spaces only between operands that are not strings.
                let mut joined = String::new();
                for (i, argument) in arguments.iter().enumerate() {
                    let is_string =
                        |d: &Data| matches!(d, Data::Str(_) | Data::Value(Value::String(_)));
                    if i > 0 && !is_string(argument) && !is_string(&arguments[i - 1]) {
                        joined.push(' ');
                    }
                    joined.push_str(&texts[i]);
                }
                joined
            };
            if name == "println" {
                text.push('\n');
            }
            Data::Str(text)
        }
        "printf" => {
            let Some((format, rest)) = arguments.split_first() else {
                return Err("wrong number of args for printf: want at least 1 got 0".to_string());
            };
            let format = format
                .string_kind()
                .ok_or_else(|| wrap("format must be a string".to_string()))?;
            let operands: Vec<Operand> = rest.iter().map(Data::operand).collect();
            Data::Str(format_go(&format, &operands))
        }
        "eq" => {
            let Some((first, rest)) = arguments.split_first() else {
                return Err(wrap("missing argument for comparison".to_string()));
            };
            let mut any = false;
            for other in rest {
                any |= equal(first, other).map_err(wrap)?;
            }
            Data::Bool(any)
        }
        "ne" => {
            arity(2)?;
            Data::Bool(!equal(&arguments[0], &arguments[1]).map_err(wrap)?)
        }
        "lt" | "le" | "gt" | "ge" => {
            arity(2)?;
            let (a, b) = (&arguments[0], &arguments[1]);
            let result = match name {
                "lt" => less(a, b).map_err(wrap)?,
                "le" => less(a, b).map_err(wrap)? || equal(a, b).map_err(wrap)?,
                "gt" => less(b, a).map_err(wrap)?,
                _ => less(b, a).map_err(wrap)? || equal(a, b).map_err(wrap)?,
            };
            Data::Bool(result)
        }
        "html" => Data::Str(escape_html(&joined(arguments))),
        "js" => Data::Str(escape_js(&joined(arguments))),
        "urlquery" => Data::Str(
            joined(arguments)
                .bytes()
                .map(|b| match b {
                    b' ' => "+".to_string(),
                    b if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) => {
                        char::from(b).to_string()
                    }
                    b => format!("%{b:02X}"),
                })
                .collect(),
        ),
        other => return Err(format!("function {other:?} not defined")),
    })
}

fn joined(arguments: &[Data]) -> String {
    arguments
        .iter()
        .map(Data::text)
        .collect::<Vec<_>>()
        .join("")
}

fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&#34;"),
            '\'' => out.push_str("&#39;"),
            '\0' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

fn escape_js(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '"' => out.push_str("\\\""),
            '<' => out.push_str("\\u003C"),
            '>' => out.push_str("\\u003E"),
            '&' => out.push_str("\\u0026"),
            '=' => out.push_str("\\u003D"),
            '\n' => out.push_str("\\u000A"),
            '\r' => out.push_str("\\u000D"),
            '\t' => out.push_str("\\u0009"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(template: &str, vars: &str) -> Result<String, String> {
        let vars = Value::from_json(vars).expect("json");
        render_template(&[Value::string(template), vars])
            .map(|v| v.as_str().unwrap_or_default().to_string())
            .map_err(|e| e.to_string())
    }

    // Expected texts confirmed with `opa eval 'strings.render_template(...)'` (OPA 1.22.2).
    #[test]
    fn renders_as_go() {
        assert_eq!(
            render("Hello {{.name}}!", r#"{"name":"x"}"#),
            Ok("Hello x!".into())
        );
        assert_eq!(
            render(
                "{{.a.b}} {{.n}} {{.f}} {{.l}} {{.m}} {{.t}} {{.z}}",
                r#"{"a":{"b":"c"},"n":1,"f":1.5,"l":[1,"a"],"m":{"k":"v","j":2},"t":true,"z":null}"#
            ),
            Ok("c 1 1.5 [1 a] map[j:2 k:v] true <undefined>".into())
        );
        assert_eq!(
            render("{{range .l}}[{{.}}]{{end}}", r#"{"l":[1,2]}"#),
            Ok("[1][2]".into())
        );
        assert_eq!(
            render(
                "{{range $k, $v := .m}}{{$k}}={{$v}};{{end}}",
                r#"{"m":{"b":1,"a":2}}"#
            ),
            Ok("a=2;b=1;".into())
        );
        assert_eq!(
            render(
                "{{if .x}}yes{{else if .y}}maybe{{else}}no{{end}}",
                r#"{"x":false,"y":1}"#
            ),
            Ok("maybe".into())
        );
        assert_eq!(
            render(
                r#"{{index .m "k"}} {{index .l 1}}"#,
                r#"{"m":{"k":"v"},"l":[1,2]}"#
            ),
            Ok("v 2".into())
        );
        assert_eq!(
            render(r#"{{printf "%s-%d" .a .b}}"#, r#"{"a":"x","b":3}"#),
            Ok("x-%!d(json.Number=3)".into())
        );
        assert_eq!(render(r#"a {{- " b " -}} c"#, "{}"), Ok("a b c".into()));
        assert_eq!(render("{{/* c */}}x", "{}"), Ok("x".into()));
        assert_eq!(
            render("{{range .x}}{{.}}{{else}}empty{{end}}", r#"{"x":[]}"#),
            Ok("empty".into())
        );
        assert_eq!(
            render("{{and .a .b}} {{or .a .b}} {{not .a}}", r#"{"a":1,"b":0}"#),
            Ok("0 1 false".into())
        );
        assert_eq!(
            render("{{html .a}} {{js .a}} {{urlquery .a}}", r#"{"a":"<a&b>"}"#),
            Ok("&lt;a&amp;b&gt; \\u003Ca\\u0026b\\u003E %3Ca%26b%3E".into())
        );
        assert_eq!(
            render(r#"{{if eq .a "x"}}E{{end}}"#, r#"{"a":"x"}"#),
            Ok("E".into())
        );
    }

    #[test]
    fn reports_errors_without_panicking() {
        assert!(render("{{.", "{}").is_err());
        assert!(render("{{end}}", "{}").is_err());
        assert!(render("{{if .a}}", "{}").is_err());
        assert!(render("{{nosuch .a}}", "{}").is_err());
        assert!(render("{{le .a 2}}", r#"{"a":1}"#).is_err());
    }
}
