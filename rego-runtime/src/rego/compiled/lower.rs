//! Turns regorus's syntax tree into the compiled form: statements put in an order where
//! each finds its inputs bound, references that iterate split into scans, names resolved.

use regorus::unstable::{
    ArithOp, AssignOp, BinOp, BoolOp, Expr as Ast, Literal, LiteralStmt, Ref as AstRef,
};

use std::collections::HashMap;

use super::Unsupported;
use super::ir::{
    Compare, Every, Expr, Pattern, Print, Query, RuleKind, Site, Slot, Step, TraceCall,
};
use super::negation;
use super::scope::{Callee, Name, Scope};
use super::symbols::{Segment, flatten, static_path, var_name};
use super::syntax::{Nested, term_names};
use crate::builtins::{self, Builtin};
use crate::rego::convert::from_regorus;
use crate::rego::diagnostics;
use crate::{Problem, Value};

/// Compiles the queries and terms of one frame.
pub(super) struct Lowerer<'a> {
    pub scope: Scope<'a>,
    /// Terms already evaluated into a slot, by the address of their syntax node: the
    /// operands of a negated expression, evaluated before the negation (see [`negation`]).
    evaluated: HashMap<usize, Slot>,
    /// OPA's `rego_unsafe_var_error`s found: variables only a negation mentions, which
    /// nothing outside it binds.
    pub unsafe_variables: Vec<Problem>,
}

/// A syntax node's identity while its tree lives.
fn address(expr: &Ast) -> usize {
    std::ptr::from_ref(expr).addr()
}

/// A statement still to be placed; `lhs = rhs` between two arrays is split per element.
enum Pending<'a> {
    Statement(&'a LiteralStmt),
    Unify(&'a Ast, &'a Ast),
}

/// A pending statement and its position in the query's source.
struct Placed<'a> {
    position: usize,
    pending: Pending<'a>,
}

fn unsupported<T>(why: &'static str) -> Result<T, Unsupported> {
    Err(Unsupported(why))
}

impl<'a> Lowerer<'a> {
    pub fn new(scope: Scope<'a>) -> Lowerer<'a> {
        Lowerer {
            scope,
            evaluated: HashMap::new(),
            unsafe_variables: Vec::new(),
        }
    }

    /// Compiles `stmts` as a query nested in the current one (its own variables in a new
    /// level, which the caller pops after compiling the terms that read them).
    pub fn open_query(
        &mut self,
        stmts: &'a [LiteralStmt],
        terms: &[&Ast],
    ) -> Result<Query, Unsupported> {
        self.scope.push();
        self.scope.declare_query(stmts, terms);
        Ok(Query {
            steps: self.schedule(stmts)?,
        })
    }

    /// Places every statement: repeatedly the first one whose needs are met, as OPA does.
    fn schedule(&mut self, stmts: &'a [LiteralStmt]) -> Result<Vec<Step>, Unsupported> {
        let mut pending = Vec::new();
        for (position, stmt) in stmts.iter().enumerate() {
            expand(position, stmt, &mut pending);
        }
        // The slots each statement mentions, for a negation to wait for the statements that
        // bind its variables.
        let mut mentions: Vec<Vec<Slot>> = pending
            .iter()
            .map(|p| {
                self.scope.set_position(p.position);
                match &p.pending {
                    Pending::Statement(stmt) => self.scope.mentions(stmt),
                    Pending::Unify(lhs, rhs) => self.scope.term_mentions(&[lhs, rhs]),
                }
            })
            .collect();
        let mut steps = Vec::new();
        while !pending.is_empty() {
            let ready = (0..pending.len()).find(|&i| {
                let mentioned_elsewhere = |slot: Slot| {
                    mentions
                        .iter()
                        .enumerate()
                        .any(|(j, m)| j != i && m.contains(&slot))
                };
                self.scope.set_position(pending[i].position);
                match &pending[i].pending {
                    Pending::Statement(stmt) => {
                        self.scope.statement_needs(stmt, &mentioned_elsewhere)
                    }
                    Pending::Unify(lhs, rhs) => self.scope.unification_needs(lhs, rhs, &[]),
                }
                .is_empty()
            });
            let Some(i) = ready else {
                return unsupported("a body whose variables cannot all be bound");
            };
            let placed = pending.remove(i);
            mentions.remove(i);
            self.scope.set_position(placed.position);
            match placed.pending {
                Pending::Statement(stmt) => self.statement(stmt, &mut steps)?,
                Pending::Unify(lhs, rhs) => self.unify(lhs, rhs, &mut steps)?,
            }
        }
        self.scope.set_position(usize::MAX);
        Ok(steps)
    }

    fn statement(
        &mut self,
        stmt: &'a LiteralStmt,
        steps: &mut Vec<Step>,
    ) -> Result<(), Unsupported> {
        if stmt.with_mods.is_empty() {
            return self.literal(&stmt.literal, steps);
        }
        let mut replacements = Vec::new();
        for with in &stmt.with_mods {
            let Some(path) = static_path(&with.refr) else {
                return unsupported("`with` on a dynamic path");
            };
            if path[0] != "input" || self.scope.resolve("input") != Name::Input(Vec::new()) {
                return unsupported("`with` on data or a function");
            }
            let mut hoisted = Vec::new();
            let value = self.expr(&with.r#as, &mut hoisted)?;
            if !hoisted.is_empty() {
                return unsupported("`with` a value that iterates");
            }
            replacements.push(super::ir::Replacement {
                path: path[1..].iter().map(Value::string).collect(),
                value,
            });
        }
        let mut body = Vec::new();
        self.literal(&stmt.literal, &mut body)?;
        steps.push(Step::WithInput {
            replacements,
            body: Query { steps: body },
        });
        Ok(())
    }

    fn literal(&mut self, literal: &'a Literal, steps: &mut Vec<Step>) -> Result<(), Unsupported> {
        match literal {
            Literal::SomeVars { .. } => Ok(()),
            Literal::SomeIn {
                key,
                value,
                collection,
                ..
            } => {
                let collection = self.expr(collection, steps)?;
                let key = match key {
                    Some(key) => self.pattern(key, steps)?,
                    None => Pattern::Any,
                };
                let value = self.pattern(value, steps)?;
                steps.push(Step::Scan {
                    collection,
                    key,
                    value,
                });
                Ok(())
            }
            Literal::Expr { expr, .. } => self.expression_statement(expr, steps),
            Literal::NotExpr { expr, span } => {
                self.note_unsafe_variables(expr, span);
                if negation::unsupported(expr) {
                    return unsupported("a negated unary minus");
                }
                let hoisted = if self.scope.negates_whole_expressions() {
                    Vec::new()
                } else {
                    let scope = &self.scope;
                    let is_document =
                        |name: &str| matches!(scope.resolve(name), Name::Data(_) | Name::Input(_));
                    negation::hoisted(
                        expr,
                        &negation::Context {
                            is_document: &is_document,
                            in_query: scope.in_query(),
                        },
                    )
                };
                for term in &hoisted {
                    let value = self.expr(term, steps)?;
                    let slot = self.scope.temporary();
                    self.scope.bind(slot);
                    steps.push(Step::Bind {
                        pattern: Pattern::Bind(slot),
                        value,
                    });
                    self.evaluated.insert(address(term), slot);
                }
                let saved = self.scope.bound_state();
                let mut inner = Vec::new();
                let compiled = self.expression_statement(expr, &mut inner);
                self.scope.restore(saved);
                for term in hoisted {
                    self.evaluated.remove(&address(term));
                }
                compiled?;
                steps.push(Step::Not(Query { steps: inner }));
                Ok(())
            }
            Literal::Every {
                key,
                value,
                domain,
                query,
                ..
            } => {
                let domain = self.expr(domain, steps)?;
                let saved = self.scope.bound_state();
                self.scope.push();
                let key = match key {
                    Some(key) => {
                        let slot = self.scope.declare(key.text(), None);
                        self.scope.bind(slot);
                        Pattern::Bind(slot)
                    }
                    None => Pattern::Any,
                };
                let slot = self.scope.declare(value.text(), None);
                self.scope.bind(slot);
                let body = self.open_query(&query.stmts, &[]);
                self.scope.pop();
                self.scope.pop();
                self.scope.restore(saved);
                steps.push(Step::Every(Box::new(Every {
                    domain,
                    key,
                    value: Pattern::Bind(slot),
                    body: body?,
                })));
                Ok(())
            }
        }
    }

    /// Records the variables of a negated expression that are unbound when it is placed:
    /// OPA rejects them as unsafe (a wildcard there always, as nothing else can bind it;
    /// each occurrence its own error, as OPA reports them). Variables of queries nested in
    /// the expression are that query's own.
    fn note_unsafe_variables(&mut self, expr: &Ast, span: &regorus::unstable::Span) {
        let mut names = Vec::new();
        term_names(expr, Nested::Skipped, &mut names);
        let mut unsafe_names: Vec<&str> = names.into_iter().filter(|n| *n == "_").collect();
        let mut names = Vec::new();
        term_names(expr, Nested::Entered, &mut names);
        for name in names {
            if let Some(slot) = self.scope.local(name)
                && !self.scope.is_bound(slot)
                && !unsafe_names.contains(&name)
            {
                unsafe_names.push(name);
            }
        }
        let location = diagnostics::location(span);
        self.unsafe_variables
            .extend(unsafe_names.into_iter().map(|name| Problem {
                code: "rego_unsafe_var_error",
                message: format!("var {name} is unsafe"),
                location: Some(location.clone()),
            }));
    }

    fn expression_statement(
        &mut self,
        expr: &'a Ast,
        steps: &mut Vec<Step>,
    ) -> Result<(), Unsupported> {
        match expr {
            Ast::AssignExpr {
                op: AssignOp::ColEq,
                lhs,
                rhs,
                ..
            } => {
                if let Some((builtin, operands)) = self.relation_call(rhs) {
                    return self.relation(builtin, operands, lhs, steps);
                }
                let value = self.expr(rhs, steps)?;
                let pattern = self.pattern(lhs, steps)?;
                steps.push(Step::Bind { pattern, value });
                Ok(())
            }
            Ast::AssignExpr {
                op: AssignOp::Eq,
                lhs,
                rhs,
                ..
            } => self.unify(lhs, rhs, steps),
            other => {
                if let Some((callee, operands, output)) = self.scope.output_call(other) {
                    if let Callee::Builtin(builtin) = callee
                        && builtins::is_relation(builtin)
                    {
                        return self.relation(builtin, operands, output, steps);
                    }
                    let args = self.exprs(operands, steps)?;
                    let value = match callee {
                        Callee::Function(rule) => Expr::Function { rule, args },
                        Callee::Builtin(builtin) => Expr::Builtin { builtin, args },
                        Callee::Print => return unsupported("print with an output operand"),
                    };
                    let pattern = self.pattern(output, steps)?;
                    steps.push(Step::Bind { pattern, value });
                    return Ok(());
                }
                let test = self.expr(other, steps)?;
                steps.push(Step::Test(test));
                Ok(())
            }
        }
    }

    /// A call of `builtin`, a relation (`walk(x)`), whose value `output` is matched against:
    /// one solution per member of the array it answers, as OPA iterates a relation.
    fn relation(
        &mut self,
        builtin: &'static Builtin,
        operands: &'a [AstRef<Ast>],
        output: &'a Ast,
        steps: &mut Vec<Step>,
    ) -> Result<(), Unsupported> {
        let args = self.exprs(operands, steps)?;
        let value = self.pattern(output, steps)?;
        steps.push(Step::Scan {
            collection: Expr::Builtin { builtin, args },
            key: Pattern::Any,
            value,
        });
        Ok(())
    }

    /// `expr` when it calls a relation with its declared operands (`walk(x)`).
    fn relation_call(&self, expr: &'a Ast) -> Option<(&'static Builtin, &'a [AstRef<Ast>])> {
        let Ast::Call { fcn, params, .. } = expr else {
            return None;
        };
        match self.scope.callee(&static_path(fcn)?)? {
            Callee::Builtin(builtin)
                if builtins::is_relation(builtin) && params.len() == usize::from(builtin.arity) =>
            {
                Some((builtin, params))
            }
            _ => None,
        }
    }

    /// `lhs = rhs`: a comparison when both sides are known, else a match of the side with
    /// free variables against the other; a relation's solutions each matched (`walk(x) = p`).
    fn unify(
        &mut self,
        lhs: &'a Ast,
        rhs: &'a Ast,
        steps: &mut Vec<Step>,
    ) -> Result<(), Unsupported> {
        for (value, pattern) in [(rhs, lhs), (lhs, rhs)] {
            if let Some((builtin, operands)) = self.relation_call(value) {
                return self.relation(builtin, operands, pattern, steps);
            }
        }
        let mut assumed = Vec::new();
        let mut needs = Vec::new();
        self.scope.eval_needs(lhs, &mut assumed, &mut needs);
        self.scope.eval_needs(rhs, &mut assumed, &mut needs);
        if needs.is_empty() {
            let lhs = self.expr(lhs, steps)?;
            let rhs = self.expr(rhs, steps)?;
            steps.push(Step::Test(Expr::Compare {
                op: Compare::Equal,
                lhs: Box::new(lhs),
                rhs: Box::new(rhs),
            }));
            return Ok(());
        }
        let (value, pattern) = if self.side_needs(rhs, lhs).is_empty() {
            (rhs, lhs)
        } else if self.side_needs(lhs, rhs).is_empty() {
            (lhs, rhs)
        } else {
            return unsupported("a unification with free variables on both sides");
        };
        let value = self.expr(value, steps)?;
        let pattern = self.pattern(pattern, steps)?;
        steps.push(Step::Bind { pattern, value });
        Ok(())
    }

    /// What evaluating `value` and matching `pattern` against it needs.
    fn side_needs(&self, value: &Ast, pattern: &Ast) -> Vec<Slot> {
        let mut assumed = Vec::new();
        let mut needs = Vec::new();
        self.scope.eval_needs(value, &mut assumed, &mut needs);
        self.scope.pattern_needs(pattern, &mut assumed, &mut needs);
        needs
    }

    /// A term a value is matched against: its free variables bind.
    pub fn pattern(
        &mut self,
        expr: &'a Ast,
        steps: &mut Vec<Step>,
    ) -> Result<Pattern, Unsupported> {
        match expr {
            Ast::Var { .. } => match var_name(expr) {
                Some("_") => Ok(Pattern::Any),
                Some(name) => match self.scope.resolve(name) {
                    Name::Local(slot) if !self.scope.is_bound(slot) => {
                        self.scope.bind(slot);
                        Ok(Pattern::Bind(slot))
                    }
                    _ => Ok(Pattern::Equal(self.expr(expr, steps)?)),
                },
                None => unsupported("a variable without a name"),
            },
            Ast::Array { items, .. } => Ok(Pattern::Array(
                items
                    .iter()
                    .map(|item| self.pattern(item, steps))
                    .collect::<Result<_, _>>()?,
            )),
            Ast::Object { fields, .. } => {
                let mut out = Vec::with_capacity(fields.len());
                for (_, key, value) in fields {
                    let key = self.expr(key, steps)?;
                    out.push((key, self.pattern(value, steps)?));
                }
                Ok(Pattern::Object(out))
            }
            other => Ok(Pattern::Equal(self.expr(other, steps)?)),
        }
    }

    /// A term of a rule head: evaluated after the body, iterating nothing.
    pub fn head_term(&mut self, expr: &'a Ast) -> Result<Expr, Unsupported> {
        let mut hoisted = Vec::new();
        let term = self.expr(expr, &mut hoisted)?;
        if !hoisted.is_empty() {
            return unsupported("a rule head that iterates");
        }
        Ok(term)
    }

    /// A value; references that iterate push their scans onto `steps` first.
    pub fn expr(&mut self, expr: &'a Ast, steps: &mut Vec<Step>) -> Result<Expr, Unsupported> {
        if let Some(&slot) = self.evaluated.get(&address(expr)) {
            return Ok(Expr::Local(slot));
        }
        match expr {
            Ast::String { value, .. }
            | Ast::RawString { value, .. }
            | Ast::Number { value, .. }
            | Ast::Bool { value, .. }
            | Ast::Null { value, .. } => match from_regorus(value) {
                Some(value) => Ok(Expr::Const(value)),
                None => unsupported("an undefined literal"),
            },
            Ast::Var { .. } | Ast::RefDot { .. } | Ast::RefBrack { .. } => {
                self.reference(expr, steps)
            }
            Ast::Array { items, .. } => {
                let items = self.exprs(items, steps)?;
                Ok(fold(items, Value::array, Expr::Array))
            }
            Ast::Set { items, .. } => {
                let items = self.exprs(items, steps)?;
                Ok(fold(items, Value::set, Expr::Set))
            }
            Ast::Object { fields, .. } => {
                // OPA builds an object literal in the order of its key terms, and a key equal
                // to an earlier one replaces it (`ast.Object` keeps its keys sorted).
                let mut generated = 0;
                let mut ordered: Vec<_> = fields
                    .iter()
                    .map(|(_, k, v)| (key_term_order(k, &mut generated), k, v))
                    .collect();
                ordered.sort_by(|a, b| a.0.cmp(&b.0));
                // Equal key terms (`{"k": 1, "k": 2}`) are one key already when OPA parses
                // the literal: the last pair is the only one, even if an earlier value is
                // undefined.
                let mut unique: Vec<(KeyOrder, _, _)> = Vec::with_capacity(ordered.len());
                for pair in ordered {
                    if unique.last().is_some_and(|last| last.0 == pair.0) {
                        unique.pop();
                    }
                    unique.push(pair);
                }
                let ordered = unique;
                let mut pairs = Vec::with_capacity(ordered.len());
                for (_, key, value) in ordered {
                    pairs.push((self.expr(key, steps)?, self.expr(value, steps)?));
                }
                if pairs
                    .iter()
                    .all(|(k, v)| matches!((k, v), (Expr::Const(_), Expr::Const(_))))
                {
                    let entries = pairs.into_iter().filter_map(|pair| match pair {
                        (Expr::Const(k), Expr::Const(v)) => Some((k, v)),
                        _ => None,
                    });
                    return Ok(Expr::Const(Value::Object(std::sync::Arc::new(
                        entries.collect(),
                    ))));
                }
                Ok(Expr::Object(pairs))
            }
            Ast::ArrayCompr { term, query, .. } => {
                let (query, mut terms) = self.comprehension(&query.stmts, &[term])?;
                Ok(Expr::ArrayComprehension {
                    term: Box::new(terms.remove(0)),
                    query,
                })
            }
            Ast::SetCompr { term, query, .. } => {
                let (query, mut terms) = self.comprehension(&query.stmts, &[term])?;
                Ok(Expr::SetComprehension {
                    term: Box::new(terms.remove(0)),
                    query,
                })
            }
            Ast::ObjectCompr {
                key, value, query, ..
            } => {
                let (query, mut terms) = self.comprehension(&query.stmts, &[key, value])?;
                let value = terms.remove(1);
                Ok(Expr::ObjectComprehension {
                    key: Box::new(terms.remove(0)),
                    value: Box::new(value),
                    query,
                })
            }
            Ast::Call { params, .. } => self.call(expr, params, steps),
            Ast::UnaryExpr { expr, .. } => self.negative(expr, steps),
            Ast::BinExpr { .. } | Ast::ArithExpr { .. } | Ast::BoolExpr { .. } => {
                let Some((lhs, rhs)) = binary_operands(expr) else {
                    return unsupported("an operator without operands");
                };
                let lhs = self.expr(lhs, steps)?;
                let rhs = self.expr(rhs, steps)?;
                Ok(binary(expr, lhs, rhs))
            }
            Ast::Membership {
                key,
                value,
                collection,
                ..
            } => {
                let mut args = Vec::with_capacity(3);
                if let Some(key) = key {
                    args.push(self.expr(key, steps)?);
                }
                args.push(self.expr(value, steps)?);
                args.push(self.expr(collection, steps)?);
                let name = if args.len() == 3 {
                    "internal.member_3"
                } else {
                    "internal.member_2"
                };
                Ok(operator(name, args))
            }
            Ast::AssignExpr { .. } => unsupported("an assignment used as a value"),
            #[allow(unreachable_patterns, reason = "regorus's optional `or` extension")]
            _ => unsupported("an expression regorus extends Rego with"),
        }
    }

    /// `-expr`. regorus parses `-a + b` as `-(a + b)` (OPA has no `-(...)`, so in a policy OPA
    /// accepts the operand of `-` is always its leftmost term): the minus goes there.
    fn negative(&mut self, expr: &'a Ast, steps: &mut Vec<Step>) -> Result<Expr, Unsupported> {
        if let Some((lhs, rhs)) = binary_operands(expr) {
            let lhs = self.negative(lhs, steps)?;
            let rhs = self.expr(rhs, steps)?;
            return Ok(binary(expr, lhs, rhs));
        }
        let operand = self.expr(expr, steps)?;
        Ok(operator("minus", vec![Expr::Const(Value::int(0)), operand]))
    }

    fn exprs(
        &mut self,
        items: &'a [AstRef<Ast>],
        steps: &mut Vec<Step>,
    ) -> Result<Vec<Expr>, Unsupported> {
        items.iter().map(|item| self.expr(item, steps)).collect()
    }

    /// The query of a comprehension and its terms, in a level of their own.
    fn comprehension(
        &mut self,
        stmts: &'a [LiteralStmt],
        terms: &[&'a AstRef<Ast>],
    ) -> Result<(Query, Vec<Expr>), Unsupported> {
        let saved = self.scope.bound_state();
        let plain: Vec<&Ast> = terms.iter().map(|t| t.as_ref()).collect();
        let result = self.open_query(stmts, &plain).and_then(|query| {
            let terms = terms
                .iter()
                .map(|term| self.head_term(term))
                .collect::<Result<Vec<_>, _>>()?;
            Ok((query, terms))
        });
        self.scope.pop();
        self.scope.restore(saved);
        result
    }

    /// A variable or a reference, resolved: a local, `input`, a rule, a package's merged
    /// document, or base data. Steps over free variables become scans.
    fn reference(&mut self, expr: &'a Ast, steps: &mut Vec<Step>) -> Result<Expr, Unsupported> {
        let flat = flatten(expr);
        let Some(name) = var_name(flat.root) else {
            let base = self.expr(flat.root, steps)?;
            return self.steps_from(base, Vec::new(), flat.segments, steps);
        };
        match self.scope.resolve(name) {
            _ if name == "_" => unsupported("a wildcard used as a value"),
            Name::Local(slot) if self.scope.is_bound(slot) => {
                self.steps_from(Expr::Local(slot), Vec::new(), flat.segments, steps)
            }
            Name::Local(_) | Name::Free => unsupported("a variable used before it is bound"),
            Name::Input(prefix) => {
                let path = prefix.into_iter().map(const_string).collect();
                self.steps_from(Expr::Input, path, flat.segments, steps)
            }
            Name::Data(prefix) => self.data_reference(prefix, flat.segments, steps),
        }
    }

    /// `data.<path>...`: the first rule along the static steps, else the merged document of
    /// the packages the path leads into, else base data.
    fn data_reference(
        &mut self,
        mut path: Vec<String>,
        segments: Vec<Segment<'a>>,
        steps: &mut Vec<Step>,
    ) -> Result<Expr, Unsupported> {
        let symbols = self.scope.symbols;
        let mut rest = segments.into_iter().peekable();
        loop {
            if let Some(rule) = symbols.rule(&path) {
                if symbols.rules[rule].1 == RuleKind::Function {
                    return unsupported("a function used as a value");
                }
                return self.steps_from(Expr::Rule(rule), Vec::new(), rest.collect(), steps);
            }
            if !symbols.leads_to_rules(&path) {
                let path = path.into_iter().map(const_string).collect();
                return self.steps_from(Expr::Data, path, rest.collect(), steps);
            }
            match rest.peek() {
                Some(Segment::Field(name)) => {
                    path.push(name.clone());
                    rest.next();
                }
                _ => {
                    let base = symbols.virtual_document(path);
                    return self.steps_from(base, Vec::new(), rest.collect(), steps);
                }
            }
        }
    }

    /// Applies reference steps to `base`, which already has the constant steps `path`.
    fn steps_from(
        &mut self,
        base: Expr,
        mut path: Vec<Expr>,
        segments: Vec<Segment<'a>>,
        steps: &mut Vec<Step>,
    ) -> Result<Expr, Unsupported> {
        let mut base = base;
        for segment in segments {
            match segment {
                Segment::Field(name) => path.push(const_string(name)),
                Segment::Index(index) => {
                    let free = match var_name(index) {
                        Some("_") => Some(Pattern::Any),
                        Some(name) => match self.scope.resolve(name) {
                            Name::Local(slot) if !self.scope.is_bound(slot) => {
                                self.scope.bind(slot);
                                Some(Pattern::Bind(slot))
                            }
                            _ => None,
                        },
                        None => None,
                    };
                    match free {
                        Some(key) => {
                            let collection = index_expr(base, std::mem::take(&mut path));
                            let value = self.scope.temporary();
                            self.scope.bind(value);
                            steps.push(Step::Scan {
                                collection,
                                key,
                                value: Pattern::Bind(value),
                            });
                            base = Expr::Local(value);
                        }
                        None => path.push(self.expr(index, steps)?),
                    }
                }
            }
        }
        Ok(index_expr(base, path))
    }

    /// A call of a policy function, of a builtin of the table, or of `print`.
    fn call(
        &mut self,
        call: &'a Ast,
        params: &'a [AstRef<Ast>],
        steps: &mut Vec<Step>,
    ) -> Result<Expr, Unsupported> {
        let Ast::Call { fcn, span, .. } = call else {
            return unsupported("a call that is not one");
        };
        let Some(callee) = static_path(fcn).and_then(|name| self.scope.callee(&name)) else {
            return unsupported("a call of a function outside the policy and the table");
        };
        if self
            .scope
            .arity(callee)
            .is_some_and(|arity| arity != params.len())
        {
            return unsupported("a call with the wrong number of operands");
        }
        if let Callee::Builtin(builtin) = callee
            && builtins::is_relation(builtin)
        {
            // OPA iterates a relation wherever it is called; only a statement that matches
            // its value is compiled so (see `relation`).
            return unsupported("a relation's value used inside an expression");
        }
        let mut args = self.exprs(params, steps)?;
        Ok(match callee {
            Callee::Function(rule) => Expr::Function { rule, args },
            Callee::Builtin(builtin) if builtin.name == "trace" && args.len() == 1 => {
                Expr::Trace(Box::new(TraceCall {
                    builtin,
                    message: args.remove(0),
                    site: Site {
                        file: span.source.file().as_str().into(),
                        row: span.line,
                    },
                }))
            }
            Callee::Builtin(builtin) => Expr::Builtin { builtin, args },
            Callee::Print => Expr::Print(Box::new(Print {
                location: format!("{}:{}", span.source.file(), span.line),
                args,
            })),
        })
    }
}

/// Splits `[a, b] = [c, d]` into `a = c` and `b = d`, so each pair is placed on its own.
fn expand<'a>(position: usize, stmt: &'a LiteralStmt, out: &mut Vec<Placed<'a>>) {
    if let Literal::Expr { expr, .. } = &stmt.literal
        && stmt.with_mods.is_empty()
        && let Ast::AssignExpr {
            op: AssignOp::Eq,
            lhs,
            rhs,
            ..
        } = expr.as_ref()
        && let (Ast::Array { items: left, .. }, Ast::Array { items: right, .. }) =
            (lhs.as_ref(), rhs.as_ref())
        && left.len() == right.len()
    {
        split_arrays(position, left, right, out);
        return;
    }
    out.push(Placed {
        position,
        pending: Pending::Statement(stmt),
    });
}

fn split_arrays<'a>(
    position: usize,
    left: &'a [AstRef<Ast>],
    right: &'a [AstRef<Ast>],
    out: &mut Vec<Placed<'a>>,
) {
    for (l, r) in left.iter().zip(right) {
        match (l.as_ref(), r.as_ref()) {
            (Ast::Array { items: a, .. }, Ast::Array { items: b, .. }) if a.len() == b.len() => {
                split_arrays(position, a, b, out)
            }
            (l, r) => out.push(Placed {
                position,
                pending: Pending::Unify(l, r),
            }),
        }
    }
}

fn const_string(name: impl AsRef<str>) -> Expr {
    Expr::Const(Value::string(name))
}

/// A key's place in OPA's term order: type rank, constant value, variable name.
type KeyOrder = (u8, Option<Value>, String);

/// Where OPA's term order puts an object literal's key: constants by type, then value;
/// variables by name; other terms, which OPA's compiler first binds to generated variables
/// (`__local0__`), as those.
fn key_term_order(key: &Ast, generated: &mut usize) -> KeyOrder {
    match key {
        Ast::String { value, .. }
        | Ast::RawString { value, .. }
        | Ast::Number { value, .. }
        | Ast::Bool { value, .. }
        | Ast::Null { value, .. } => {
            let value = from_regorus(value);
            let rank = match &value {
                Some(Value::Null) => 0,
                Some(Value::Bool(_)) => 1,
                Some(Value::Number(_)) => 2,
                _ => 3,
            };
            (rank, value, String::new())
        }
        Ast::Var { .. } => (4, None, var_name(key).unwrap_or_default().to_string()),
        _ => {
            *generated += 1;
            (4, None, format!("__local{generated}__"))
        }
    }
}

/// `base[path...]`, merging into an index `base` already is.
fn index_expr(base: Expr, path: Vec<Expr>) -> Expr {
    if path.is_empty() {
        return base;
    }
    match base {
        Expr::Index {
            base,
            path: mut first,
        } => {
            first.extend(path);
            Expr::Index { base, path: first }
        }
        base => Expr::Index {
            base: Box::new(base),
            path,
        },
    }
}

/// A collection of constants becomes a constant.
fn fold(items: Vec<Expr>, constant: fn(Vec<Value>) -> Value, build: fn(Vec<Expr>) -> Expr) -> Expr {
    if items.iter().all(|item| matches!(item, Expr::Const(_))) {
        let values = items
            .into_iter()
            .filter_map(|item| match item {
                Expr::Const(value) => Some(value),
                _ => None,
            })
            .collect();
        return Expr::Const(constant(values));
    }
    build(items)
}

/// The operands of an arithmetic, set or comparison operator.
fn binary_operands(expr: &Ast) -> Option<(&Ast, &Ast)> {
    match expr {
        Ast::BinExpr { lhs, rhs, .. }
        | Ast::ArithExpr { lhs, rhs, .. }
        | Ast::BoolExpr { lhs, rhs, .. } => Some((lhs, rhs)),
        _ => None,
    }
}

/// The operator `expr` applied to operands already compiled.
fn binary(expr: &Ast, lhs: Expr, rhs: Expr) -> Expr {
    let name = match expr {
        Ast::BinExpr { op, .. } => match op {
            BinOp::Union => "or",
            BinOp::Intersection => "and",
        },
        Ast::ArithExpr { op, .. } => match op {
            ArithOp::Add => "plus",
            ArithOp::Sub => "minus",
            ArithOp::Mul => "mul",
            ArithOp::Div => "div",
            ArithOp::Mod => "rem",
        },
        Ast::BoolExpr { op, .. } => {
            let op = match op {
                BoolOp::Eq => Compare::Equal,
                BoolOp::Ne => Compare::NotEqual,
                BoolOp::Lt => Compare::Less,
                BoolOp::Le => Compare::LessOrEqual,
                BoolOp::Gt => Compare::Greater,
                BoolOp::Ge => Compare::GreaterOrEqual,
            };
            return Expr::Compare {
                op,
                lhs: Box::new(lhs),
                rhs: Box::new(rhs),
            };
        }
        _ => unreachable!("binary() is called on operators only"),
    };
    operator(name, vec![lhs, rhs])
}

/// An operator: the builtin OPA evaluates it with.
fn operator(name: &str, args: Vec<Expr>) -> Expr {
    let builtin: &'static Builtin = builtins::lookup(name).expect("operators are in the table");
    Expr::Builtin { builtin, args }
}
