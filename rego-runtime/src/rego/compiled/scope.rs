//! Names inside one frame (a rule body, a function body or a query): which variables exist
//! in each nested query, which slot each has, and which are bound at the point being compiled.

use std::collections::HashMap;

use regorus::unstable::{AssignOp, Expr as Ast, Literal, LiteralStmt};

use super::ir::{RuleId, RuleKind, Slot};
use super::symbols::{ModuleNames, Symbols, var_name};
use super::syntax::{Nested, statement_names, term_names};
use crate::builtins::{self, Builtin};

/// What a name stands for where it is used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Name {
    /// A variable of this frame.
    Local(Slot),
    /// `input` followed by these steps (an import can stand for `input.review`).
    Input(Vec<String>),
    /// `data` followed by these steps: a rule, a package, or base data.
    Data(Vec<String>),
    /// Nothing yet: a variable the enclosing query has not declared.
    Free,
}

/// What a call calls.
#[derive(Clone, Copy)]
pub(super) enum Callee {
    Function(RuleId),
    Builtin(&'static Builtin),
    /// `print(...)`, evaluated by the evaluator itself.
    Print,
}

/// The variables of one query nested in a frame.
#[derive(Default)]
struct Level {
    names: HashMap<String, Variable>,
    /// The statement (in source order) being placed or compiled: a variable that a later
    /// statement declares (`:=`, `some`) is not yet in scope for it, so a comprehension
    /// written before `x := 2` has an `x` of its own, as in OPA.
    position: usize,
}

#[derive(Clone, Copy)]
struct Variable {
    slot: Slot,
    /// The statement that declares it; `None` for variables bound by unification, function
    /// parameters and `every` variables, which the whole query sees.
    declared_at: Option<usize>,
}

/// The variables of one frame.
pub(super) struct Scope<'a> {
    pub symbols: &'a Symbols,
    names: &'a ModuleNames,
    /// Innermost query last.
    levels: Vec<Level>,
    bound: Vec<bool>,
    /// The name of each slot, for the bindings a query answers with.
    slot_names: Vec<Option<String>>,
}

impl<'a> Scope<'a> {
    pub fn new(symbols: &'a Symbols, names: &'a ModuleNames) -> Scope<'a> {
        Scope {
            symbols,
            names,
            levels: Vec::new(),
            bound: Vec::new(),
            slot_names: Vec::new(),
        }
    }

    /// Slots this frame needs.
    pub fn frame_size(&self) -> u32 {
        self.bound.len() as u32
    }

    /// Enters a nested query.
    pub fn push(&mut self) {
        self.levels.push(Level {
            names: HashMap::new(),
            position: usize::MAX,
        });
    }

    /// Marks statement `position` (in source order) of the innermost query as the one being
    /// placed or compiled; `usize::MAX` for what comes after them all (a rule's head).
    pub fn set_position(&mut self, position: usize) {
        if let Some(level) = self.levels.last_mut() {
            level.position = position;
        }
    }

    /// Leaves the innermost query; its variables' slots stay allocated.
    pub fn pop(&mut self) {
        self.levels.pop();
    }

    /// A new slot, unbound, with no name.
    pub fn temporary(&mut self) -> Slot {
        self.bound.push(false);
        self.slot_names.push(None);
        (self.bound.len() - 1) as Slot
    }

    /// Declares `name` in the innermost query, shadowing any outer variable of that name,
    /// from statement `declared_at` on (`None`: for the whole query).
    pub fn declare(&mut self, name: &str, declared_at: Option<usize>) -> Slot {
        if let Some(known) = self.levels.last().and_then(|level| level.names.get(name)) {
            return known.slot;
        }
        let slot = self.temporary();
        self.slot_names[slot as usize] = Some(name.to_string());
        if let Some(level) = self.levels.last_mut() {
            level
                .names
                .insert(name.to_string(), Variable { slot, declared_at });
        }
        slot
    }

    /// The variables named in the innermost query, with their slots.
    pub fn innermost(&self) -> Vec<(String, Slot)> {
        self.levels
            .last()
            .map(|level| {
                level
                    .names
                    .iter()
                    .map(|(name, v)| (name.clone(), v.slot))
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn is_bound(&self, slot: Slot) -> bool {
        self.bound.get(slot as usize).copied().unwrap_or(false)
    }

    pub fn bind(&mut self, slot: Slot) {
        if let Some(b) = self.bound.get_mut(slot as usize) {
            *b = true;
        }
    }

    /// Which slots are bound, to restore after compiling a nested query whose bindings do
    /// not flow out (`not`, comprehensions, `every`).
    pub fn bound_state(&self) -> Vec<bool> {
        self.bound.clone()
    }

    pub fn restore(&mut self, state: Vec<bool>) {
        let len = self.bound.len();
        self.bound = state;
        self.bound.resize(len, false);
    }

    /// What `name` means here.
    pub fn resolve(&self, name: &str) -> Name {
        for level in self.levels.iter().rev() {
            if let Some(variable) = level.names.get(name)
                && variable.declared_at.is_none_or(|at| at <= level.position)
            {
                return Name::Local(variable.slot);
            }
        }
        match name {
            "input" => return Name::Input(Vec::new()),
            "data" => return Name::Data(Vec::new()),
            _ => {}
        }
        if let Some(package) = &self.names.package {
            let mut path = package.clone();
            path.push(name.to_string());
            if self.symbols.is_exported(&path) {
                return Name::Data(path);
            }
        }
        if let Some(path) = self.names.imports.get(name) {
            let rest = path[1..].to_vec();
            return if path[0] == "input" {
                Name::Input(rest)
            } else {
                Name::Data(rest)
            };
        }
        Name::Free
    }

    /// The function a call of `name` (`f`, `lib.f`, `data.lib.f`, `regex.match`) calls.
    pub fn callee(&self, name: &[String]) -> Option<Callee> {
        if let Name::Data(mut path) = self.resolve(&name[0]) {
            path.extend(name[1..].iter().cloned());
            if let Some(rule) = self.symbols.rule(&path)
                && self.symbols.rules[rule].1 == RuleKind::Function
            {
                return Some(Callee::Function(rule));
            }
        }
        if self.local(&name[0]).is_some() {
            return None;
        }
        let dotted = name.join(".");
        if dotted == "print" {
            return Some(Callee::Print);
        }
        builtins::lookup(&dotted).map(Callee::Builtin)
    }

    /// How many operands `callee` takes, `None` for any number.
    pub fn arity(&self, callee: Callee) -> Option<usize> {
        match callee {
            Callee::Function(rule) => Some(self.symbols.arity(rule)),
            Callee::Builtin(builtin) => Some(usize::from(builtin.arity)),
            Callee::Print => None,
        }
    }

    /// A statement `f(a, out)` calling with one operand more than `f` takes: the call
    /// without its last operand, which is matched against the result (OPA's output form).
    pub fn output_call<'e>(
        &self,
        expr: &'e Ast,
    ) -> Option<(Callee, &'e [regorus::unstable::Ref<Ast>], &'e Ast)> {
        let Ast::Call { fcn, params, .. } = expr else {
            return None;
        };
        let callee = self.callee(&super::symbols::static_path(fcn)?)?;
        let (last, operands) = params.split_last()?;
        (self.arity(callee)? == operands.len()).then_some((callee, operands, last))
    }

    /// True when compiling an ad-hoc query rather than a module's rule.
    pub fn in_query(&self) -> bool {
        self.names.package.is_none()
    }

    /// True when `not expr` negates all of `expr` here (see [`ModuleNames`]).
    pub fn negates_whole_expressions(&self) -> bool {
        self.names.negates_whole_expressions
    }

    /// The slot of a variable name here, if it is one.
    pub fn local(&self, name: &str) -> Option<Slot> {
        match self.resolve(name) {
            Name::Local(slot) => Some(slot),
            _ => None,
        }
    }

    /// Declares the variables of a query about to be compiled: those it declares (`some`,
    /// `:=`), then every other free name it uses outside nested queries. `extra` are terms
    /// compiled in the same query (a rule's head).
    pub fn declare_query(&mut self, stmts: &[LiteralStmt], extra: &[&Ast]) {
        self.set_position(usize::MAX);
        for (at, stmt) in stmts.iter().enumerate() {
            match &stmt.literal {
                Literal::SomeVars { vars, .. } => {
                    for var in vars {
                        self.declare(var.text(), Some(at));
                    }
                }
                Literal::SomeIn { key, value, .. } => {
                    let mut names = Vec::new();
                    if let Some(key) = key {
                        pattern_names(key, &mut names);
                    }
                    pattern_names(value, &mut names);
                    for name in names {
                        self.declare(name, Some(at));
                    }
                }
                Literal::Expr { expr, .. } => {
                    if let Ast::AssignExpr {
                        op: AssignOp::ColEq,
                        lhs,
                        ..
                    } = expr.as_ref()
                    {
                        let mut names = Vec::new();
                        pattern_names(lhs, &mut names);
                        for name in names {
                            self.declare(name, Some(at));
                        }
                    }
                }
                _ => {}
            }
        }
        let mut used = Vec::new();
        for stmt in stmts {
            statement_names(stmt, Nested::Skipped, &mut used);
        }
        for term in extra {
            term_names(term, Nested::Skipped, &mut used);
        }
        for name in used {
            if name != "_" && self.resolve(name) == Name::Free {
                self.declare(name, None);
            }
        }
    }
}

/// Variable names in a pattern (`[a, {"k": b}]`), in order.
pub(super) fn pattern_names<'e>(expr: &'e Ast, out: &mut Vec<&'e str>) {
    match expr {
        Ast::Var { .. } => {
            if let Some(name) = var_name(expr).filter(|n| *n != "_") {
                out.push(name);
            }
        }
        Ast::Array { items, .. } => items.iter().for_each(|i| pattern_names(i, out)),
        Ast::Object { fields, .. } => fields.iter().for_each(|(_, _, v)| pattern_names(v, out)),
        _ => {}
    }
}
