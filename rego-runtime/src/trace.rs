//! What an evaluation records for OPA's `explain=notes`: the notes `trace(msg)` makes and
//! the events OPA's lineage shows leading to them (the top query entered, each rule or
//! function body entered and re-entered for its next solution), numbered by query as OPA's
//! tracer numbers them: the top query is 0, every body entered gets the next number, and an
//! event names the query it happened in and that query's parent.
//!
//! Evaluation order is the engine's, which is not always OPA's: see the engine for what it
//! records and what it cannot.

/// An event's kind, as OPA's `topdown.Op`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TraceOp {
    Enter,
    Redo,
    Note,
}

/// What an event is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TraceNode {
    /// The query of the request (`data.a.b = _` for a data path).
    Query,
    /// A rule or function body; the rule's path as OPA writes it (`data.a.b`).
    Rule(String),
    /// A note: the message is the event's.
    Note,
}

/// Where a rule body or a `trace` call is: the module's file and the 1-based row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceLocation {
    pub file: String,
    pub row: u32,
}

/// One event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceEvent {
    pub op: TraceOp,
    pub query_id: u64,
    pub parent_id: u64,
    pub node: TraceNode,
    /// `None` for the top query, and for notes the engine could not place.
    pub location: Option<TraceLocation>,
    /// A note's message; empty otherwise.
    pub message: String,
}

/// An evaluation's events, in the order they happened. An engine that records only the
/// notes (the Rego engine's regorus path) lists them in the top query, without locations.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Trace {
    pub events: Vec<TraceEvent>,
}

impl Trace {
    /// A trace of the top query only, the start of every trace.
    pub fn started() -> Trace {
        Trace {
            events: vec![TraceEvent {
                op: TraceOp::Enter,
                query_id: 0,
                parent_id: 0,
                node: TraceNode::Query,
                location: None,
                message: String::new(),
            }],
        }
    }

    /// Adds a note made in the top query.
    pub fn note_at_top(&mut self, message: String) {
        self.events.push(TraceEvent {
            op: TraceOp::Note,
            query_id: 0,
            parent_id: 0,
            node: TraceNode::Note,
            location: None,
            message,
        });
    }
}
