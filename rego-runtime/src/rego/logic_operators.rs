//! OPA 1.22's logical operators, `a and b` and `a or b` (`import future.keywords.and`,
//! `future.keywords.or` or `rego.v2`), and negated bodies, `not { a; b }`
//! (`future.keywords.not`), which regorus does not parse.
//!
//! Each operand is a body of its own (an expression or `{ statements }`) whose variables stay
//! inside it, and the whole succeeds at most once. Comprehensions give exactly that:
//! - `A and B` becomes `[1 | [1 | A] != []; [1 | B] != []] != []`, where `B` runs only when
//!   `A` succeeded;
//! - `A or B` becomes `[1 | __logic_0 := [1 | A]; __logic_1 := [1 | __logic_0 == []; B];
//!   count(__logic_0) + count(__logic_1) > 0] != []`, where `B` runs only when `A` failed, so
//!   that an error in `B` surfaces only then, as in OPA;
//! - `not { A }` becomes `not [1 | A] != []`.
//!
//! `and` binds tighter than `or`; parentheses group. Only the operators, braces and the
//! layout between operands are replaced, so operands keep their text and lines their numbers.

use super::lexer::{Kind, Token, line_break, matching};
use super::lowering::Edit;

/// Which of the operators a module has imported.
#[derive(Default)]
struct Enabled {
    and: bool,
    or: bool,
    not_body: bool,
}

impl Enabled {
    fn all() -> Enabled {
        Enabled {
            and: true,
            or: true,
            not_body: true,
        }
    }
}

/// True when the module imports negated bodies (`future.keywords.not`, all future keywords, or
/// `rego.v2`): then `not expr` negates all of `expr`, its operands' evaluation included.
pub(super) fn negates_whole_expressions(source: &str, tokens: &[Token]) -> bool {
    imports(source, tokens, &mut Vec::new()).not_body
}

/// The rewrites for a module's (significant) tokens; none unless it imports the operators.
pub(super) fn rewrites(source: &str, tokens: &[Token]) -> Vec<Edit> {
    let mut found = Vec::new();
    let enabled = imports(source, tokens, &mut found);
    if !(enabled.and || enabled.or || enabled.not_body) {
        return found;
    }
    let is_operator = |token: &Token| {
        token.kind == Kind::Ident
            && match token.text(source) {
                "and" => enabled.and,
                "or" => enabled.or,
                _ => false,
            }
    };
    let mut fresh = 0;
    // Operators already part of a rewritten expression (nested ones are rewritten on their own).
    let mut handled = vec![false; tokens.len()];
    // `import future.keywords.and` names the operator; it does not use it.
    for (i, token) in tokens.iter().enumerate() {
        if token.text(source) == "import" {
            for flag in handled.iter_mut().skip(i).take(6) {
                *flag = true;
            }
        }
    }
    for (i, token) in tokens.iter().enumerate() {
        if enabled.not_body
            && token.text(source) == "not"
            && tokens.get(i + 1).is_some_and(|t| t.text(source) == "{")
            && let Some(close) = matching(source, tokens, i + 1)
        {
            found.push(replace(tokens[i + 1], "[1 |"));
            found.push(replace(tokens[close], "] != []"));
        }
        if handled[i] || !is_operator(token) {
            continue;
        }
        let start = span_start(source, tokens, i, &is_operator);
        let end = span_end(source, tokens, i, &is_operator);
        let mut depth = 0usize;
        for (j, token) in tokens.iter().enumerate().take(end + 1).skip(start) {
            match token.text(source) {
                "(" | "[" | "{" => depth += 1,
                ")" | "]" | "}" => depth = depth.saturating_sub(1),
                _ if depth == 0 && is_operator(token) => handled[j] = true,
                _ => {}
            }
        }
        expression(
            source,
            &tokens[start..=end],
            &is_operator,
            &mut fresh,
            &mut found,
        );
    }
    found
}

/// Records the operators the module imports, and removes those imports (regorus rejects them).
fn imports(source: &str, tokens: &[Token], found: &mut Vec<Edit>) -> Enabled {
    let mut enabled = Enabled::default();
    for (i, token) in tokens.iter().enumerate() {
        if token.text(source) != "import" {
            continue;
        }
        let path: Vec<&str> = tokens[i + 1..]
            .iter()
            .take(5)
            .map(|t| t.text(source))
            .collect();
        let last = match path.as_slice() {
            ["rego", ".", "v2", ..] => {
                enabled = Enabled::all();
                i + 3
            }
            [
                "future",
                ".",
                "keywords",
                ".",
                keyword @ ("and" | "or" | "not"),
            ] => {
                match *keyword {
                    "and" => enabled.and = true,
                    "or" => enabled.or = true,
                    _ => enabled.not_body = true,
                }
                i + 5
            }
            // Every future keyword, these included (the import stays: it means more to
            // regorus).
            ["future", ".", "keywords", next, ..] if *next != "." => {
                enabled = Enabled::all();
                continue;
            }
            ["future", ".", "keywords"] => {
                enabled = Enabled::all();
                continue;
            }
            _ => continue,
        };
        found.push(Edit {
            start: token.start,
            end: tokens[last].end,
            text: String::new(),
        });
    }
    enabled
}

fn replace(token: Token, text: &str) -> Edit {
    Edit {
        start: token.start,
        end: token.end,
        text: text.to_string(),
    }
}

/// The first token of the logical expression around the operator at `at`.
fn span_start(
    source: &str,
    tokens: &[Token],
    at: usize,
    is_operator: &dyn Fn(&Token) -> bool,
) -> usize {
    let mut depth = 0usize;
    let mut i = at;
    while i > 0 {
        let previous = &tokens[i - 1];
        if depth == 0
            && line_break(source, previous, &tokens[i])
            && !is_operator(previous)
            && !is_operator(&tokens[i])
        {
            return i;
        }
        match previous.text(source) {
            ")" | "]" | "}" => depth += 1,
            "(" | "[" | "{" if depth == 0 => return i,
            "(" | "[" | "{" => depth -= 1,
            // `not` is not among them: `not x or y` is `(not x) or y`.
            ";" | "|" | "if" | "else" | "with" | ":=" | "=" | "," if depth == 0 => {
                return i;
            }
            _ => {}
        }
        i -= 1;
    }
    0
}

/// The last token of the logical expression around the operator at `at`.
fn span_end(
    source: &str,
    tokens: &[Token],
    at: usize,
    is_operator: &dyn Fn(&Token) -> bool,
) -> usize {
    let mut depth = 0usize;
    let mut i = at;
    while let Some(next) = tokens.get(i + 1) {
        if depth == 0
            && line_break(source, &tokens[i], next)
            && !is_operator(&tokens[i])
            && !is_operator(next)
        {
            return i;
        }
        match next.text(source) {
            "(" | "[" | "{" => depth += 1,
            ")" | "]" | "}" if depth == 0 => return i,
            ")" | "]" | "}" => depth -= 1,
            ";" | "|" | "with" | "else" if depth == 0 => return i,
            _ => {}
        }
        i += 1;
    }
    i
}

/// Splits `tokens` at its top-level tokens for which `split` holds.
fn split_top<'a>(
    source: &str,
    tokens: &'a [Token],
    split: &dyn Fn(&Token) -> bool,
) -> Vec<&'a [Token]> {
    let mut parts = Vec::new();
    let mut depth = 0usize;
    let mut from = 0;
    for (i, token) in tokens.iter().enumerate() {
        match token.text(source) {
            "(" | "[" | "{" => depth += 1,
            ")" | "]" | "}" => depth = depth.saturating_sub(1),
            _ if depth == 0 && split(token) => {
                parts.push(&tokens[from..i]);
                from = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&tokens[from..]);
    parts
}

/// Rewrites one logical expression (`tokens`, from its first operand to its last).
fn expression(
    source: &str,
    tokens: &[Token],
    is_operator: &dyn Fn(&Token) -> bool,
    fresh: &mut usize,
    found: &mut Vec<Edit>,
) {
    let is_or = |t: &Token| is_operator(t) && t.text(source) == "or";
    let is_and = |t: &Token| is_operator(t) && t.text(source) == "and";
    let disjuncts = split_top(source, tokens, &is_or);
    let mut pieces = Pieces::default();
    if disjuncts.len() == 1 {
        conjunction(source, tokens, &is_and, &mut pieces);
    } else {
        let names: Vec<String> = disjuncts
            .iter()
            .map(|_| {
                *fresh += 1;
                format!("__logic_{}", *fresh - 1)
            })
            .collect();
        pieces.generated("[1 | ");
        for (n, disjunct) in disjuncts.iter().enumerate() {
            pieces.generated(&format!("{} := [1 | ", names[n]));
            for earlier in &names[..n] {
                pieces.generated(&format!("{earlier} == []; "));
            }
            conjunction(source, disjunct, &is_and, &mut pieces);
            pieces.generated("]; ");
        }
        let counts: Vec<String> = names.iter().map(|n| format!("count({n})")).collect();
        pieces.generated(&format!("{} > 0] != []", counts.join(" + ")));
    }
    pieces.emit(source, tokens, found);
}

/// `c1 and c2 ...` (or a single operand) as comprehension-body text.
fn conjunction(
    source: &str,
    tokens: &[Token],
    is_and: &dyn Fn(&Token) -> bool,
    pieces: &mut Pieces,
) {
    let conjuncts = split_top(source, tokens, is_and);
    if conjuncts.len() == 1 {
        operand(source, tokens, pieces);
        return;
    }
    pieces.generated("[1 | ");
    for (n, conjunct) in conjuncts.iter().enumerate() {
        if n > 0 {
            pieces.generated("; ");
        }
        pieces.generated("[1 | ");
        operand(source, conjunct, pieces);
        pieces.generated("] != []");
    }
    pieces.generated("] != []");
}

/// One operand as comprehension-body text.
fn operand(source: &str, tokens: &[Token], pieces: &mut Pieces) {
    let (Some(first), Some(last)) = (tokens.first(), tokens.last()) else {
        return;
    };
    // A braced body loses its braces; a parenthesised operand its parentheses, as regorus
    // takes no `with` inside them.
    let enclosed = matches!(first.text(source), "{" | "(")
        && tokens.len() > 2
        && matching(source, tokens, 0) == Some(tokens.len() - 1);
    if enclosed {
        pieces.original(tokens[1].start, tokens[tokens.len() - 2].end);
    } else {
        pieces.original(first.start, last.end);
    }
}

/// The new text of an expression: generated text between ranges of the original.
#[derive(Default)]
struct Pieces {
    list: Vec<Piece>,
}

enum Piece {
    Generated(String),
    Original(usize, usize),
}

impl Pieces {
    fn generated(&mut self, text: &str) {
        if let Some(Piece::Generated(last)) = self.list.last_mut() {
            last.push_str(text);
        } else {
            self.list.push(Piece::Generated(text.to_string()));
        }
    }

    fn original(&mut self, start: usize, end: usize) {
        self.list.push(Piece::Original(start, end));
    }

    /// Each generated piece replaces the source between the original pieces around it
    /// (operators, braces, layout), keeping that stretch's line breaks.
    fn emit(self, source: &str, tokens: &[Token], found: &mut Vec<Edit>) {
        let (Some(first), Some(last)) = (tokens.first(), tokens.last()) else {
            return;
        };
        let mut at = first.start;
        let mut pending: Option<String> = None;
        let mut flush = |pending: &mut Option<String>, start: usize, end: usize| {
            if let Some(text) = pending.take() {
                let breaks = source[start..end].matches('\n').count();
                found.push(Edit {
                    start,
                    end,
                    text: text + &"\n".repeat(breaks),
                });
            }
        };
        for piece in self.list {
            match piece {
                Piece::Generated(text) => pending = Some(text),
                Piece::Original(start, end) => {
                    flush(&mut pending, at, start);
                    at = end;
                }
            }
        }
        flush(&mut pending, at, last.end);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rego::{lexer, lowering};

    fn rewritten(source: &str) -> String {
        let tokens: Vec<Token> = lexer::significant(source);
        lowering::apply(source, rewrites(source, &tokens)).text
    }

    #[test]
    fn and_nests_comprehensions_that_run_in_order() {
        assert_eq!(
            rewritten(
                "package t\nimport future.keywords.and\np if {\n  input.a and { x := 1; x > 0 }\n}\n"
            ),
            "package t\n\np if {\n  [1 | [1 | input.a] != []; [1 | x := 1; x > 0] != []] != []\n}\n"
        );
    }

    #[test]
    fn or_evaluates_later_operands_only_when_earlier_ones_fail() {
        assert_eq!(
            rewritten("package t\nimport rego.v2\np if input.a or input.b and input.c\n"),
            "package t\n\np if [1 | __logic_0 := [1 | input.a]; __logic_1 := [1 | __logic_0 == []; [1 | [1 | input.b] != []; [1 | input.c] != []] != []]; count(__logic_0) + count(__logic_1) > 0] != []\n"
        );
    }

    #[test]
    fn operands_over_lines_keep_the_line_count() {
        let source =
            "package t\nimport future.keywords.or\np if {\n  input.a or\n  input.b\n  true\n}\n";
        let lowered = rewritten(source);
        assert_eq!(lowered.lines().count(), source.lines().count(), "{lowered}");
        assert!(lowered.contains("  true\n}"), "{lowered}");
    }

    #[test]
    fn parenthesised_groups_are_rewritten_on_their_own() {
        assert_eq!(
            rewritten("package t\nimport rego.v2\np if { input.a and (input.b or input.c) }\n"),
            "package t\n\np if { [1 | [1 | input.a] != []; [1 | [1 | __logic_0 := [1 | input.b]; __logic_1 := [1 | __logic_0 == []; input.c]; count(__logic_0) + count(__logic_1) > 0] != []] != []] != [] }\n"
        );
    }

    #[test]
    fn nothing_changes_without_the_import() {
        let source = "package t\np if { and := 1; and == 1 }\n";
        assert_eq!(rewritten(source), source);
    }

    #[test]
    fn negated_bodies() {
        assert_eq!(
            rewritten("package t\nimport future.keywords.not\np if { not { input.a; input.b } }\n"),
            "package t\n\np if { not [1 | input.a; input.b ] != [] }\n"
        );
    }
}
