//! Client interceptors: plain functions run on every call's options before its headers are
//! built.

use std::fmt;
use std::sync::Arc;

use super::CallOptions;
use crate::status::Status;

type Hook = dyn Fn(&str, &mut CallOptions) -> Result<(), Status> + Send + Sync;

/// A channel's interceptors, in the order they were added.
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
        F: Fn(&str, &mut CallOptions) -> Result<(), Status> + Send + Sync + 'static,
    {
        self.0.push(Arc::new(hook));
    }

    /// Runs each interceptor on the options of a call to `path`, in order. The first refusal
    /// fails the call before anything is sent; the ones after it do not run.
    pub(crate) fn run(&self, path: &str, mut options: CallOptions) -> Result<CallOptions, Status> {
        for hook in &self.0 {
            hook(path, &mut options)?;
        }
        Ok(options)
    }
}
