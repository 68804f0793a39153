//! Interceptors: plain functions that see each call's context before its handler runs, and may
//! refuse the call.

use std::fmt;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use super::CallContext;
use crate::status::Status;

type Hook = dyn Fn(&CallContext) -> Result<(), Status> + Send + Sync;

/// Interceptors in the order they were added. The first refusal ends the call; the ones after
/// it do not run.
#[derive(Clone, Default)]
pub(crate) struct Interceptors(Vec<Arc<Hook>>);

impl fmt::Debug for Interceptors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Interceptors({})", self.0.len())
    }
}

impl Interceptors {
    pub(crate) fn push<F>(&mut self, hook: F)
    where
        F: Fn(&CallContext) -> Result<(), Status> + Send + Sync + 'static,
    {
        self.0.push(Arc::new(hook));
    }

    /// Runs each interceptor in turn; the first `Err` is the call's status. One that panics
    /// refuses the call with INTERNAL, as a panicking handler fails only its own call.
    pub(crate) fn run(&self, ctx: &CallContext) -> Result<(), Status> {
        for hook in &self.0 {
            match std::panic::catch_unwind(AssertUnwindSafe(|| hook(ctx))) {
                Ok(Ok(())) => {}
                Ok(Err(status)) => return Err(status),
                Err(_) => return Err(Status::internal("an interceptor panicked")),
            }
        }
        Ok(())
    }
}
