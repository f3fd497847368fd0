//! What a run may touch on a server it may share with its users: only policy ids it made up
//! (`conformance-<pid>-<time>/<case>/test-<i>.rego`) and data roots that were vacant when it
//! wrote them. A case whose roots are already taken is skipped, not run over someone's
//! documents; what a case wrote is removed after it, and nothing else ever is.

use serde_json::Value as Json;

use super::wire::{self, Reply};
use crate::footprint::{Footprint, package_root};

/// The run's claim on servers: its id prefix, and what an earlier case failed to remove.
pub struct Claims {
    prefix: String,
    next_case: usize,
    leftovers: Vec<Lease>,
}

impl Claims {
    /// A prefix no other run has: this process's id and the time it started.
    pub fn new() -> Claims {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        Claims {
            prefix: format!("conformance-{}-{nanos:x}", std::process::id()),
            next_case: 0,
            leftovers: Vec::new(),
        }
    }

    /// A lease for the next case on `server`, after retrying what earlier cases left behind.
    ///
    /// # Errors
    /// Something an earlier case wrote still cannot be removed.
    pub fn begin(&mut self, server: &str) -> Result<Lease, String> {
        let mut still = Vec::new();
        for mut lease in self.leftovers.drain(..) {
            if lease.release().is_err() {
                still.push(lease);
            }
        }
        if let Some(stuck) = still.first() {
            let error = format!("this run cannot remove what it wrote: {}", stuck.describe());
            self.leftovers = still;
            return Err(error);
        }
        self.next_case += 1;
        Ok(Lease {
            server: server.to_string(),
            prefix: format!("{}/{}/", self.prefix, self.next_case),
            run_prefix: format!("{}/", self.prefix),
            policies: Vec::new(),
            data: Vec::new(),
        })
    }

    /// Keeps a lease whose release failed, to retry before the next case.
    pub fn keep(&mut self, lease: Lease) {
        self.leftovers.push(lease);
    }
}

/// What one case wrote on one server.
pub struct Lease {
    server: String,
    /// This case's policy ids start with it.
    prefix: String,
    /// Every case of this run's ids start with it.
    run_prefix: String,
    policies: Vec<String>,
    /// Data roots, as written.
    data: Vec<String>,
}

impl Lease {
    /// The policy id for the case's `index`th module.
    pub fn policy_id(&self, index: usize) -> String {
        format!("{}test-{index}.rego", self.prefix)
    }

    /// `text` with this case's id prefix taken out, so error texts name `test-0.rego` as
    /// OPA's own runner does.
    pub fn unprefix(&self, text: &str) -> String {
        text.replace(&self.prefix, "")
    }

    /// Why the case cannot run here, if the server holds something in its footprint that
    /// this run did not write.
    ///
    /// # Errors
    /// The server cannot be asked.
    pub fn taken(&self, footprint: &Footprint) -> Result<Option<String>, String> {
        let reply = self.send("GET", "/v1/policies", b"")?;
        if reply.status != 200 {
            return Err(format!("GET /v1/policies answered {}", reply.status));
        }
        let listed = reply.json();
        let foreign: Vec<(&str, Option<String>)> = listed["result"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .filter_map(|policy| {
                let id = policy["id"].as_str()?;
                let package = policy["raw"].as_str().and_then(package_root);
                (!id.starts_with(&self.run_prefix)).then_some((id, package))
            })
            .collect();
        for root in &footprint.roots {
            if let Some((id, _)) = foreign
                .iter()
                .find(|(_, package)| package.as_deref().is_none_or(|p| p == root))
            {
                return Ok(Some(format!(
                    "the target already holds data.{root} (policy {id})"
                )));
            }
            let reply = self.send("GET", &format!("/v1/data/{}", wire::segment(root)), b"")?;
            if reply.status != 200 || reply.json().get("result").is_some() {
                return Ok(Some(format!("the target already holds data.{root}")));
            }
        }
        if footprint.whole {
            if let Some((id, _)) = foreign.first() {
                return Ok(Some(format!(
                    "the case reads all of data, and the target holds policy {id}"
                )));
            }
            let reply = self.send("GET", "/v1/data", b"")?;
            let empty = reply.status == 200
                && reply.json()["result"]
                    .as_object()
                    .is_some_and(serde_json::Map::is_empty);
            if !empty {
                return Ok(Some(
                    "the case reads all of data, and the target holds documents".to_string(),
                ));
            }
        }
        Ok(None)
    }

    /// Writes `value` at `data.<root>` unless something is there already (`If-None-Match`):
    /// `Ok(false)` then, and nothing was written.
    ///
    /// # Errors
    /// The server refused the write.
    pub fn put_data(&mut self, root: &str, value: &Json) -> Result<bool, String> {
        let path = format!("/v1/data/{}", wire::segment(root));
        let body = serde_json::to_vec(value).unwrap_or_default();
        let reply = wire::send_with(&self.server, "PUT", &path, &["If-None-Match: *"], &body)?;
        match reply.status {
            204 => {
                self.data.push(root.to_string());
                Ok(true)
            }
            304 => Ok(false),
            status => Err(format!(
                "PUT {path} answered {status}: {}",
                String::from_utf8_lossy(&reply.body)
            )),
        }
    }

    /// Uploads the case's `index`th module; a module the server took is this lease's to remove.
    ///
    /// # Errors
    /// The server cannot be reached.
    pub fn put_policy(&mut self, index: usize, source: &str) -> Result<Reply, String> {
        let id = self.policy_id(index);
        let reply = self.send("PUT", &format!("/v1/policies/{id}"), source.as_bytes())?;
        if reply.status == 200 && !self.policies.contains(&id) {
            self.policies.push(id);
        }
        Ok(reply)
    }

    /// Removes what this lease wrote, and only that.
    ///
    /// # Errors
    /// Something it wrote cannot be removed; the lease keeps it for a later try.
    pub fn release(&mut self) -> Result<(), String> {
        // A module may depend on another: delete in rounds until none is left or none goes.
        while !self.policies.is_empty() {
            let before = self.policies.len();
            let server = self.server.clone();
            self.policies.retain(|id| {
                wire::send(&server, "DELETE", &format!("/v1/policies/{id}"), b"")
                    .map_or(true, |r| r.status != 200)
            });
            if self.policies.len() == before {
                return Err(self.describe());
            }
        }
        let server = self.server.clone();
        self.data.retain(|root| {
            let path = format!("/v1/data/{}", wire::segment(root));
            wire::send(&server, "DELETE", &path, b"").map_or(true, |r| r.status != 204)
        });
        if self.data.is_empty() {
            Ok(())
        } else {
            Err(self.describe())
        }
    }

    /// What the lease still holds, for an error.
    fn describe(&self) -> String {
        let mut held: Vec<String> = self
            .policies
            .iter()
            .map(|id| format!("policy {id}"))
            .collect();
        held.extend(self.data.iter().map(|root| format!("data.{root}")));
        format!("{} on {}", held.join(", "), self.server)
    }

    pub fn send(&self, method: &str, path: &str, body: &[u8]) -> Result<Reply, String> {
        wire::send(&self.server, method, path, body)
    }
}
