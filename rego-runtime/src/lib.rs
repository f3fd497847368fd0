//! Policy engines for the gateway, behind one contract.
//!
//! - [`engine`]: the contract every engine implements (`prepare` per policy set, `with_data`
//!   per data write, `evaluate` per request) and the request and result types the front
//!   doors use.
//! - [`rego`]: the Rego engine on regorus.
//! - [`builtins`]: OPA builtins the project implements itself, in one engine-neutral table.
//! - [`value`]: the value model shared by engines and builtins.
//! - [`limits`], [`error`]: evaluation limits and the crate's error type.
//! - [`footprint`]: the cache lines of prepared structures, to prefetch before a request.
//! - [`trace`]: what an evaluation records for OPA's `explain=notes`.

pub mod builtins;
pub mod capabilities;
pub mod decision_cache;
pub mod engine;
pub mod error;
pub mod footprint;
pub mod limits;
pub mod rego;
pub mod trace;
pub mod value;

pub use engine::{
    ConflictMessages, Engine, Entrypoint, Evaluation, Input, Outcome, PathSegment, PolicyModule,
    PolicySet, Prepared, PreparedInput, RegoVersion, RuleInfo,
};
pub use error::{Error, Location, Problem};
pub use limits::Limits;
pub use trace::{Trace, TraceEvent, TraceLocation, TraceNode, TraceOp};
pub use value::{Number, Value};
