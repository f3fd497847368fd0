//! What a builtin sees besides its operands: the evaluation it runs in and what the host
//! provides.
//!
//! An engine makes one [`EvalState`] per evaluation, and every builtin call borrows it
//! together with the engine's [`Host`] as an [`EvalContext`]. A new state allocates nothing.
//! The clock is read and the caches are filled only when a builtin asks for them, so an
//! evaluation that calls no such builtin pays nothing for them.

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use super::args::BuiltinError;
use super::http::HttpSend;
use crate::Value;

/// What the host gives builtins. It is set once per engine and read by every evaluation.
#[derive(Clone, Debug)]
pub struct Host {
    /// What `opa.runtime()` answers.
    runtime: Value,
    /// Whether and where `http.send` sends requests; `None`: it does not.
    http_send: Option<HttpSend>,
}

impl Default for Host {
    /// OPA's shape of `opa.runtime()` (`env`, `version`, `commit`), disclosing nothing: an
    /// embedder that wants policies to see its environment or version passes its own.
    fn default() -> Self {
        Host {
            runtime: Value::object([
                ("commit", Value::string("")),
                ("env", Value::empty_object()),
                ("version", Value::string("")),
            ]),
            http_send: None,
        }
    }
}

impl Host {
    /// This host with `runtime` as the document `opa.runtime()` answers, as OPA's
    /// `{"env": {...}, "version": ..., "commit": ...}`.
    pub fn with_runtime(mut self, runtime: Value) -> Host {
        self.runtime = runtime;
        self
    }

    /// This host with `http.send` sending requests through `http_send` (by default it sends
    /// none, and a valid request is undefined).
    pub fn with_http_send(mut self, http_send: HttpSend) -> Host {
        self.http_send = Some(http_send);
        self
    }

    /// What `opa.runtime()` answers.
    pub fn runtime(&self) -> &Value {
        &self.runtime
    }

    /// Where `http.send` sends requests, if anywhere.
    pub fn http_send(&self) -> Option<&HttpSend> {
        self.http_send.as_ref()
    }
}

/// One evaluation's state, as its builtins share it. Making one allocates nothing.
#[derive(Debug, Default)]
pub struct EvalState {
    /// OPA's `strict-builtin-errors`: a failing builtin raises instead of being undefined.
    strict: bool,
    /// The clock reading every `time.now_ns` of the evaluation answers, taken at the first.
    now_ns: Option<i64>,
    /// Answers kept for the rest of the evaluation, by builtin and key (`rand.intn`,
    /// `uuid.rfc4122` and `http.send` answer a repeated call as they did the first time).
    answers: BTreeMap<(&'static str, Value), Result<Value, BuiltinError>>,
    /// What `print` wrote, in order.
    prints: Vec<String>,
    /// The notes `trace` made, when collected (for `explain=notes`).
    notes: Option<Vec<String>>,
}

impl EvalState {
    /// A state for an evaluation with builtin errors raised (`strict`) or undefined.
    pub fn new(strict: bool) -> EvalState {
        EvalState {
            strict,
            ..EvalState::default()
        }
    }

    /// Starts or stops collecting what `trace` notes. An engine that records notes itself
    /// (with their locations) leaves this off.
    pub fn collect_notes(&mut self, collect: bool) {
        self.notes = collect.then(Vec::new);
    }

    /// Whether builtin errors are raised.
    pub fn strict(&self) -> bool {
        self.strict
    }

    /// What `print` wrote so far, in order; the sink is left empty.
    pub fn take_prints(&mut self) -> Vec<String> {
        std::mem::take(&mut self.prints)
    }

    /// The notes collected so far; empty when not collecting.
    pub fn take_notes(&mut self) -> Vec<String> {
        self.notes.as_mut().map(std::mem::take).unwrap_or_default()
    }
}

/// What a builtin call sees: the evaluation's state and the host's documents.
pub struct EvalContext<'a> {
    host: &'a Host,
    state: &'a mut EvalState,
}

impl<'a> EvalContext<'a> {
    /// The context of calls made in the evaluation `state`, on behalf of `host`.
    pub fn new(host: &'a Host, state: &'a mut EvalState) -> EvalContext<'a> {
        EvalContext { host, state }
    }

    /// Whether builtin errors are raised.
    pub fn strict(&self) -> bool {
        self.state.strict
    }

    /// Nanoseconds since the Unix epoch, read once per evaluation: every call answers the
    /// first call's reading, as OPA reads its clock once per query.
    pub fn now_ns(&mut self) -> i64 {
        *self.state.now_ns.get_or_insert_with(|| {
            let since_epoch = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default();
            // i64 nanoseconds last until the year 2262, as Go's `time.UnixNano`.
            i64::try_from(since_epoch.as_nanos()).unwrap_or(i64::MAX)
        })
    }

    /// The answer `builtin` gave `key` earlier in this evaluation, or `answer`'s, kept for
    /// the rest of it (failures included, as OPA keeps `http.send`'s).
    pub fn remembered(
        &mut self,
        builtin: &'static str,
        key: Value,
        answer: impl FnOnce(&mut EvalContext<'_>) -> Result<Value, BuiltinError>,
    ) -> Result<Value, BuiltinError> {
        if let Some(known) = self.state.answers.get(&(builtin, key.clone())) {
            return known.clone();
        }
        let result = answer(self);
        self.state.answers.insert((builtin, key), result.clone());
        result
    }

    /// Writes one line to the evaluation's print sink.
    pub fn print(&mut self, line: String) {
        self.state.prints.push(line);
    }

    /// Records a `trace` note, when the evaluation collects them.
    pub fn note(&mut self, message: &str) {
        if let Some(notes) = self.state.notes.as_mut() {
            notes.push(message.to_string());
        }
    }

    /// What the host provides.
    pub fn host(&self) -> &'a Host {
        self.host
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_clock_is_read_once_per_evaluation() {
        let host = Host::default();
        let mut state = EvalState::new(false);
        let first = EvalContext::new(&host, &mut state).now_ns();
        std::thread::sleep(std::time::Duration::from_millis(2));
        assert_eq!(EvalContext::new(&host, &mut state).now_ns(), first);
        let mut next = EvalState::new(false);
        assert!(EvalContext::new(&host, &mut next).now_ns() > first);
    }

    #[test]
    fn answers_are_kept_per_builtin_and_key() {
        let host = Host::default();
        let mut state = EvalState::new(false);
        let mut context = EvalContext::new(&host, &mut state);
        let mut calls = 0;
        for _ in 0..2 {
            let answer = context.remembered("b", Value::int(1), |_| {
                calls += 1;
                Ok(Value::int(calls))
            });
            assert_eq!(answer, Ok(Value::int(1)));
        }
        let other = context.remembered("b", Value::int(2), |_| Ok(Value::int(7)));
        assert_eq!(other, Ok(Value::int(7)));
        let failed = context.remembered("c", Value::int(1), |_| Err(BuiltinError::failed("x")));
        assert_eq!(failed, Err(BuiltinError::failed("x")));
        assert_eq!(
            context.remembered("c", Value::int(1), |_| Ok(Value::Null)),
            Err(BuiltinError::failed("x"))
        );
    }

    #[test]
    fn notes_are_kept_only_when_collected() {
        let host = Host::default();
        let mut state = EvalState::new(true);
        EvalContext::new(&host, &mut state).note("dropped");
        state.collect_notes(true);
        EvalContext::new(&host, &mut state).note("kept");
        assert_eq!(state.take_notes(), ["kept"]);
        assert!(state.strict());
    }
}
