//! Conformance runners.
