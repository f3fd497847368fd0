//! The one engine contract: `Engine::prepare` once per policy set, `Prepared::with_data` per data
//! write, `Prepared::evaluate` per request.
//! Front doors and the store see only these types, never an engine's own.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use crate::limits::Limits;
use crate::trace::Trace;
use crate::{Error, Value};

/// Which Rego syntax a module is written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum RegoVersion {
    /// Pre-1.0 syntax (`p { ... }`, no `if` required).
    V0,
    /// OPA 1.x syntax, the default.
    #[default]
    V1,
}

/// One Rego source file as loaded from a bundle, the policy API or a template.
#[derive(Clone, Debug, PartialEq)]
pub struct PolicyModule {
    /// The module's id, as the policy API lists it.
    pub id: String,
    /// The file name error locations give (OPA names bundle modules by their path on disk,
    /// not by their id).
    pub file: String,
    pub source: Arc<str>,
    pub rego_version: RegoVersion,
}

/// What to prepare: every module of a snapshot plus the data document they evaluate against.
#[derive(Clone, Debug, Default)]
pub struct PolicySet {
    pub modules: Vec<PolicyModule>,
    pub data: Value,
    /// Builtins a deployment forbids (Gatekeeper disables `http.send`): calls fail to compile.
    pub disabled_builtins: Vec<String>,
    /// Which OPA's wording conflict errors take.
    pub conflict_messages: ConflictMessages,
}

/// The wording of `eval_conflict_error`, which changed between the OPA releases users run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ConflictMessages {
    /// OPA 1.22: `rule data.p produced conflicting values`, at the rule that conflicted.
    #[default]
    Current,
    /// The OPA inside Gatekeeper 3.23 (1.17): `complete rules must not produce multiple
    /// outputs`, at the first definition of the rule; violation messages carry this text.
    Gatekeeper,
}

impl Default for Value {
    fn default() -> Self {
        Value::empty_object()
    }
}

/// One segment of a `data` path: `/v1/data/a/0` is `[Key("a"), Index(0)]`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum PathSegment {
    Key(String),
    Index(i64),
}

impl fmt::Display for PathSegment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PathSegment::Key(k) => f.write_str(k),
            PathSegment::Index(i) => write!(f, "{i}"),
        }
    }
}

/// What a request asks the engine for.
#[derive(Clone, Copy, Debug)]
pub enum Entrypoint<'a> {
    /// The document at `data.<path>` (rules and base data merged), as `/v1/data` asks.
    Data(&'a [PathSegment]),
    /// An ad-hoc Rego query, as `/v1/query` asks; answered with bindings per solution.
    Query(&'a str),
}

/// The `input` document of a request.
#[derive(Clone, Copy, Debug)]
pub enum Input<'a> {
    /// No input: `input` is undefined inside the policy.
    Undefined,
    /// JSON text, parsed by the engine in its own representation.
    Json(&'a str),
    /// An already-built value.
    Value(&'a Value),
    /// A value already converted for an engine with [`Engine::prepare_input`]: one input
    /// evaluated against many prepared policies (Gatekeeper's templates) is converted once.
    Prepared(&'a PreparedInput),
}

/// An input converted once into an engine's own representation.
#[derive(Clone)]
pub struct PreparedInput {
    /// The value itself, for engines that did not prepare it.
    pub value: Value,
    /// The engine's own form; engines downcast it.
    pub engine_form: Arc<dyn std::any::Any + Send + Sync>,
}

impl fmt::Debug for PreparedInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PreparedInput")
            .field("value", &self.value)
            .finish_non_exhaustive()
    }
}

/// The answer to one evaluation.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// The document at a data path; `None` when it is undefined.
    Document(Option<Value>),
    /// One map of variable bindings per solution of a query.
    Bindings(Vec<BTreeMap<String, Value>>),
}

/// An evaluation's outcome plus what `print()` wrote during it.
#[derive(Clone, Debug, PartialEq)]
pub struct Evaluation {
    pub outcome: Outcome,
    pub prints: Vec<String>,
}

/// Turns a snapshot's policies and data into something that evaluates requests.
pub trait Engine: Send + Sync {
    /// Compiles every module together against `policies.data`.
    ///
    /// Runs once per snapshot, off the request path; everything that can be parsed,
    /// checked or indexed ahead of requests happens here.
    ///
    /// # Errors
    /// [`Error::Compile`] with every problem found, located in the user's source.
    fn prepare(&self, policies: &PolicySet) -> Result<Arc<dyn Prepared>, Error>;

    /// Converts an input once, for many evaluations (see [`Input::Prepared`]).
    fn prepare_input(&self, value: &Value) -> PreparedInput {
        PreparedInput {
            value: value.clone(),
            engine_form: Arc::new(()),
        }
    }
}

/// A snapshot's policies, compiled and ready; shared by every request on that snapshot.
pub trait Prepared: Send + Sync {
    /// Evaluates one request within `limits`.
    ///
    /// # Errors
    /// [`Error::Evaluation`] for a runtime error (a conflict, a strict builtin error, a timeout),
    /// [`Error::Compile`] for a query that does not parse or compile.
    fn evaluate(
        &self,
        entrypoint: Entrypoint<'_>,
        input: Input<'_>,
        limits: &Limits,
    ) -> Result<Evaluation, Error>;

    /// As [`Prepared::evaluate`], also recording what OPA's tracer records for
    /// `explain=notes` (see [`crate::trace`]); an engine that cannot trace records no notes.
    ///
    /// # Errors
    /// As [`Prepared::evaluate`].
    fn evaluate_traced(
        &self,
        entrypoint: Entrypoint<'_>,
        input: Input<'_>,
        limits: &Limits,
    ) -> Result<(Evaluation, Trace), Error> {
        let evaluation = self.evaluate(entrypoint, input, limits)?;
        Ok((evaluation, Trace::started()))
    }

    /// The same modules against another data document, without preparing them again: what a
    /// data write (`PUT /v1/data/...`) needs, thousands of times when kube-mgmt starts.
    ///
    /// Answers exactly as [`Engine::prepare`] on the same modules and `data` would, with no
    /// decision remembered from `self`. The caller still checks `data` against
    /// [`Prepared::rules`] (OPA refuses base data where a rule is defined). Cost: what the
    /// engine needs to swap the document, ideally nothing proportional to the policy or to
    /// the whole document.
    ///
    /// `None` when the engine cannot reuse its preparation for `data`; the caller prepares
    /// anew.
    fn with_data(&self, data: Value) -> Option<Arc<dyn Prepared>> {
        let _ = data;
        None
    }

    /// Every rule of the prepared modules (functions excluded), with where it is defined.
    fn rules(&self) -> &[RuleInfo];

    /// Why this policy's evaluations take the engine's slower, general path, if they do (the
    /// Rego engine names what its compiled evaluator does not support).
    fn slow_path_reason(&self) -> Option<&'static str> {
        None
    }

    /// A hint that evaluations come next: the engine may start bringing the prepared policy
    /// into cache. Returns at once; changes no answer.
    fn warm(&self) {}
}

/// A rule's path under `data` (up to its first dynamic key) and its location.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleInfo {
    /// `["authz", "allow"]` for `data.authz.allow`.
    pub path: Vec<String>,
    pub location: crate::Location,
}
