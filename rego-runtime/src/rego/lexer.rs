//! A Rego tokenizer that keeps every byte: the lowering pass rewrites token streams and must
//! leave comments, strings and layout where they were so that locations still point home.

/// The kind of one token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Ident,
    Number,
    /// A `"..."` string or a `` `...` `` raw string.
    String,
    /// An interpolated string `$"..."` or `` $`...` ``.
    Template,
    Comment,
    /// Spaces and tabs.
    Space,
    Newline,
    /// An operator or bracket, one or two characters (`:=`, `==`, `{`).
    Punct,
    /// A byte the tokenizer does not know; left for the parser to report.
    Unknown,
}

/// One token: its kind and where it sits in the source.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Token {
    pub kind: Kind,
    pub start: usize,
    pub end: usize,
}

impl Token {
    pub fn text<'a>(&self, source: &'a str) -> &'a str {
        &source[self.start..self.end]
    }

    /// True for a token the parser does not see (layout and comments).
    pub fn is_trivia(&self) -> bool {
        matches!(self.kind, Kind::Comment | Kind::Space | Kind::Newline)
    }
}

const TWO_CHAR_PUNCT: [&str; 6] = [":=", "==", "!=", "<=", ">=", "|="];

/// Splits `source` into tokens that cover it completely, in order.
pub fn tokenize(source: &str) -> Vec<Token> {
    let bytes = source.as_bytes();
    let mut tokens = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let start = at;
        let byte = bytes[at];
        let kind = match byte {
            b'\n' => {
                at += 1;
                Kind::Newline
            }
            b'\r' if bytes.get(at + 1) == Some(&b'\n') => {
                at += 2;
                Kind::Newline
            }
            b' ' | b'\t' | b'\r' => {
                while at < bytes.len() && matches!(bytes[at], b' ' | b'\t' | b'\r') {
                    at += 1;
                }
                Kind::Space
            }
            b'#' => {
                while at < bytes.len() && bytes[at] != b'\n' {
                    at += 1;
                }
                Kind::Comment
            }
            b'"' => {
                at = skip_quoted(bytes, at + 1);
                Kind::String
            }
            b'`' => {
                at = skip_raw(bytes, at + 1);
                Kind::String
            }
            b'$' if matches!(bytes.get(at + 1), Some(b'"' | b'`')) => {
                at = skip_template(bytes, at + 1);
                Kind::Template
            }
            b if b.is_ascii_alphabetic() || b == b'_' => {
                while at < bytes.len() && (bytes[at].is_ascii_alphanumeric() || bytes[at] == b'_') {
                    at += 1;
                }
                Kind::Ident
            }
            b if b.is_ascii_digit() => {
                at = skip_number(bytes, at);
                Kind::Number
            }
            b if b.is_ascii() => {
                let pair = source.get(at..at + 2).unwrap_or("");
                at += if TWO_CHAR_PUNCT.contains(&pair) { 2 } else { 1 };
                Kind::Punct
            }
            _ => {
                at += source[at..].chars().next().map_or(1, char::len_utf8);
                Kind::Unknown
            }
        };
        tokens.push(Token {
            kind,
            start,
            end: at,
        });
    }
    tokens
}

fn skip_quoted(bytes: &[u8], mut at: usize) -> usize {
    while at < bytes.len() {
        match bytes[at] {
            b'\\' => at += 2,
            b'"' => return at + 1,
            b'\n' => return at,
            _ => at += 1,
        }
    }
    bytes.len()
}

/// A template string from its opening quote: text (with escapes unless raw) and `{expr}`
/// parts, whose expressions may hold strings and braces of their own.
fn skip_template(bytes: &[u8], open: usize) -> usize {
    let quote = bytes[open];
    let mut at = open + 1;
    while at < bytes.len() {
        match bytes[at] {
            // Raw templates escape only `{`.
            b'\\' if quote == b'"' || bytes.get(at + 1) == Some(&b'{') => at += 2,
            b if b == quote => return at + 1,
            b'{' => at = skip_expression(bytes, at + 1),
            b'\n' if quote == b'"' => return at,
            _ => at += 1,
        }
    }
    bytes.len()
}

/// The tokens the parser sees: [`tokenize`] without layout and comments.
pub fn significant(source: &str) -> Vec<Token> {
    tokenize(source)
        .into_iter()
        .filter(|t| !t.is_trivia())
        .collect()
}

/// From just after a `{`, the index just after its matching `}`.
pub(super) fn skip_expression(bytes: &[u8], mut at: usize) -> usize {
    let mut depth = 1;
    while at < bytes.len() {
        match bytes[at] {
            b'"' => at = skip_quoted(bytes, at + 1),
            b'`' => at = skip_raw(bytes, at + 1),
            b'{' => {
                depth += 1;
                at += 1;
            }
            b'}' => {
                depth -= 1;
                at += 1;
                if depth == 0 {
                    return at;
                }
            }
            _ => at += 1,
        }
    }
    bytes.len()
}

fn skip_raw(bytes: &[u8], mut at: usize) -> usize {
    while at < bytes.len() {
        if bytes[at] == b'`' {
            return at + 1;
        }
        at += 1;
    }
    bytes.len()
}

fn skip_number(bytes: &[u8], mut at: usize) -> usize {
    while at < bytes.len() && (bytes[at].is_ascii_digit() || bytes[at] == b'.') {
        at += 1;
    }
    if at < bytes.len() && matches!(bytes[at], b'e' | b'E') {
        let mut exp = at + 1;
        if exp < bytes.len() && matches!(bytes[exp], b'+' | b'-') {
            exp += 1;
        }
        if exp < bytes.len() && bytes[exp].is_ascii_digit() {
            at = exp;
            while at < bytes.len() && bytes[at].is_ascii_digit() {
                at += 1;
            }
        }
    }
    at
}

/// 1-based row and column of byte `offset`, counting columns in characters as OPA does.
pub fn row_col(source: &str, offset: usize) -> (u32, u32) {
    let before = &source[..offset.min(source.len())];
    let row = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let col = before[line_start..].chars().count() + 1;
    (
        u32::try_from(row).unwrap_or(u32::MAX),
        u32::try_from(col).unwrap_or(u32::MAX),
    )
}

/// Where each line of a source starts, to locate many offsets without rescanning.
pub struct Lines {
    starts: Vec<usize>,
}

impl Lines {
    pub fn new(source: &str) -> Lines {
        let mut starts = vec![0];
        starts.extend(source.match_indices('\n').map(|(i, _)| i + 1));
        Lines { starts }
    }

    /// As [`row_col`], in time logarithmic in the number of lines (plus the column's width).
    pub fn row_col(&self, source: &str, offset: usize) -> (u32, u32) {
        let offset = offset.min(source.len());
        let line = self.starts.partition_point(|&start| start <= offset) - 1;
        let col = source[self.starts[line]..offset].chars().count() + 1;
        (
            u32::try_from(line + 1).unwrap_or(u32::MAX),
            u32::try_from(col).unwrap_or(u32::MAX),
        )
    }
}

/// True when a line ends between two tokens.
pub(super) fn line_break(source: &str, before: &Token, after: &Token) -> bool {
    source[before.end..after.start].contains('\n')
}

/// The index of the bracket closing the one at `open`.
pub fn matching(source: &str, tokens: &[Token], open: usize) -> Option<usize> {
    let mut depth = 0;
    for (i, token) in tokens.iter().enumerate().skip(open) {
        match token.text(source) {
            "[" | "(" | "{" => depth += 1,
            "]" | ")" | "}" => {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn covers_every_byte() {
        let source = "package x\n# c\np[\"a\\\"b\"] := `raw` if { x := 1.5e3; y != $\"{x}\" }\n";
        let tokens = tokenize(source);
        let rebuilt: String = tokens.iter().map(|t| t.text(source)).collect();
        assert_eq!(rebuilt, source);
        let kinds: Vec<Kind> = tokens
            .iter()
            .filter(|t| !t.is_trivia())
            .map(|t| t.kind)
            .collect();
        assert!(kinds.contains(&Kind::Template));
        assert!(kinds.contains(&Kind::String));
    }

    #[test]
    fn rows_and_columns_are_one_based() {
        assert_eq!(row_col("ab\ncd", 4), (2, 2));
        let source = "ab\ncd\n\néf";
        let lines = Lines::new(source);
        for offset in 0..=source.len() {
            if source.is_char_boundary(offset) {
                assert_eq!(
                    lines.row_col(source, offset),
                    row_col(source, offset),
                    "{offset}"
                );
            }
        }
    }
}
