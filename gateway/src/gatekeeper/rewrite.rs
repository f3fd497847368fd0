//! Gatekeeper's Rego rewriter (frameworks `pkg/regorewriter`), done on source text with the
//! engine's tokenizer so that every row stays where the user wrote it: the template's package
//! becomes `template`, libs move under `libs.lib.*`, `data.lib` refs and imports follow them,
//! and imports and `data` refs outside `data.inventory` and `data.lib` are refused.

use rego_runtime::rego::lexer::{self, Kind, Token};

/// One step of a ref: `.name` / `["name"]`, or anything dynamic (`[x]`, `[0]`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Component {
    Name(String),
    Dynamic(String),
}

/// A ref as the module wrote it, and where a `libs` prefix would go.
#[derive(Clone, Debug)]
pub struct Reference {
    /// The head (`data`, `input`, `future`, ...) and what follows it.
    pub head: String,
    pub components: Vec<Component>,
    /// Byte offset of the first component after the head, and whether it is bracketed.
    second_at: Option<(usize, bool)>,
}

impl Reference {
    /// OPA's `Ref.String()`: `data.a["b-c"][x]`.
    pub fn display(&self) -> String {
        let mut text = self.head.clone();
        for component in &self.components {
            match component {
                Component::Name(name) if is_identifier(name) => {
                    text.push('.');
                    text.push_str(name);
                }
                Component::Name(name) => {
                    text.push('[');
                    text.push_str(&serde_json::to_string(name).unwrap_or_default());
                    text.push(']');
                }
                Component::Dynamic(expr) => {
                    text.push('[');
                    text.push_str(expr);
                    text.push(']');
                }
            }
        }
        text
    }

    /// True when the ref starts with `<head>.<first>`.
    pub fn starts_with(&self, head: &str, first: &str) -> bool {
        self.head == head && self.components.first() == Some(&Component::Name(first.to_string()))
    }

    /// The edit that moves a `data.lib...` ref under `data.libs.lib...`.
    fn libs_edit(&self) -> Option<(usize, &'static str)> {
        self.second_at
            .map(|(at, bracketed)| (at, if bracketed { "[\"libs\"]" } else { "libs." }))
    }
}

/// What a module declares, read from its tokens.
#[derive(Clone, Debug, Default)]
pub struct Outline {
    /// The package path (without `data`) and its byte range.
    pub package: Option<(Vec<Component>, usize, usize)>,
    pub imports: Vec<Reference>,
    /// Every `data` ref in the rules (bare `data` included).
    pub data_refs: Vec<Reference>,
    /// True when a rule (or default, or function) named `violation` is declared.
    pub has_violation: bool,
}

impl Outline {
    /// True when a `data.inventory` ref appears: the module needs the inventory as data.
    pub fn references_inventory(&self) -> bool {
        self.data_refs
            .iter()
            .any(|r| r.starts_with("data", "inventory"))
    }

    /// The package as OPA prints it, `data.lib.x`.
    pub fn package_display(&self) -> String {
        let components = self
            .package
            .as_ref()
            .map(|(c, _, _)| c.clone())
            .unwrap_or_default();
        Reference {
            head: "data".to_string(),
            components,
            second_at: None,
        }
        .display()
    }
}

/// Reads the outline of `source`.
pub fn outline(source: &str) -> Outline {
    let tokens = lexer::significant(source);
    let mut outline = Outline::default();
    let lines = lexer::Lines::new(source);
    let line_of = |t: &Token| lines.row_col(source, t.start).0;
    let mut depth: i32 = 0;
    let mut i = 0;
    while i < tokens.len() {
        let token = tokens[i];
        let text = token.text(source);
        let previous = i.checked_sub(1).map(|p| tokens[p]);
        let starts_line = previous.is_none_or(|p| line_of(&p) != line_of(&token));
        match (token.kind, text) {
            (Kind::Punct, "{" | "[" | "(") => depth += 1,
            (Kind::Punct, "}" | "]" | ")") => depth -= 1,
            (Kind::Ident, "package") if depth == 0 && starts_line && outline.package.is_none() => {
                let (reference, next) = read_ref(source, &tokens, i + 1, true);
                if let Some(reference) = reference {
                    let start = tokens[i + 1].start;
                    let end = tokens[next - 1].end;
                    let mut components = vec![Component::Name(reference.head.clone())];
                    components.extend(reference.components);
                    outline.package = Some((components, start, end));
                }
                i = next;
                continue;
            }
            (Kind::Ident, "import") if depth == 0 && starts_line => {
                let (reference, next) = read_ref(source, &tokens, i + 1, true);
                outline.imports.extend(reference);
                i = next;
                continue;
            }
            (Kind::Ident, "violation")
                if depth == 0
                    && (starts_line || previous.is_some_and(|p| p.text(source) == "default")) =>
            {
                outline.has_violation = true;
            }
            (Kind::Ident, "data") if previous.is_none_or(|p| p.text(source) != ".") => {
                let (reference, next) = read_ref(source, &tokens, i, false);
                outline.data_refs.extend(reference);
                i = next.max(i + 1);
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    outline
}

/// Reads a ref starting at `tokens[at]` (an identifier). Components must touch the token
/// before them (a newline or space ends the ref). Returns the ref and the index after it.
fn read_ref(
    source: &str,
    tokens: &[Token],
    at: usize,
    allow_loose: bool,
) -> (Option<Reference>, usize) {
    let Some(head) = tokens.get(at).filter(|t| t.kind == Kind::Ident) else {
        return (None, at);
    };
    let mut reference = Reference {
        head: head.text(source).to_string(),
        components: Vec::new(),
        second_at: None,
    };
    let mut i = at + 1;
    while let Some(token) = tokens.get(i) {
        let touching = allow_loose || token.start == tokens[i - 1].end;
        match token.text(source) {
            "." if touching => {
                let Some(field) = tokens.get(i + 1).filter(|t| t.kind == Kind::Ident) else {
                    break;
                };
                if reference.components.is_empty() {
                    reference.second_at = Some((field.start, false));
                }
                reference
                    .components
                    .push(Component::Name(field.text(source).to_string()));
                i += 2;
            }
            "[" if touching => {
                let Some(end) = lexer::matching(source, tokens, i) else {
                    break;
                };
                let inner = &tokens[i + 1..end];
                let component = match inner {
                    [only] if only.kind == Kind::String => {
                        match serde_json::from_str::<String>(only.text(source)) {
                            Ok(name) => Component::Name(name),
                            Err(_) => Component::Dynamic(only.text(source).to_string()),
                        }
                    }
                    _ => Component::Dynamic(
                        source[tokens[i + 1].start.min(tokens[end].start)..tokens[end].start]
                            .trim()
                            .to_string(),
                    ),
                };
                if reference.components.is_empty() {
                    reference.second_at = Some((token.start, true));
                }
                reference.components.push(component);
                i = end + 1;
            }
            _ => break,
        }
    }
    (Some(reference), i)
}

fn is_identifier(text: &str) -> bool {
    let mut chars = text.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// How a module is placed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// The template's own module: its package becomes `template`.
    Template,
    /// A lib: its package moves under `libs`.
    Lib,
}

/// A rewrite refusal, worded as the frameworks' regorewriter words it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal(pub String);

/// `checkLibPackages`: a lib's package must be a strict sub-path of `lib`.
///
/// # Errors
/// `invalid lib prefix: path data.lib not found in lib prefixes`.
pub fn check_lib_package(outline: &Outline) -> Result<(), Refusal> {
    let ok = outline.package.as_ref().is_some_and(|(components, _, _)| {
        components.len() > 1 && components[0] == Component::Name("lib".to_string())
    });
    if ok {
        Ok(())
    } else {
        Err(Refusal(format!(
            "invalid lib prefix: path {} not found in lib prefixes",
            outline.package_display()
        )))
    }
}

/// `checkImports`: only `data.lib.*` and `future.*` may be imported.
///
/// # Errors
/// `invalid import: cannot import input: "input.x"` or `invalid import: bad import: "rego.v1"`.
pub fn check_imports(outline: &Outline) -> Result<(), Refusal> {
    for import in &outline.imports {
        let shown = import.display();
        if import.head == "input" {
            return Err(Refusal(format!(
                "invalid import: cannot import input: {shown:?}"
            )));
        }
        let allowed = import.starts_with("data", "lib") || import.head == "future";
        if !allowed {
            return Err(Refusal(format!("invalid import: bad import: {shown:?}")));
        }
    }
    Ok(())
}

/// `checkDataReferences`: every `data` ref must be under `data.inventory` or `data.lib`.
///
/// # Errors
/// `invalid data references: check refs failed on module <file>: disallowed ref data.x, ...`.
pub fn check_data_refs(outline: &Outline, file: &str) -> Result<(), Refusal> {
    let bad: Vec<String> = outline
        .data_refs
        .iter()
        .filter(|r| !(r.starts_with("data", "inventory") || r.starts_with("data", "lib")))
        .map(|r| format!("disallowed ref {}", r.display()))
        .collect();
    if bad.is_empty() {
        Ok(())
    } else {
        Err(Refusal(format!(
            "invalid data references: check refs failed on module {file}: {}",
            bad.join(", ")
        )))
    }
}

/// The package a template's module is renamed to: its rules are `data.template.*`.
pub const TEMPLATE_PACKAGE: &str = "template";

/// Applies the rewrite to a module whose checks passed: package, imports and `data.lib` refs.
pub fn apply(source: &str, outline: &Outline, role: Role) -> String {
    let mut edits: Vec<(usize, usize, String)> = Vec::new();
    if let Some((_, start, end)) = &outline.package {
        match role {
            Role::Template => edits.push((*start, *end, TEMPLATE_PACKAGE.to_string())),
            Role::Lib => edits.push((*start, *start, "libs.".to_string())),
        }
    }
    for reference in outline.imports.iter().chain(&outline.data_refs) {
        if reference.starts_with("data", "lib")
            && let Some((at, text)) = reference.libs_edit()
        {
            edits.push((at, at, text.to_string()));
        }
    }
    edits.sort_by_key(|(start, _, _)| *start);
    let mut out = String::with_capacity(source.len() + 16 * edits.len());
    let mut at = 0;
    for (start, end, text) in edits {
        if start < at {
            continue;
        }
        out.push_str(&source[at..start]);
        out.push_str(&text);
        at = end;
    }
    out.push_str(&source[at..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEMPLATE: &str = "package k8s.x\n\nimport data.lib.helpers\nimport future.keywords.in\n\nviolation[{\"msg\": m}] {\n  data.lib.helpers.f(input.review)\n  x := data.inventory.namespace[ns][\"v1\"]\n  m := \"data.lib in a string\"\n}\n";

    #[test]
    fn rewrites_package_imports_and_lib_refs_keeping_rows() {
        let outline = outline(TEMPLATE);
        assert!(outline.has_violation);
        assert!(outline.references_inventory());
        check_imports(&outline).expect("imports");
        check_data_refs(&outline, "template").expect("refs");
        let out = apply(TEMPLATE, &outline, Role::Template);
        assert_eq!(
            out,
            "package template\n\nimport data.libs.lib.helpers\nimport future.keywords.in\n\nviolation[{\"msg\": m}] {\n  data.libs.lib.helpers.f(input.review)\n  x := data.inventory.namespace[ns][\"v1\"]\n  m := \"data.lib in a string\"\n}\n"
        );
        assert_eq!(out.lines().count(), TEMPLATE.lines().count());
    }

    #[test]
    fn refuses_what_gatekeeper_refuses() {
        let o =
            outline("package x\nimport rego.v1\nviolation contains 1 if { data.foo[x] == data }\n");
        assert_eq!(
            check_imports(&o),
            Err(Refusal("invalid import: bad import: \"rego.v1\"".into()))
        );
        assert_eq!(
            check_data_refs(&o, "template"),
            Err(Refusal(
                "invalid data references: check refs failed on module template: disallowed ref data.foo[x], disallowed ref data".into()
            ))
        );
        let lib = outline("package lib\nf(x) { x }\n");
        assert_eq!(
            check_lib_package(&lib),
            Err(Refusal(
                "invalid lib prefix: path data.lib not found in lib prefixes".into()
            ))
        );
        assert!(!outline("package x\np { true }\n").has_violation);
    }

    #[test]
    fn libs_move_under_libs() {
        let source = "package lib.exempt\n\nis_exempt(c) { data[\"lib\"].other.f(c) }\n";
        let o = outline(source);
        check_lib_package(&o).expect("lib package");
        assert_eq!(
            apply(source, &o, Role::Lib),
            "package libs.lib.exempt\n\nis_exempt(c) { data[\"libs\"][\"lib\"].other.f(c) }\n"
        );
    }
}
