//! `?explain=`: the explanation OPA adds to `/v1/data` and `/v1/query` answers. The gateway
//! answers `notes`: the engine's trace (see `rego_runtime::trace`) filtered as OPA's
//! `lineage.Notes` filters it, then written as `types.NewTraceV1` writes it, as events or,
//! with `pretty`, as `topdown.PrettyTraceWithLocation`'s lines. `fails`, `full` and `debug`
//! list every expression with OPA's syntax tree and bindings, which the gateway does not have:
//! they are refused rather than answered with less than they promise.

mod pretty;

use std::collections::HashMap;

use rego_runtime::{Trace, TraceEvent, TraceNode, TraceOp};

pub use self::pretty::TopQuery;
use super::error::ApiError;
use super::wire::{Explanation, TraceEventV1};
use crate::http::Query;

/// The explanation a request asks for (only `notes` is answered).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Notes;

/// OPA's `getExplain`: the first `explain` value naming a mode decides; other values are
/// ignored, and so is the parameter when the query string is empty.
///
/// # Errors
/// 400 for `fails`, `full` and `debug`.
pub fn requested(query: &Query) -> Result<Option<Notes>, ApiError> {
    for value in query.all("explain") {
        match value {
            "notes" => return Ok(Some(Notes)),
            "fails" | "full" | "debug" => {
                return Err(ApiError::BadRequest(format!(
                    "explain={value} is not supported by this gateway (explain=notes is)"
                )));
            }
            _ => {}
        }
    }
    Ok(None)
}

/// The `explanation` member for `trace`.
pub fn explanation(trace: &Trace, top: &TopQuery, pretty: bool) -> Explanation {
    let events = notes_lineage(&trace.events);
    if pretty {
        Explanation::Pretty(pretty::lines(&events, top))
    } else {
        Explanation::Raw(events.iter().map(|event| raw_event(event)).collect())
    }
}

/// OPA's `lineage.Notes`: each note, preceded by the latest `Enter` or `Redo` of its query
/// and of each query above it that happened since the note before.
fn notes_lineage(events: &[TraceEvent]) -> Vec<&TraceEvent> {
    let mut kept = Vec::new();
    let mut latest: HashMap<u64, &TraceEvent> = HashMap::new();
    for event in events {
        if event.op == TraceOp::Note {
            let mut path = vec![event];
            let mut current = latest.get(&event.query_id).copied();
            let mut previous: Option<&TraceEvent> = None;
            while let Some(at) = current {
                if previous.is_some_and(|p| std::ptr::eq(p, at)) {
                    break;
                }
                path.push(at);
                previous = Some(at);
                current = latest.get(&at.parent_id).copied();
            }
            kept.extend(path.into_iter().rev());
            latest.clear();
        }
        if matches!(event.op, TraceOp::Enter | TraceOp::Redo)
            && matches!(event.node, TraceNode::Query | TraceNode::Rule(_))
        {
            latest.insert(event.query_id, event);
        }
    }
    kept
}

/// `TraceEventV1`, without OPA's syntax tree of the node (`null`) and bindings (`[]`).
fn raw_event(event: &TraceEvent) -> TraceEventV1 {
    TraceEventV1 {
        op: match event.op {
            TraceOp::Enter => "enter",
            TraceOp::Redo => "redo",
            TraceOp::Note => "note",
        },
        query_id: event.query_id,
        parent_id: event.parent_id,
        kind: match event.node {
            TraceNode::Query => "body",
            TraceNode::Rule(_) => "rule",
            TraceNode::Note => "",
        },
        node: None,
        locals: Vec::new(),
        message: event.message.clone(),
    }
}

#[cfg(test)]
mod tests {
    use rego_runtime::TraceLocation;

    use super::*;

    fn event(op: TraceOp, id: u64, parent: u64, node: TraceNode, row: u32) -> TraceEvent {
        TraceEvent {
            op,
            query_id: id,
            parent_id: parent,
            location: (node != TraceNode::Query).then(|| TraceLocation {
                file: "q.rego".to_string(),
                row,
            }),
            message: if node == TraceNode::Note {
                format!("note {row}")
            } else {
                String::new()
            },
            node,
        }
    }

    fn rule(path: &str) -> TraceNode {
        TraceNode::Rule(path.to_string())
    }

    // The lines of OPA 1.22.2's `explain=notes&pretty` for the same evaluation.
    #[test]
    fn pretty_notes_read_as_opa_writes_them() {
        let trace = Trace {
            events: vec![
                event(TraceOp::Enter, 0, 0, TraceNode::Query, 1),
                event(TraceOp::Enter, 1, 0, rule("data.u.allow"), 3),
                event(TraceOp::Enter, 2, 1, rule("data.u.helper"), 8),
                event(TraceOp::Note, 2, 1, TraceNode::Note, 9),
                event(TraceOp::Enter, 3, 1, rule("data.u.other"), 20),
                event(TraceOp::Note, 1, 0, TraceNode::Note, 5),
                event(TraceOp::Redo, 1, 0, rule("data.u.allow"), 3),
                event(TraceOp::Note, 1, 0, TraceNode::Note, 5),
            ],
        };
        let Explanation::Pretty(lines) = explanation(&trace, &TopQuery::data("data.u.allow"), true)
        else {
            panic!("pretty lines expected");
        };
        assert_eq!(
            lines,
            vec![
                "query:1      Enter data.u.allow = _",
                "q.rego:3     | Enter data.u.allow",
                "q.rego:8     | | Enter data.u.helper",
                "q.rego:9     | | | Note \"note 9\"",
                "q.rego:5     | | Note \"note 5\"",
                "q.rego:3     | Redo data.u.allow",
                "q.rego:5     | | Note \"note 5\"",
            ]
        );
    }

    #[test]
    fn no_notes_is_one_empty_line() {
        let trace = Trace::started();
        let Explanation::Pretty(lines) = explanation(&trace, &TopQuery::data("data.x"), true)
        else {
            panic!("pretty lines expected");
        };
        assert_eq!(lines, vec![String::new()]);
        let Explanation::Raw(events) = explanation(&trace, &TopQuery::data("data.x"), false) else {
            panic!("events expected");
        };
        assert!(events.is_empty());
    }

    #[test]
    fn modes_follow_get_explain() {
        let mode = |raw: &str| requested(&Query::parse(Some(raw))).map_err(|_| ());
        assert_eq!(mode("explain=notes"), Ok(Some(Notes)));
        assert_eq!(mode("explain=x&explain=notes"), Ok(Some(Notes)));
        assert_eq!(mode("explain=NOTES"), Ok(None));
        assert_eq!(mode("explain=full"), Err(()));
        assert_eq!(mode("pretty"), Ok(None));
    }
}
