//! The compiled evaluator's tracer for OPA's `explain=notes` (see [`crate::trace`]): the
//! machine reports each rule or function body it enters, each solution after which it looks
//! for the next (OPA's `Redo`), each body it leaves and each note; the tracer numbers the
//! bodies as OPA numbers queries and keeps the events. An untraced machine has no tracer.

use super::ir::{Rule, Site};
use crate::Value;
use crate::trace::{Trace, TraceEvent, TraceLocation, TraceNode, TraceOp};

pub(super) struct Tracer {
    trace: Trace,
    /// The bodies running now, innermost last, from the top query (0) down.
    running: Vec<Running>,
    next_id: u64,
    /// While evaluating what OPA would have skipped (see [`exits_early`]): how many bodies
    /// were running when the rule whose definitions are skipped was asked for.
    muted_at: Option<usize>,
}

struct Running {
    id: u64,
    node: TraceNode,
    location: Option<TraceLocation>,
}

impl Tracer {
    pub fn new() -> Tracer {
        Tracer {
            trace: Trace::started(),
            running: vec![Running {
                id: 0,
                node: TraceNode::Query,
                location: None,
            }],
            next_id: 1,
            muted_at: None,
        }
    }

    pub fn finish(self) -> Trace {
        self.trace
    }

    /// The query a new event belongs to and that query's parent.
    fn ids(&self) -> (u64, u64) {
        let mut running = self.running.iter().rev();
        let id = running.next().map_or(0, |r| r.id);
        let parent = running.next().map_or(0, |r| r.id);
        (id, parent)
    }

    fn record(&mut self, op: TraceOp, node: TraceNode, location: Option<TraceLocation>) {
        if self.muted_at.is_some() {
            return;
        }
        let (query_id, parent_id) = self.ids();
        self.trace.events.push(TraceEvent {
            op,
            query_id,
            parent_id,
            node,
            location,
            message: String::new(),
        });
    }

    /// A body of `rule` at `site` starts.
    pub fn enter(&mut self, rule: &Rule, site: Option<&Site>) {
        let node = TraceNode::Rule(rule_path(&rule.path));
        let location = site.map(location);
        self.running.push(Running {
            id: self.next_id,
            node: node.clone(),
            location: location.clone(),
        });
        self.next_id += 1;
        self.record(TraceOp::Enter, node, location);
    }

    /// The running body gave a solution and looks for the next.
    pub fn redo(&mut self) {
        let Some(running) = self.running.last() else {
            return;
        };
        let (node, location) = (running.node.clone(), running.location.clone());
        self.record(TraceOp::Redo, node, location);
    }

    /// The running body is done.
    pub fn exit(&mut self) {
        if self.running.len() > 1 {
            self.running.pop();
        }
        // An error unwinding past the rule that muted: nothing is skipped any more.
        if self.muted_at.is_some_and(|at| at > self.running.len()) {
            self.muted_at = None;
        }
    }

    /// `trace(message)` at `site`, in the running body.
    pub fn note(&mut self, site: &Site, message: &Value) {
        if self.muted_at.is_some() {
            return;
        }
        let Value::String(text) = message else {
            return;
        };
        let (query_id, parent_id) = self.ids();
        self.trace.events.push(TraceEvent {
            op: TraceOp::Note,
            query_id,
            parent_id,
            node: TraceNode::Note,
            location: Some(location(site)),
            message: text.to_string(),
        });
    }

    /// Events stop being kept until [`Tracer::unmute`] at the same level (a rule inside a
    /// muted one neither mutes nor unmutes).
    pub fn mute(&mut self) {
        self.muted_at.get_or_insert(self.running.len());
    }

    pub fn unmute(&mut self) {
        if self.muted_at == Some(self.running.len()) {
            self.muted_at = None;
        }
    }
}

fn location(site: &Site) -> TraceLocation {
    TraceLocation {
        file: site.file.to_string(),
        row: site.row,
    }
}

/// True when OPA stops at the first definition of `rule` that succeeds: every body gives the
/// same constant (OPA's rule index then marks the rule for early exit).
pub(super) fn exits_early(rule: &Rule) -> bool {
    let mut values =
        rule.definitions
            .iter()
            .flat_map(|d| &d.bodies)
            .map(|body| match &body.value {
                None => Some(Value::Bool(true)),
                Some(super::ir::Expr::Const(value)) => Some(value.clone()),
                Some(_) => None,
            });
    let Some(Some(first)) = values.next() else {
        return false;
    };
    values.all(|value| value.as_ref() == Some(&first))
}

/// `data.a.b`, `data.a["b c"]`: a rule path as OPA writes the ref.
fn rule_path(path: &[String]) -> String {
    let mut text = String::from("data");
    for segment in path {
        let mut chars = segment.chars();
        let is_var = chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
        if is_var {
            text.push('.');
            text.push_str(segment);
        } else {
            text.push('[');
            text.push_str(&serde_json::to_string(segment).unwrap_or_default());
            text.push(']');
        }
    }
    text
}
