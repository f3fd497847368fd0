//! What names mean across a policy: every rule path with its kind, the paths that lead to
//! rules, and per module its package and imports.

use std::collections::{HashMap, HashSet};

use regorus::unstable::{Expr as Ast, Module, Rule as AstRule, RuleHead};

use super::Unsupported;
use super::ir::{Expr, RuleId, RuleKind, Virtual};

/// One step of a reference, as written: `.name` or `["name"]`, or `[expression]`.
pub(super) enum Segment<'a> {
    Field(String),
    Index(&'a Ast),
}

/// A reference taken apart: its first term and the steps after it.
pub(super) struct Flat<'a> {
    pub root: &'a Ast,
    pub segments: Vec<Segment<'a>>,
}

/// `a.b[c]["d"]` as `a` and its steps; a string index counts as a field.
pub(super) fn flatten(expr: &Ast) -> Flat<'_> {
    let mut segments = Vec::new();
    let mut at = expr;
    loop {
        match at {
            Ast::RefDot { refr, field, .. } => {
                segments.push(Segment::Field(
                    field
                        .1
                        .as_string()
                        .map_or_else(|_| String::new(), |s| s.to_string()),
                ));
                at = refr;
            }
            Ast::RefBrack { refr, index, .. } => {
                segments.push(match index.as_ref() {
                    Ast::String { value, .. } | Ast::RawString { value, .. } => Segment::Field(
                        value
                            .as_string()
                            .map_or_else(|_| String::new(), |s| s.to_string()),
                    ),
                    other => Segment::Index(other),
                });
                at = refr;
            }
            _ => break,
        }
    }
    segments.reverse();
    Flat { root: at, segments }
}

/// The name of a variable term.
pub(super) fn var_name(expr: &Ast) -> Option<&str> {
    match expr {
        Ast::Var { value, .. } => value.as_string().ok().map(|s| &**s),
        _ => None,
    }
}

/// A reference made only of names and string steps (`a.b["c"]`), as its names.
pub(super) fn static_path(expr: &Ast) -> Option<Vec<String>> {
    let flat = flatten(expr);
    let mut path = vec![var_name(flat.root)?.to_string()];
    for segment in flat.segments {
        match segment {
            Segment::Field(name) => path.push(name),
            Segment::Index(_) => return None,
        }
    }
    Some(path)
}

/// A rule head taken apart.
pub(super) struct Head<'a> {
    /// Path under `data`, package included.
    pub path: Vec<String>,
    pub kind: RuleKind,
    /// The set member or object key.
    pub key: Option<&'a Ast>,
    /// The value term; `None` means `true`.
    pub value: Option<&'a Ast>,
    /// Function parameters.
    pub args: &'a [regorus::unstable::Ref<Ast>],
}

/// What `rule`'s head defines, in `package`.
pub(super) fn head<'a>(package: &[String], rule: &'a AstRule) -> Result<Head<'a>, Unsupported> {
    let full = |relative: Vec<String>| -> Vec<String> {
        package.iter().cloned().chain(relative).collect()
    };
    let (refr, kind, key, value, args): (_, _, _, _, &[_]) = match rule {
        AstRule::Default {
            refr, args, value, ..
        } => {
            let kind = if args.is_empty() {
                RuleKind::Complete
            } else {
                RuleKind::Function
            };
            (refr, kind, None, Some(value.as_ref()), args)
        }
        AstRule::Spec { head, .. } => match head {
            RuleHead::Compr { refr, assign, .. } => {
                let value = assign.as_ref().map(|a| a.value.as_ref());
                if let Ast::RefBrack {
                    refr: base, index, ..
                } = refr.as_ref()
                    && !matches!(index.as_ref(), Ast::String { .. } | Ast::RawString { .. })
                {
                    let path =
                        static_path(base).ok_or(Unsupported("a rule head with a dynamic step"))?;
                    return Ok(Head {
                        path: full(path),
                        kind: RuleKind::Object,
                        key: Some(index),
                        value,
                        args: &[],
                    });
                }
                (refr, RuleKind::Complete, None, value, &[][..])
            }
            RuleHead::Set { refr, key, .. } => {
                let key = key
                    .as_ref()
                    .ok_or(Unsupported("a set rule without a member"))?;
                (refr, RuleKind::Set, Some(key.as_ref()), None, &[][..])
            }
            RuleHead::Func {
                refr, args, assign, ..
            } => (
                refr,
                RuleKind::Function,
                None,
                assign.as_ref().map(|a| a.value.as_ref()),
                &args[..],
            ),
        },
    };
    let path = static_path(refr).ok_or(Unsupported("a rule head with a dynamic step"))?;
    Ok(Head {
        path: full(path),
        kind,
        key,
        value,
        args,
    })
}

/// A module's package and imports, for resolving its names.
pub(super) struct ModuleNames {
    /// `None` for a query, where bare names are never rules.
    pub package: Option<Vec<String>>,
    /// Import alias to the path it stands for, `input` or `data` first.
    pub imports: HashMap<String, Vec<String>>,
    /// True when the module imports OPA 1.22's negated bodies (`future.keywords.not`, all
    /// of `future.keywords`, or `rego.v2`): `not expr` then negates all of `expr`, operands
    /// included.
    pub negates_whole_expressions: bool,
}

impl ModuleNames {
    /// The names of `module`; `negates_whole_expressions` as its imports say (the lowered
    /// module has lost them).
    pub fn of(
        module: &Module,
        negates_whole_expressions: bool,
    ) -> Result<ModuleNames, Unsupported> {
        let package = static_path(&module.package.refr)
            .ok_or(Unsupported("a package path with a dynamic step"))?;
        let mut imports = HashMap::new();
        for import in &module.imports {
            let path =
                static_path(&import.refr).ok_or(Unsupported("an import with a dynamic step"))?;
            match path.first().map(String::as_str) {
                Some("data" | "input") => {}
                // `future.keywords.*` and `rego.v1` change syntax only.
                _ => continue,
            }
            let alias = match &import.r#as {
                Some(span) => span.text().to_string(),
                None => path.last().cloned().unwrap_or_default(),
            };
            imports.insert(alias, path);
        }
        Ok(ModuleNames {
            package: Some(package),
            imports,
            negates_whole_expressions,
        })
    }

    /// The names of an ad-hoc query: no package, no imports.
    pub fn query() -> ModuleNames {
        ModuleNames {
            package: None,
            imports: HashMap::new(),
            negates_whole_expressions: false,
        }
    }
}

/// Every rule of the policy by path.
pub(super) struct Symbols {
    pub rules: Vec<(Vec<String>, RuleKind)>,
    /// Parameters of each function (0 for other rules).
    arity: Vec<usize>,
    by_path: HashMap<Vec<String>, RuleId>,
    /// Every proper prefix of a rule path (`[]`, `["lib"]` for `lib.f`), and every package
    /// path with its prefixes: a package without rules is still a document (`{}`).
    prefixes: HashSet<Vec<String>>,
    packages: HashSet<Vec<String>>,
    /// Each package path extended by the first name of each of its rules' heads: what a
    /// bare name in that package refers to (a sub-package alone does not count, as in OPA).
    exports: HashSet<Vec<String>>,
}

impl Symbols {
    /// Collects every rule path of `modules`; all definitions of one path must agree on its kind.
    pub fn collect(modules: &[(ModuleNames, &Module)]) -> Result<Symbols, Unsupported> {
        let mut symbols = Symbols {
            rules: Vec::new(),
            arity: Vec::new(),
            by_path: HashMap::new(),
            prefixes: HashSet::new(),
            packages: HashSet::new(),
            exports: HashSet::new(),
        };
        for (names, _) in modules {
            if let Some(package) = &names.package {
                for end in 0..=package.len() {
                    symbols.prefixes.insert(package[..end].to_vec());
                }
                symbols.packages.insert(package.clone());
            }
        }
        for (names, module) in modules {
            let package = names.package.as_deref().unwrap_or_default();
            for rule in &module.policy {
                let head = head(package, rule)?;
                symbols
                    .exports
                    .insert(head.path[..(package.len() + 1).min(head.path.len())].to_vec());
                match symbols.by_path.get(&head.path) {
                    Some(&id) if symbols.rules[id].1 != head.kind => {
                        return Err(Unsupported("one path defined by rules of different kinds"));
                    }
                    Some(&id) if symbols.arity[id] != head.args.len() => {
                        return Err(Unsupported("one function defined with different arities"));
                    }
                    Some(_) => {}
                    None => {
                        symbols
                            .by_path
                            .insert(head.path.clone(), symbols.rules.len());
                        for end in 0..head.path.len() {
                            symbols.prefixes.insert(head.path[..end].to_vec());
                        }
                        symbols.rules.push((head.path, head.kind));
                        symbols.arity.push(head.args.len());
                    }
                }
            }
        }
        if symbols
            .rules
            .iter()
            .any(|(path, _)| symbols.prefixes.contains(path))
        {
            return Err(Unsupported("a rule path inside another rule"));
        }
        Ok(symbols)
    }

    /// The rule at exactly `path`.
    pub fn rule(&self, path: &[String]) -> Option<RuleId> {
        self.by_path.get(path).copied()
    }

    /// How many parameters rule `id` takes (0 unless a function).
    pub fn arity(&self, id: RuleId) -> usize {
        self.arity[id]
    }

    /// True when `path` is a package extended by the first name of one of its rules.
    pub fn is_exported(&self, path: &[String]) -> bool {
        self.exports.contains(path)
    }

    /// True when rules lie strictly below `path`.
    pub fn leads_to_rules(&self, path: &[String]) -> bool {
        self.prefixes.contains(path)
    }

    /// The merged document at `path`, a path that leads to rules or packages.
    pub fn virtual_document(&self, path: Vec<String>) -> Expr {
        // In OPA's order, which its traces and notes show: rule paths sorted (OPA walks its
        // rule tree by sorted keys).
        let mut rules: Vec<RuleId> = self.rules_below(&path).collect();
        rules.sort_by(|a, b| self.rules[*a].0.cmp(&self.rules[*b].0));
        let packages = self
            .packages
            .iter()
            .filter(|package| package.len() > path.len() && package.starts_with(&path))
            .map(|package| package[path.len()..].to_vec())
            .collect();
        Expr::Virtual(Box::new(Virtual {
            path,
            rules,
            packages,
        }))
    }

    /// Every rule strictly below `prefix`, functions included: a package's document has an
    /// object for every package and rule path inside it, even where nothing is defined.
    pub fn rules_below<'s>(&'s self, prefix: &'s [String]) -> impl Iterator<Item = RuleId> + 's {
        self.rules
            .iter()
            .enumerate()
            .filter(move |(_, (path, _))| path.len() > prefix.len() && path.starts_with(prefix))
            .map(|(id, _)| id)
    }
}
