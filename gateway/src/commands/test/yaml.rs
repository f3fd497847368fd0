//! The YAML that `gator test -o yaml` writes. gator passes its results through JSON and then
//! through go-yaml v3's encoder (4-space indent, no line wrapping), so this follows that
//! encoder's choices: key order, indentation, when a string is plain, single- or
//! double-quoted or a literal block, and Go's number formatting.

mod resolve;
mod scalar;

use std::cmp::Ordering;

use scalar::{Analysis, Style};

/// A value as the encoder sees it.
pub enum Node {
    /// A null, boolean or number, already formatted: always written plain.
    Plain(String),
    Str(String),
    Seq(Vec<Node>),
    /// Entries in the order they are written; `flow` asks for `{...}`.
    Map {
        entries: Vec<(String, Node)>,
        flow: bool,
    },
}

/// How numbers came back from gator's JSON round trip: `Int64` inside an `Unstructured`
/// (integers stay int64), `Float64` inside a plain `map[string]interface{}`.
#[derive(Clone, Copy)]
pub enum Numbers {
    Int64,
    Float64,
}

impl Node {
    /// `value` as gator holds it after the round trip; map keys in the encoder's order.
    pub fn from_json(value: &serde_json::Value, numbers: Numbers) -> Node {
        use serde_json::Value as Json;
        match value {
            Json::Null => Node::Plain("null".to_string()),
            Json::Bool(b) => Node::Plain(b.to_string()),
            Json::Number(n) => Node::Plain(number(n, numbers)),
            Json::String(s) => Node::Str(s.clone()),
            Json::Array(items) => {
                Node::Seq(items.iter().map(|i| Node::from_json(i, numbers)).collect())
            }
            Json::Object(map) => {
                let mut entries: Vec<(String, Node)> = map
                    .iter()
                    .map(|(k, v)| (k.clone(), Node::from_json(v, numbers)))
                    .collect();
                entries.sort_by(|a, b| key_order(&a.0, &b.0));
                Node::Map {
                    entries,
                    flow: false,
                }
            }
        }
    }
}

fn number(n: &serde_json::Number, numbers: Numbers) -> String {
    match (numbers, n.as_i64()) {
        (Numbers::Int64, Some(i)) => i.to_string(),
        // JSON integers beyond int64 and every number in a plain map are float64.
        _ => go_float(n.as_f64().unwrap_or(f64::NAN)),
    }
}

/// Go's `strconv.FormatFloat(f, 'g', -1, 64)`, with go-yaml's names for the non-finite.
fn go_float(f: f64) -> String {
    if f.is_nan() {
        ".nan".to_string()
    } else if f.is_infinite() {
        if f > 0.0 { ".inf" } else { "-.inf" }.to_string()
    } else {
        super::go_float::format_g(f)
    }
}

/// go-yaml's map key order: other characters before letters (letters first right after a
/// digit), runs of digits compared as numbers.
pub fn key_order(a: &str, b: &str) -> Ordering {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut digits = false;
    for i in 0..a.len().min(b.len()) {
        if a[i] == b[i] {
            digits = a[i].is_ascii_digit();
            continue;
        }
        let (a_letter, b_letter) = (a[i].is_alphabetic(), b[i].is_alphabetic());
        if a_letter && b_letter {
            return a[i].cmp(&b[i]);
        }
        if a_letter || b_letter {
            let a_first = if digits { a_letter } else { b_letter };
            return if a_first {
                Ordering::Less
            } else {
                Ordering::Greater
            };
        }
        // A number continuing digits before it counts from 1, so leading zeros weigh.
        let mut start = 0i64;
        if a[i] == '0' || b[i] == '0' {
            let nonzero_before = a[..i]
                .iter()
                .rev()
                .take_while(|c| c.is_ascii_digit())
                .any(|c| *c != '0');
            if nonzero_before {
                start = 1;
            }
        }
        let run = |s: &[char]| {
            s[i..]
                .iter()
                .take_while(|c| c.is_ascii_digit())
                .fold((start, 0usize), |(n, len), c| {
                    let d = i64::from(u32::from(*c) - u32::from('0'));
                    (n.wrapping_mul(10).wrapping_add(d), len + 1)
                })
        };
        let (a_number, a_len) = run(&a);
        let (b_number, b_len) = run(&b);
        return a_number
            .cmp(&b_number)
            .then(a_len.cmp(&b_len))
            .then(a[i].cmp(&b[i]));
    }
    a.len().cmp(&b.len())
}

/// The encoder's document for `root`, ending with a newline.
pub fn document(root: &Node) -> String {
    let mut emitter = Emitter {
        out: String::new(),
        column: 0,
        indent: -1,
        whitespace: true,
        indention: true,
        flow_level: 0,
    };
    emitter.node(root, Place::Root);
    emitter.write_indent();
    emitter.out
}

/// Where a node sits: decides its indentation and whether a key may be written plain.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Place {
    Root,
    /// An item of a block sequence: nested content indents past the `- `.
    BlockItem,
    SimpleKey,
    /// A value, a flow item or a `? ` key.
    Other,
}

struct Emitter {
    out: String,
    /// In characters, as the encoder counts.
    column: usize,
    indent: i64,
    whitespace: bool,
    indention: bool,
    flow_level: usize,
}

impl Emitter {
    fn node(&mut self, node: &Node, place: Place) {
        match node {
            Node::Plain(text) => self.scalar(text, Style::Plain, place),
            Node::Str(text) => self.scalar(text, scalar::requested_style(text), place),
            Node::Seq(items) if items.is_empty() || self.flow_level > 0 => {
                self.flow_seq(items, place);
            }
            Node::Seq(items) => self.block_seq(items, place),
            Node::Map { entries, flow } if *flow || entries.is_empty() || self.flow_level > 0 => {
                self.flow_map(entries, place);
            }
            Node::Map { entries, .. } => self.block_map(entries, place),
        }
    }

    /// Pushes the indentation for a node at `place`; returns the one to restore.
    fn increase_indent(&mut self, flow: bool, place: Place) -> i64 {
        let saved = self.indent;
        self.indent = if self.indent < 0 {
            if flow { 4 } else { 0 }
        } else if place == Place::BlockItem {
            self.indent + 2
        } else {
            4 * ((self.indent + 4) / 4)
        };
        saved
    }

    fn block_seq(&mut self, items: &[Node], place: Place) {
        let saved = self.increase_indent(false, place);
        for item in items {
            self.write_indent();
            self.indicator("-", true, false, true);
            self.node(item, Place::BlockItem);
        }
        self.indent = saved;
    }

    fn flow_seq(&mut self, items: &[Node], place: Place) {
        self.indicator("[", true, true, false);
        let saved = self.increase_indent(true, place);
        self.flow_level += 1;
        for (index, item) in items.iter().enumerate() {
            if index > 0 {
                self.indicator(",", false, false, false);
            }
            self.node(item, Place::Other);
        }
        self.flow_level -= 1;
        self.indent = saved;
        self.indicator("]", false, false, false);
    }

    fn block_map(&mut self, entries: &[(String, Node)], place: Place) {
        let saved = self.increase_indent(false, place);
        for (key, value) in entries {
            self.write_indent();
            if is_simple_key(key) {
                self.node(&Node::Str(key.clone()), Place::SimpleKey);
                self.indicator(":", false, false, false);
            } else {
                self.indicator("?", true, false, true);
                self.node(&Node::Str(key.clone()), Place::Other);
                self.write_indent();
                self.indicator(":", true, false, true);
            }
            self.node(value, Place::Other);
        }
        self.indent = saved;
    }

    fn flow_map(&mut self, entries: &[(String, Node)], place: Place) {
        self.indicator("{", true, true, false);
        let saved = self.increase_indent(true, place);
        self.flow_level += 1;
        for (index, (key, value)) in entries.iter().enumerate() {
            if index > 0 {
                self.indicator(",", false, false, false);
            }
            if is_simple_key(key) {
                self.node(&Node::Str(key.clone()), Place::SimpleKey);
                self.indicator(":", false, false, false);
            } else {
                self.indicator("?", true, false, false);
                self.node(&Node::Str(key.clone()), Place::Other);
                self.indicator(":", true, false, false);
            }
            self.node(value, Place::Other);
        }
        self.flow_level -= 1;
        self.indent = saved;
        self.indicator("}", false, false, false);
    }

    fn scalar(&mut self, text: &str, requested: Style, place: Place) {
        let analysis = Analysis::of(text);
        let style = analysis.select(
            requested,
            text.is_empty(),
            self.flow_level > 0,
            place == Place::SimpleKey,
        );
        let saved = self.increase_indent(true, place);
        match style {
            Style::Plain => self.plain(text),
            Style::Single => self.single_quoted(text),
            Style::Double => self.double_quoted(text),
            Style::Literal => self.literal(text),
        }
        self.indent = saved;
    }

    fn put(&mut self, c: char) {
        self.out.push(c);
        self.column += 1;
    }

    fn put_break(&mut self) {
        self.out.push('\n');
        self.column = 0;
        self.indention = true;
    }

    /// A line break from the text: `\n` as a newline, other breaks copied.
    fn write_break(&mut self, c: char) {
        if c == '\n' {
            self.put_break();
        } else {
            self.out.push(c);
            self.column = 0;
            self.indention = true;
        }
    }

    fn write_indent(&mut self) {
        let indent = usize::try_from(self.indent.max(0)).unwrap_or(0);
        if !self.indention || self.column > indent || (self.column == indent && !self.whitespace) {
            self.put_break();
        }
        while self.column < indent {
            self.put(' ');
        }
        self.whitespace = true;
    }

    fn indicator(
        &mut self,
        text: &str,
        need_whitespace: bool,
        is_whitespace: bool,
        is_indention: bool,
    ) {
        if need_whitespace && !self.whitespace {
            self.put(' ');
        }
        text.chars().for_each(|c| self.put(c));
        self.whitespace = is_whitespace;
        self.indention = self.indention && is_indention;
    }

    fn plain(&mut self, text: &str) {
        if !text.is_empty() && !self.whitespace {
            self.put(' ');
        }
        self.text_lines(text, false);
        if !text.is_empty() {
            self.whitespace = false;
        }
        self.indention = false;
    }

    fn single_quoted(&mut self, text: &str) {
        self.indicator("'", true, false, false);
        self.text_lines(text, true);
        self.indicator("'", false, false, false);
        self.whitespace = false;
        self.indention = false;
    }

    /// Plain or single-quoted text; a `\n` break is doubled, as folding needs.
    fn text_lines(&mut self, text: &str, quoted: bool) {
        let mut breaks = false;
        for c in text.chars() {
            if scalar::is_break(c) {
                if !breaks && c == '\n' {
                    self.put_break();
                }
                self.write_break(c);
                breaks = true;
            } else {
                if breaks {
                    self.write_indent();
                }
                if quoted && c == '\'' {
                    self.put('\'');
                }
                self.put(c);
                if c != ' ' {
                    self.indention = false;
                }
                breaks = false;
            }
        }
    }

    fn double_quoted(&mut self, text: &str) {
        self.indicator("\"", true, false, false);
        // The encoder tests for a byte order mark at the start of the text on every
        // character: text that starts with one is escaped throughout.
        let bom = text.starts_with('\u{feff}');
        for c in text.chars() {
            if bom || !scalar::is_printable(c) || scalar::is_break(c) || c == '"' || c == '\\' {
                scalar::escape(c).chars().for_each(|e| self.put(e));
            } else {
                self.put(c);
            }
        }
        self.indicator("\"", false, false, false);
        self.whitespace = false;
        self.indention = false;
    }

    fn literal(&mut self, text: &str) {
        self.indicator("|", true, false, false);
        if text.starts_with(' ') || text.chars().next().is_some_and(scalar::is_break) {
            self.indicator("4", false, false, false);
        }
        if let Some(chomp) = scalar::chomping(text) {
            self.indicator(chomp, false, false, false);
        }
        self.put_break();
        self.whitespace = true;
        let mut breaks = true;
        for c in text.chars() {
            if scalar::is_break(c) {
                self.write_break(c);
                breaks = true;
            } else {
                if breaks {
                    self.write_indent();
                }
                self.put(c);
                self.indention = false;
                breaks = false;
            }
        }
    }
}

/// A key written in place (not after `? `): one line, at most 128 bytes.
fn is_simple_key(key: &str) -> bool {
    !Analysis::of(key).multiline && key.len() <= 128
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(entries: Vec<(&str, Node)>, flow: bool) -> Node {
        Node::Map {
            entries: entries
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
            flow,
        }
    }

    fn text(s: &str) -> Node {
        Node::Str(s.to_string())
    }

    #[test]
    fn keys_sort_as_go_yaml_sorts_them() {
        let mut keys = vec!["b", "a10", "a2", "A", "_x", "a", "a02"];
        keys.sort_by(|a, b| key_order(a, b));
        assert_eq!(keys, ["_x", "A", "a", "a2", "a02", "a10", "b"]);
    }

    #[test]
    fn block_then_flow_with_four_space_indents() {
        let item = |flow| {
            map(
                vec![
                    (
                        "spec",
                        map(
                            vec![
                                (
                                    "kinds",
                                    Node::Seq(vec![map(
                                        vec![("a", text("x")), ("b", Node::Seq(vec![text("z")]))],
                                        false,
                                    )]),
                                ),
                                ("empty", Node::Seq(vec![])),
                                ("note", text("two\nlines")),
                            ],
                            false,
                        ),
                    ),
                    ("trace", Node::Plain("null".to_string())),
                ],
                flow,
            )
        };
        let out = document(&Node::Seq(vec![item(false), item(true)]));
        assert_eq!(
            out,
            "- spec:\n    kinds:\n        - a: x\n          b:\n            - z\n    empty: []\n    note: |-\n        two\n        lines\n  trace: null\n\
             - {spec: {kinds: [{a: x, b: [z]}], empty: [], note: \"two\\nlines\"}, trace: null}\n"
        );
        assert_eq!(document(&Node::Seq(vec![])), "[]\n");
    }
}
