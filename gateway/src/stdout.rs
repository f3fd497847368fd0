//! Reports on stdout, for commands whose output is often cut short (`gateway builtins |
//! head -1`).
//!
//! Rust ignores SIGPIPE, so once the reader has gone a write fails with EPIPE, and `print!`
//! panics on it. A closed stdout only means the reader has seen enough, so reports go
//! through [`print`], which stops quietly and lets the command end with its own status.
//! Restoring SIGPIPE's default action instead would take unsafe FFI and would also kill
//! `gateway conformance` whenever a server closes a socket the command is writing to.

use std::io::{self, Write};

/// Writes `text` to stdout and flushes it; a closed pipe drops the rest without an error.
///
/// # Errors
/// Any other write error (a full disk, a closed descriptor).
pub fn print(text: &str) -> io::Result<()> {
    let mut out = io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(error) if error.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}
