//! Every front door, listed once. The server hands each request to the first door in
//! [`DOORS`] that owns its path; a new door is a folder with its routes plus one entry here.

use std::future::Future;
use std::pin::Pin;

use hyper::body::Incoming;
use hyper::http::request::Parts;

use crate::app::App;
use crate::http::{self, Response};
use crate::{gatekeeper, opa_api};

/// A served request: the handler label OPA's request metrics use, and the response.
pub type Served = (&'static str, Response);

/// What a door's handler returns: the request served, later.
pub type Serving<'a> = Pin<Box<dyn Future<Output = Served> + Send + 'a>>;

/// One front door: which paths it owns and how it serves them.
pub struct Door {
    pub name: &'static str,
    pub owns: fn(&str) -> bool,
    pub serve: for<'a> fn(&'a App, Parts, Incoming) -> Serving<'a>,
}

/// The doors in the order they are asked. OPA's REST API comes last: it owns every path the
/// others do not, answering unknown ones with Go's `404 page not found` as OPA does.
pub const DOORS: &[Door] = &[
    Door {
        name: "gatekeeper",
        owns: gatekeeper::api::owns,
        serve: serve_gatekeeper,
    },
    Door {
        name: "opa",
        owns: |_| true,
        serve: serve_opa,
    },
];

/// The door that owns `path`.
pub fn door_for(path: &str) -> &'static Door {
    DOORS
        .iter()
        .find(|door| (door.owns)(path))
        .unwrap_or(&DOORS[DOORS.len() - 1])
}

fn serve_gatekeeper(app: &App, parts: Parts, body: Incoming) -> Serving<'_> {
    Box::pin(gatekeeper::api::handle(app, parts, body))
}

fn serve_opa(app: &App, parts: Parts, body: Incoming) -> Serving<'_> {
    Box::pin(async move {
        match opa_api::routes::handle(app, parts, body).await {
            Some(served) => served,
            None => (opa_api::routes::CATCHALL, http::not_found_page()),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_path_goes_to_the_door_that_owns_it() {
        assert_eq!(door_for("/v1/admit").name, "gatekeeper");
        assert_eq!(door_for("/v1/gatekeeper/templates/x").name, "gatekeeper");
        assert_eq!(door_for("/v1/data/x").name, "opa");
        assert_eq!(door_for("/nowhere").name, "opa");
    }
}
