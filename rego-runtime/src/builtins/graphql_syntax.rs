//! GraphQL lexer and parser for the `graphql.*` builtins: executable documents (queries) and
//! type-system documents (schemas), into a syntax tree shaped like gqlparser's, which OPA
//! returns as JSON. Errors read as gqlparser's (`Expected Name, found <EOF>`).

/// A position in the source, 1-based; columns count characters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Position {
    pub line: usize,
    pub column: usize,
}

/// A parse failure and where it happened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct SyntaxError {
    pub message: String,
    pub position: Position,
}

/// gqlparser's value kinds, numbered as its `ValueKind` is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum ValueKind {
    Variable = 0,
    Int = 1,
    Float = 2,
    String = 3,
    Block = 4,
    Boolean = 5,
    Null = 6,
    Enum = 7,
    List = 8,
    Object = 9,
}

#[derive(Clone, Debug)]
pub(super) struct GqlValue {
    pub kind: ValueKind,
    /// The literal's text: a string's decoded content, a variable's name without `$`.
    pub raw: String,
    /// List items (with empty names) or object fields.
    pub children: Vec<(String, GqlValue)>,
    pub position: Position,
}

#[derive(Clone, Debug)]
pub(super) struct Argument {
    pub name: String,
    pub value: GqlValue,
    pub position: Position,
}

#[derive(Clone, Debug)]
pub(super) struct Directive {
    pub name: String,
    pub arguments: Vec<Argument>,
    pub position: Position,
}

#[derive(Clone, Debug)]
pub(super) struct TypeRef {
    pub named: String,
    pub elem: Option<Box<TypeRef>>,
    pub non_null: bool,
    pub position: Position,
}

impl TypeRef {
    /// The type as written: `[Int!]!`.
    pub fn text(&self) -> String {
        let inner = match &self.elem {
            Some(elem) => format!("[{}]", elem.text()),
            None => self.named.clone(),
        };
        if self.non_null {
            format!("{inner}!")
        } else {
            inner
        }
    }

    /// The named type at the bottom of lists.
    pub fn base(&self) -> &str {
        match &self.elem {
            Some(elem) => elem.base(),
            None => &self.named,
        }
    }
}

#[derive(Clone, Debug)]
pub(super) struct Field {
    pub comment: Vec<String>,
    pub alias: String,
    pub name: String,
    pub arguments: Vec<Argument>,
    pub directives: Vec<Directive>,
    pub selection_set: Vec<Selection>,
    pub position: Position,
}

#[derive(Clone, Debug)]
pub(super) enum Selection {
    Field(Field),
    FragmentSpread {
        comment: Vec<String>,
        name: String,
        directives: Vec<Directive>,
        position: Position,
    },
    InlineFragment {
        comment: Vec<String>,
        type_condition: String,
        directives: Vec<Directive>,
        selection_set: Vec<Selection>,
        position: Position,
    },
}

#[derive(Clone, Debug)]
pub(super) struct VariableDefinition {
    pub variable: String,
    pub ty: TypeRef,
    pub default: Option<GqlValue>,
    pub directives: Vec<Directive>,
    pub position: Position,
}

#[derive(Clone, Debug)]
pub(super) struct Operation {
    pub comment: Vec<String>,
    pub operation: String,
    pub name: String,
    pub variables: Vec<VariableDefinition>,
    pub directives: Vec<Directive>,
    pub selection_set: Vec<Selection>,
    pub position: Position,
}

#[derive(Clone, Debug)]
pub(super) struct Fragment {
    pub comment: Vec<String>,
    pub name: String,
    pub type_condition: String,
    pub directives: Vec<Directive>,
    pub selection_set: Vec<Selection>,
    pub position: Position,
}

#[derive(Clone, Debug, Default)]
pub(super) struct QueryDocument {
    pub operations: Vec<Operation>,
    pub fragments: Vec<Fragment>,
}

/// A field of an object or interface, an argument, or an input field.
#[derive(Clone, Debug)]
pub(super) struct FieldDefinition {
    pub name: String,
    pub description: String,
    pub comments: Comments,
    pub arguments: Vec<FieldDefinition>,
    pub ty: TypeRef,
    pub default: Option<GqlValue>,
    pub directives: Vec<Directive>,
}

#[derive(Clone, Debug)]
pub(super) struct EnumValueDefinition {
    pub name: String,
    pub description: String,
    pub comments: Comments,
    pub directives: Vec<Directive>,
}

#[derive(Clone, Debug)]
pub(super) struct Definition {
    /// `SCALAR`, `OBJECT`, `INTERFACE`, `UNION`, `ENUM` or `INPUT_OBJECT`.
    pub kind: &'static str,
    pub name: String,
    pub description: String,
    pub comments: Comments,
    pub directives: Vec<Directive>,
    pub interfaces: Vec<String>,
    pub fields: Vec<FieldDefinition>,
    pub types: Vec<String>,
    pub enum_values: Vec<EnumValueDefinition>,
    pub position: Position,
}

/// Comments gqlparser keeps around a schema element's description and closing brace.
#[derive(Clone, Debug, Default)]
pub(super) struct Comments {
    pub before_description: Vec<String>,
    pub after_description: Vec<String>,
    pub end_of_definition: Vec<String>,
}

#[derive(Clone, Debug)]
pub(super) struct DirectiveDefinition {
    pub name: String,
    pub description: String,
    pub arguments: Vec<FieldDefinition>,
    pub repeatable: bool,
    pub locations: Vec<String>,
}

#[derive(Clone, Debug, Default)]
pub(super) struct SchemaDefinition {
    pub description: String,
    pub directives: Vec<Directive>,
    pub operation_types: Vec<(String, String)>,
}

#[derive(Clone, Debug, Default)]
pub(super) struct SchemaDocument {
    pub definitions: Vec<Definition>,
    pub extensions: Vec<Definition>,
    pub directives: Vec<DirectiveDefinition>,
    pub schema: Vec<SchemaDefinition>,
    pub schema_extensions: Vec<SchemaDefinition>,
}

#[derive(Clone, Debug, PartialEq)]
enum TokenKind {
    Punct(&'static str),
    Name,
    Int,
    Float,
    Str,
    Block,
    Eof,
}

#[derive(Clone, Debug)]
struct Token {
    kind: TokenKind,
    value: String,
    position: Position,
    /// `#` comments just before this token; gqlparser attaches them to the node it starts.
    comments: Vec<String>,
}

impl Token {
    /// How gqlparser names a token in messages.
    fn describe(&self) -> String {
        match &self.kind {
            TokenKind::Punct(p) => (*p).to_string(),
            TokenKind::Name => format!("Name \"{}\"", self.value),
            TokenKind::Int => format!("Int \"{}\"", self.value),
            TokenKind::Float => format!("Float \"{}\"", self.value),
            TokenKind::Str | TokenKind::Block => format!("String \"{}\"", self.value),
            TokenKind::Eof => "<EOF>".to_string(),
        }
    }
}

fn lex(source: &str) -> Result<Vec<Token>, SyntaxError> {
    let chars: Vec<char> = source.chars().collect();
    let mut tokens: Vec<Token> = Vec::new();
    let mut pending: Vec<String> = Vec::new();
    let (mut i, mut line, mut line_start) = (0usize, 1usize, 0usize);
    let error = |message: String, i: usize, line: usize, line_start: usize| SyntaxError {
        message,
        position: Position {
            line,
            column: i - line_start + 1,
        },
    };
    while i < chars.len() {
        let c = chars[i];
        let position = Position {
            line,
            column: i - line_start + 1,
        };
        match c {
            '\n' => {
                i += 1;
                line += 1;
                line_start = i;
            }
            '\r' => {
                i += 1;
                if chars.get(i) == Some(&'\n') {
                    i += 1;
                }
                line += 1;
                line_start = i;
            }
            ' ' | '\t' | ',' | '\u{feff}' => i += 1,
            '#' => {
                let start = i;
                while i < chars.len() && chars[i] != '\n' && chars[i] != '\r' {
                    i += 1;
                }
                pending.push(chars[start..i].iter().collect());
            }
            '!' | '$' | '&' | '(' | ')' | ':' | '=' | '@' | '[' | ']' | '{' | '|' | '}' => {
                const PUNCTS: [&str; 13] = [
                    "!", "$", "&", "(", ")", ":", "=", "@", "[", "]", "{", "|", "}",
                ];
                let text = PUNCTS
                    .iter()
                    .find(|p| p.starts_with(c))
                    .copied()
                    .unwrap_or("!");
                tokens.push(Token {
                    kind: TokenKind::Punct(text),
                    value: text.to_string(),
                    position,
                    comments: std::mem::take(&mut pending),
                });
                i += 1;
            }
            '.' => {
                if chars.get(i + 1) == Some(&'.') && chars.get(i + 2) == Some(&'.') {
                    tokens.push(Token {
                        kind: TokenKind::Punct("..."),
                        value: "...".to_string(),
                        position,
                        comments: std::mem::take(&mut pending),
                    });
                    i += 3;
                } else {
                    return Err(error("Unexpected .".to_string(), i, line, line_start));
                }
            }
            c if c == '_' || c.is_ascii_alphabetic() => {
                let start = i;
                while i < chars.len() && (chars[i] == '_' || chars[i].is_ascii_alphanumeric()) {
                    i += 1;
                }
                tokens.push(Token {
                    kind: TokenKind::Name,
                    value: chars[start..i].iter().collect(),
                    position,
                    comments: std::mem::take(&mut pending),
                });
            }
            c if c == '-' || c.is_ascii_digit() => {
                let start = i;
                if chars[i] == '-' {
                    i += 1;
                }
                let digits = |i: &mut usize| {
                    let s = *i;
                    while *i < chars.len() && chars[*i].is_ascii_digit() {
                        *i += 1;
                    }
                    *i > s
                };
                if !digits(&mut i) {
                    return Err(error(
                        format!(
                            "Invalid number, expected digit but got: {}",
                            describe_char(chars.get(i))
                        ),
                        i,
                        line,
                        line_start,
                    ));
                }
                let mut float = false;
                if chars.get(i) == Some(&'.') {
                    float = true;
                    i += 1;
                    if !digits(&mut i) {
                        return Err(error(
                            format!(
                                "Invalid number, expected digit but got: {}",
                                describe_char(chars.get(i))
                            ),
                            i,
                            line,
                            line_start,
                        ));
                    }
                }
                if matches!(chars.get(i), Some('e' | 'E')) {
                    float = true;
                    i += 1;
                    if matches!(chars.get(i), Some('+' | '-')) {
                        i += 1;
                    }
                    if !digits(&mut i) {
                        return Err(error(
                            format!(
                                "Invalid number, expected digit but got: {}",
                                describe_char(chars.get(i))
                            ),
                            i,
                            line,
                            line_start,
                        ));
                    }
                }
                tokens.push(Token {
                    kind: if float {
                        TokenKind::Float
                    } else {
                        TokenKind::Int
                    },
                    value: chars[start..i].iter().collect(),
                    position,
                    comments: std::mem::take(&mut pending),
                });
            }
            '"' if chars.get(i + 1) == Some(&'"') && chars.get(i + 2) == Some(&'"') => {
                i += 3;
                let start = i;
                loop {
                    if i >= chars.len() {
                        return Err(error(
                            "Unexpected <Invalid>".to_string(),
                            i,
                            line,
                            line_start,
                        ));
                    }
                    if chars[i] == '"'
                        && chars.get(i + 1) == Some(&'"')
                        && chars.get(i + 2) == Some(&'"')
                    {
                        break;
                    }
                    if chars[i] == '\\' && chars[i + 1..].starts_with(&['"', '"', '"']) {
                        i += 4;
                        continue;
                    }
                    if chars[i] == '\n' {
                        line += 1;
                        line_start = i + 1;
                    }
                    i += 1;
                }
                let raw: String = chars[start..i].iter().collect();
                i += 3;
                tokens.push(Token {
                    kind: TokenKind::Block,
                    value: block_string(&raw.replace("\\\"\"\"", "\"\"\"")),
                    position,
                    comments: std::mem::take(&mut pending),
                });
            }
            '"' => {
                i += 1;
                let mut value = String::new();
                loop {
                    let Some(&c) = chars.get(i) else {
                        return Err(error(
                            "Unexpected <Invalid>".to_string(),
                            i,
                            line,
                            line_start,
                        ));
                    };
                    match c {
                        '"' => {
                            i += 1;
                            break;
                        }
                        '\n' | '\r' => {
                            return Err(error(
                                "Unexpected <Invalid>".to_string(),
                                i,
                                line,
                                line_start,
                            ));
                        }
                        '\\' => {
                            let escaped = chars.get(i + 1).copied();
                            i += 2;
                            match escaped {
                                Some('"') => value.push('"'),
                                Some('\\') => value.push('\\'),
                                Some('/') => value.push('/'),
                                Some('b') => value.push('\u{8}'),
                                Some('f') => value.push('\u{c}'),
                                Some('n') => value.push('\n'),
                                Some('r') => value.push('\r'),
                                Some('t') => value.push('\t'),
                                Some('u') => {
                                    let hex: String = chars.iter().skip(i).take(4).collect();
                                    let code =
                                        u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32);
                                    let Some(code) = code.filter(|_| hex.len() == 4) else {
                                        return Err(error(
                                            format!("Invalid character escape sequence: \\u{hex}"),
                                            i,
                                            line,
                                            line_start,
                                        ));
                                    };
                                    value.push(code);
                                    i += 4;
                                }
                                other => {
                                    return Err(error(
                                        format!(
                                            "Invalid character escape sequence: \\{}",
                                            other.unwrap_or(' ')
                                        ),
                                        i,
                                        line,
                                        line_start,
                                    ));
                                }
                            }
                        }
                        c => {
                            value.push(c);
                            i += 1;
                        }
                    }
                }
                tokens.push(Token {
                    kind: TokenKind::Str,
                    value,
                    position,
                    comments: std::mem::take(&mut pending),
                });
            }
            other => {
                return Err(error(
                    format!("Unexpected {}", describe_char(Some(&other))),
                    i,
                    line,
                    line_start,
                ));
            }
        }
    }
    tokens.push(Token {
        kind: TokenKind::Eof,
        value: String::new(),
        position: Position {
            line,
            column: chars.len() - line_start + 1,
        },
        comments: std::mem::take(&mut pending),
    });
    Ok(tokens)
}

fn describe_char(c: Option<&char>) -> String {
    match c {
        None => "<EOF>".to_string(),
        Some(c) => c.to_string(),
    }
}

/// The GraphQL spec's block string value: common indentation and blank edge lines removed.
fn block_string(raw: &str) -> String {
    let lines: Vec<&str> = raw.split('\n').map(|l| l.trim_end_matches('\r')).collect();
    let indent = lines
        .iter()
        .skip(1)
        .filter(|l| !l.trim_matches([' ', '\t']).is_empty())
        .map(|l| l.len() - l.trim_start_matches([' ', '\t']).len())
        .min()
        .unwrap_or(0);
    let mut out: Vec<String> = lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            if i == 0 {
                (*l).to_string()
            } else {
                l.chars().skip(indent).collect()
            }
        })
        .collect();
    while out
        .first()
        .is_some_and(|l| l.trim_matches([' ', '\t']).is_empty())
    {
        out.remove(0);
    }
    while out
        .last()
        .is_some_and(|l| l.trim_matches([' ', '\t']).is_empty())
    {
        out.pop();
    }
    out.join("\n")
}

/// Recursion past this depth is refused rather than risk the stack on hostile input.
const MAX_DEPTH: usize = 200;

struct Parser {
    tokens: Vec<Token>,
    at: usize,
    depth: usize,
}

type Parsed<T> = Result<T, SyntaxError>;

impl Parser {
    fn new(source: &str) -> Parsed<Parser> {
        Ok(Parser {
            tokens: lex(source)?,
            at: 0,
            depth: 0,
        })
    }

    fn peek(&self) -> &Token {
        &self.tokens[self.at.min(self.tokens.len() - 1)]
    }

    fn next(&mut self) -> Token {
        let token = self.peek().clone();
        if self.at < self.tokens.len() - 1 {
            self.at += 1;
        }
        token
    }

    fn unexpected(&self, token: &Token) -> SyntaxError {
        SyntaxError {
            message: format!("Unexpected {}", token.describe()),
            position: token.position,
        }
    }

    fn is_punct(&self, p: &str) -> bool {
        self.peek().kind
            == TokenKind::Punct(match p {
                "!" => "!",
                "$" => "$",
                "&" => "&",
                "(" => "(",
                ")" => ")",
                ":" => ":",
                "=" => "=",
                "@" => "@",
                "[" => "[",
                "]" => "]",
                "{" => "{",
                "|" => "|",
                "}" => "}",
                _ => "...",
            })
    }

    fn skip_punct(&mut self, p: &str) -> bool {
        if self.is_punct(p) {
            self.next();
            true
        } else {
            false
        }
    }

    fn expect_punct(&mut self, p: &str) -> Parsed<Token> {
        if self.is_punct(p) {
            return Ok(self.next());
        }
        let token = self.peek().clone();
        Err(SyntaxError {
            message: format!("Expected {p}, found {}", token.describe()),
            position: token.position,
        })
    }

    fn expect_name(&mut self) -> Parsed<Token> {
        if self.peek().kind == TokenKind::Name {
            return Ok(self.next());
        }
        let token = self.peek().clone();
        Err(SyntaxError {
            message: format!("Expected Name, found {}", token.describe()),
            position: token.position,
        })
    }

    fn expect_keyword(&mut self, keyword: &str) -> Parsed<Token> {
        if self.peek().kind == TokenKind::Name && self.peek().value == keyword {
            return Ok(self.next());
        }
        let token = self.peek().clone();
        Err(SyntaxError {
            message: format!("Expected \"{keyword}\", found {}", token.describe()),
            position: token.position,
        })
    }

    fn deeper(&mut self) -> Parsed<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            let token = self.peek().clone();
            return Err(SyntaxError {
                message: "document nested too deeply".to_string(),
                position: token.position,
            });
        }
        Ok(())
    }

    fn value(&mut self, constant: bool) -> Parsed<GqlValue> {
        self.deeper()?;
        let token = self.peek().clone();
        let simple = |kind, raw: String| GqlValue {
            kind,
            raw,
            children: Vec::new(),
            position: token.position,
        };
        let value = match &token.kind {
            TokenKind::Punct("[") => {
                self.next();
                let mut children = Vec::new();
                while !self.skip_punct("]") {
                    if self.peek().kind == TokenKind::Eof {
                        return Err(self.unexpected(&self.peek().clone()));
                    }
                    children.push((String::new(), self.value(constant)?));
                }
                GqlValue {
                    kind: ValueKind::List,
                    raw: String::new(),
                    children,
                    position: token.position,
                }
            }
            TokenKind::Punct("{") => {
                self.next();
                let mut children = Vec::new();
                while !self.skip_punct("}") {
                    let name = self.expect_name()?;
                    self.expect_punct(":")?;
                    children.push((name.value, self.value(constant)?));
                }
                GqlValue {
                    kind: ValueKind::Object,
                    raw: String::new(),
                    children,
                    position: token.position,
                }
            }
            TokenKind::Punct("$") if !constant => {
                self.next();
                let name = self.expect_name()?;
                simple(ValueKind::Variable, name.value)
            }
            TokenKind::Int => simple(ValueKind::Int, self.next().value),
            TokenKind::Float => simple(ValueKind::Float, self.next().value),
            TokenKind::Str => simple(ValueKind::String, self.next().value),
            TokenKind::Block => simple(ValueKind::Block, self.next().value),
            TokenKind::Name => {
                let name = self.next().value;
                match name.as_str() {
                    "true" | "false" => simple(ValueKind::Boolean, name),
                    "null" => simple(ValueKind::Null, name),
                    _ => simple(ValueKind::Enum, name),
                }
            }
            _ => return Err(self.unexpected(&token)),
        };
        self.depth -= 1;
        Ok(value)
    }

    fn arguments(&mut self, constant: bool) -> Parsed<Vec<Argument>> {
        let mut arguments = Vec::new();
        if self.skip_punct("(") {
            loop {
                let name = self.expect_name()?;
                self.expect_punct(":")?;
                let value = self.value(constant)?;
                arguments.push(Argument {
                    name: name.value,
                    value,
                    position: name.position,
                });
                if self.skip_punct(")") {
                    break;
                }
            }
        }
        Ok(arguments)
    }

    fn directives(&mut self, constant: bool) -> Parsed<Vec<Directive>> {
        let mut directives = Vec::new();
        while self.is_punct("@") {
            self.next();
            let name = self.expect_name()?;
            directives.push(Directive {
                name: name.value,
                arguments: self.arguments(constant)?,
                position: name.position,
            });
        }
        Ok(directives)
    }

    fn type_ref(&mut self) -> Parsed<TypeRef> {
        self.deeper()?;
        let token = self.peek().clone();
        let mut ty = if self.skip_punct("[") {
            let elem = self.type_ref()?;
            self.expect_punct("]")?;
            TypeRef {
                named: String::new(),
                elem: Some(Box::new(elem)),
                non_null: false,
                position: token.position,
            }
        } else {
            let name = self.expect_name()?;
            TypeRef {
                named: name.value,
                elem: None,
                non_null: false,
                position: token.position,
            }
        };
        if self.skip_punct("!") {
            ty.non_null = true;
        }
        self.depth -= 1;
        Ok(ty)
    }

    fn selection_set(&mut self) -> Parsed<Vec<Selection>> {
        self.deeper()?;
        self.expect_punct("{")?;
        let mut selections = Vec::new();
        loop {
            if self.skip_punct("}") {
                break;
            }
            selections.push(self.selection()?);
        }
        self.depth -= 1;
        Ok(selections)
    }

    fn selection(&mut self) -> Parsed<Selection> {
        if self.is_punct("...") {
            let dots = self.next();
            if self.peek().kind == TokenKind::Name && self.peek().value != "on" {
                let name = self.next();
                return Ok(Selection::FragmentSpread {
                    comment: dots.comments,
                    name: name.value,
                    directives: self.directives(false)?,
                    position: name.position,
                });
            }
            let mut position = dots.position;
            let type_condition = if self.peek().kind == TokenKind::Name && self.peek().value == "on"
            {
                position = self.next().position;
                self.expect_name()?.value
            } else {
                String::new()
            };
            let directives = self.directives(false)?;
            return Ok(Selection::InlineFragment {
                comment: dots.comments,
                type_condition,
                directives,
                selection_set: self.selection_set()?,
                position,
            });
        }
        let first = self.expect_name()?;
        let (alias, name) = if self.skip_punct(":") {
            (first.value, self.expect_name()?.value)
        } else {
            (first.value.clone(), first.value)
        };
        let arguments = self.arguments(false)?;
        let directives = self.directives(false)?;
        let selection_set = if self.is_punct("{") {
            self.selection_set()?
        } else {
            Vec::new()
        };
        Ok(Selection::Field(Field {
            comment: first.comments,
            alias,
            name,
            arguments,
            directives,
            selection_set,
            position: first.position,
        }))
    }

    /// An optional description and the comments before it and after it.
    fn description(&mut self) -> (String, Comments) {
        let mut comments = Comments::default();
        let description = match self.peek().kind {
            TokenKind::Str | TokenKind::Block => {
                let token = self.next();
                comments.before_description = token.comments;
                token.value
            }
            _ => String::new(),
        };
        comments.after_description = self.peek().comments.clone();
        (description, comments)
    }
}

/// Parses an executable document (operations and fragments).
pub(super) fn parse_query(source: &str) -> Result<QueryDocument, SyntaxError> {
    let mut parser = Parser::new(source)?;
    let mut document = QueryDocument::default();
    while parser.peek().kind != TokenKind::Eof {
        let token = parser.peek().clone();
        if parser.is_punct("{") {
            document.operations.push(Operation {
                comment: token.comments.clone(),
                operation: "query".to_string(),
                name: String::new(),
                variables: Vec::new(),
                directives: Vec::new(),
                selection_set: parser.selection_set()?,
                position: token.position,
            });
            continue;
        }
        if token.kind != TokenKind::Name {
            return Err(parser.unexpected(&token));
        }
        match token.value.as_str() {
            "query" | "mutation" | "subscription" => {
                parser.next();
                let name = if parser.peek().kind == TokenKind::Name {
                    parser.next().value
                } else {
                    String::new()
                };
                let mut variables = Vec::new();
                if parser.skip_punct("(") {
                    loop {
                        let dollar = parser.expect_punct("$")?;
                        let variable = parser.expect_name()?.value;
                        parser.expect_punct(":")?;
                        let ty = parser.type_ref()?;
                        let default = if parser.skip_punct("=") {
                            Some(parser.value(true)?)
                        } else {
                            None
                        };
                        variables.push(VariableDefinition {
                            variable,
                            ty,
                            default,
                            directives: parser.directives(true)?,
                            position: dollar.position,
                        });
                        if parser.skip_punct(")") {
                            break;
                        }
                    }
                }
                let directives = parser.directives(false)?;
                document.operations.push(Operation {
                    comment: token.comments.clone(),
                    operation: token.value.clone(),
                    name,
                    variables,
                    directives,
                    selection_set: parser.selection_set()?,
                    position: token.position,
                });
            }
            "fragment" => {
                parser.next();
                let name = parser.expect_name()?;
                if name.value == "on" {
                    return Err(parser.unexpected(&name));
                }
                parser.expect_keyword("on")?;
                let type_condition = parser.expect_name()?.value;
                let directives = parser.directives(false)?;
                document.fragments.push(Fragment {
                    comment: token.comments.clone(),
                    name: name.value,
                    type_condition,
                    directives,
                    selection_set: parser.selection_set()?,
                    position: token.position,
                });
            }
            _ => return Err(parser.unexpected(&token)),
        }
    }
    Ok(document)
}

/// Parses a type-system document (types, directives, schema definitions and extensions).
pub(super) fn parse_schema(source: &str) -> Result<SchemaDocument, SyntaxError> {
    let mut parser = Parser::new(source)?;
    let mut document = SchemaDocument::default();
    while parser.peek().kind != TokenKind::Eof {
        let (description, comments) = parser.description();
        let token = parser.peek().clone();
        if token.kind != TokenKind::Name {
            return Err(parser.unexpected(&token));
        }
        let extend = token.value == "extend";
        if extend {
            parser.next();
        }
        let keyword = parser.peek().clone();
        if keyword.kind != TokenKind::Name {
            return Err(parser.unexpected(&keyword));
        }
        match keyword.value.as_str() {
            "schema" => {
                parser.next();
                let directives = parser.directives(true)?;
                let mut operation_types = Vec::new();
                if parser.skip_punct("{") || !extend {
                    while !parser.skip_punct("}") {
                        let operation = parser.expect_name()?.value;
                        parser.expect_punct(":")?;
                        operation_types.push((operation, parser.expect_name()?.value));
                    }
                }
                let definition = SchemaDefinition {
                    description,
                    directives,
                    operation_types,
                };
                if extend {
                    document.schema_extensions.push(definition);
                } else {
                    document.schema.push(definition);
                }
            }
            "directive" => {
                parser.next();
                parser.expect_punct("@")?;
                let name = parser.expect_name()?.value;
                let arguments = argument_definitions(&mut parser)?;
                let repeatable =
                    parser.peek().kind == TokenKind::Name && parser.peek().value == "repeatable";
                if repeatable {
                    parser.next();
                }
                parser.expect_keyword("on")?;
                parser.skip_punct("|");
                let mut locations = vec![parser.expect_name()?.value];
                while parser.skip_punct("|") {
                    locations.push(parser.expect_name()?.value);
                }
                document.directives.push(DirectiveDefinition {
                    name,
                    description,
                    arguments,
                    repeatable,
                    locations,
                });
            }
            "scalar" | "type" | "interface" | "union" | "enum" | "input" => {
                parser.next();
                let definition = type_definition(
                    &mut parser,
                    &keyword.value,
                    (description, comments),
                    keyword.position,
                )?;
                if extend {
                    document.extensions.push(definition);
                } else {
                    document.definitions.push(definition);
                }
            }
            _ => return Err(parser.unexpected(&keyword)),
        }
    }
    Ok(document)
}

fn argument_definitions(parser: &mut Parser) -> Parsed<Vec<FieldDefinition>> {
    let mut arguments = Vec::new();
    if parser.skip_punct("(") {
        while !parser.skip_punct(")") {
            arguments.push(input_value(parser)?);
        }
    }
    Ok(arguments)
}

/// An argument or input field: `"desc" name: Type = default @directives`.
fn input_value(parser: &mut Parser) -> Parsed<FieldDefinition> {
    let (description, comments) = parser.description();
    let name = parser.expect_name()?;
    parser.expect_punct(":")?;
    let ty = parser.type_ref()?;
    let default = if parser.skip_punct("=") {
        Some(parser.value(true)?)
    } else {
        None
    };
    Ok(FieldDefinition {
        name: name.value,
        description,
        comments,
        arguments: Vec::new(),
        ty,
        default,
        directives: parser.directives(true)?,
    })
}

fn type_definition(
    parser: &mut Parser,
    keyword: &str,
    (description, comments): (String, Comments),
    position: Position,
) -> Parsed<Definition> {
    let name = parser.expect_name()?.value;
    let mut definition = Definition {
        kind: match keyword {
            "scalar" => "SCALAR",
            "type" => "OBJECT",
            "interface" => "INTERFACE",
            "union" => "UNION",
            "enum" => "ENUM",
            _ => "INPUT_OBJECT",
        },
        name,
        description,
        comments,
        directives: Vec::new(),
        interfaces: Vec::new(),
        fields: Vec::new(),
        types: Vec::new(),
        enum_values: Vec::new(),
        position,
    };
    if matches!(keyword, "type" | "interface")
        && parser.peek().kind == TokenKind::Name
        && parser.peek().value == "implements"
    {
        parser.next();
        parser.skip_punct("&");
        definition.interfaces.push(parser.expect_name()?.value);
        while parser.skip_punct("&") {
            definition.interfaces.push(parser.expect_name()?.value);
        }
    }
    definition.directives = parser.directives(true)?;
    match keyword {
        "type" | "interface" if parser.skip_punct("{") => {
            while !parser.is_punct("}") {
                let (description, comments) = parser.description();
                let name = parser.expect_name()?;
                let arguments = argument_definitions(parser)?;
                parser.expect_punct(":")?;
                let ty = parser.type_ref()?;
                definition.fields.push(FieldDefinition {
                    name: name.value,
                    description,
                    comments,
                    arguments,
                    ty,
                    default: None,
                    directives: parser.directives(true)?,
                });
            }
            definition.comments.end_of_definition = parser.next().comments;
        }
        "input" if parser.skip_punct("{") => {
            while !parser.is_punct("}") {
                definition.fields.push(input_value(parser)?);
            }
            definition.comments.end_of_definition = parser.next().comments;
        }
        "union" if parser.skip_punct("=") => {
            parser.skip_punct("|");
            definition.types.push(parser.expect_name()?.value);
            while parser.skip_punct("|") {
                definition.types.push(parser.expect_name()?.value);
            }
        }
        "enum" if parser.skip_punct("{") => {
            while !parser.is_punct("}") {
                let (description, comments) = parser.description();
                let name = parser.expect_name()?.value;
                definition.enum_values.push(EnumValueDefinition {
                    name,
                    description,
                    comments,
                    directives: parser.directives(true)?,
                });
            }
            definition.comments.end_of_definition = parser.next().comments;
        }
        _ => {}
    }
    Ok(definition)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_positions() {
        let error = parse_query("{").expect_err("error");
        assert_eq!(error.message, "Expected Name, found <EOF>");
        assert_eq!(error.position, Position { line: 1, column: 2 });
        let error = parse_query("query { a(x: ) }").expect_err("error");
        assert_eq!(error.message, "Unexpected )");
        assert_eq!(error.position.column, 14);
    }

    #[test]
    fn strips_block_string_indentation() {
        assert_eq!(block_string("\n    a\n      b\n  "), "a\n  b");
    }

    #[test]
    fn deep_nesting_is_an_error() {
        let deep = format!("{}{}", "{a".repeat(500), "}".repeat(500));
        assert!(parse_query(&deep).is_err());
        assert!(parse_query(&"[".repeat(1000)).is_err());
    }
}
