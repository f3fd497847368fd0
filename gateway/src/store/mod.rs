//! The policy store: everything loaded, as one immutable [`Snapshot`] swapped atomically.
//!
//! Readers take the current snapshot without locking. Writers are serialized: each copies the
//! contents (cheap, values are shared), changes the copy, prepares the engine on it off the
//! request path (a data write only swaps the new data into the prepared policy), and swaps it
//! in only if that succeeded, so a bad load never replaces a good one.

pub mod data_ops;
mod snapshot;

use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;
use rego_runtime::{Engine, Error as EngineError};

pub use snapshot::{Contents, Engines, Snapshot};

/// Why a store update was refused; the previous snapshot stays current.
#[derive(Debug, thiserror::Error)]
pub enum UpdateError<E> {
    /// The change itself was refused before anything was compiled.
    #[error(transparent)]
    Refused(E),
    /// The changed policies or data did not compile.
    #[error(transparent)]
    Compile(EngineError),
}

/// Holds the current snapshot and builds new ones.
pub struct Store {
    current: ArcSwap<Snapshot>,
    /// Serializes writers; readers never take it.
    writer: Mutex<()>,
    /// Prepares OPA's policies.
    opa_engine: Arc<dyn Engine>,
    /// Prepares Gatekeeper's templates and each review's input.
    gatekeeper_engine: Arc<dyn Engine>,
}

impl Store {
    /// A store with empty contents.
    ///
    /// # Errors
    /// Only if the engine cannot prepare an empty policy set.
    pub fn new(
        opa_engine: Arc<dyn Engine>,
        gatekeeper_engine: Arc<dyn Engine>,
    ) -> Result<Store, EngineError> {
        let engines = Engines {
            opa: &*opa_engine,
            gatekeeper: &*gatekeeper_engine,
        };
        let snapshot = Snapshot::build(engines, Contents::default(), 0)?;
        Ok(Store {
            current: ArcSwap::from_pointee(snapshot),
            writer: Mutex::new(()),
            opa_engine,
            gatekeeper_engine,
        })
    }

    fn engines(&self) -> Engines<'_> {
        Engines {
            opa: &*self.opa_engine,
            gatekeeper: &*self.gatekeeper_engine,
        }
    }

    /// The snapshot requests evaluate against right now.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.current.load_full()
    }

    /// The engine Gatekeeper's templates are prepared with; Gatekeeper prepares each review's
    /// input with it once for all its templates.
    pub fn gatekeeper_engine(&self) -> &dyn Engine {
        &*self.gatekeeper_engine
    }

    /// Applies `change` to a copy of the contents and activates the result.
    ///
    /// # Errors
    /// The change's own error, or the engine's compile error; either way nothing changes.
    pub fn update<T, E>(
        &self,
        change: impl FnOnce(&mut Contents) -> Result<T, E>,
    ) -> Result<T, UpdateError<E>> {
        let _writer = self
            .writer
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let current = self.current.load_full();
        let mut contents = current.contents.clone();
        let outcome = change(&mut contents).map_err(UpdateError::Refused)?;
        let next = Snapshot::build_after(
            self.engines(),
            contents,
            current.generation + 1,
            Some(&current),
        )
        .map_err(UpdateError::Compile)?;
        self.current.store(Arc::new(next));
        Ok(outcome)
    }
}
