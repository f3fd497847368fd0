//! The Gatekeeper front door: ConstraintTemplates and Constraints as users apply them to their
//! cluster, the validating webhook, gator's `verify` and `test`, and audit
//! (`reference/gatekeeper.md`).
//!
//! Domain (no HTTP): [`objects`] reads manifests; [`templates`] and [`rewrite`] turn templates
//! into compiled Rego; [`constraints`], [`schema`] and [`matching`] validate and match
//! constraints; [`review`] builds `input.review`; [`inventory`] files `data.inventory`;
//! [`state`] is the Gatekeeper part of a store snapshot; [`evaluate`] reviews one object;
//! [`audit`], [`verify`] and [`test_command`] run whole sets; [`loader`] watches files.

pub mod constraints;
pub mod evaluate;
pub mod inventory;
pub mod matching;
pub mod objects;
pub mod review;
pub mod rewrite;
pub mod schema;
pub mod state;
pub mod templates;
pub mod test_command;
pub mod verify;
