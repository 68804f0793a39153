//! Client interceptors: functions run on every call's options before its headers are built.
//! Plain ones change the options in place; async ones (which may await a token refresh) take
//! them and hand them back.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use super::CallOptions;
use crate::status::Status;

type SyncHook = dyn Fn(&str, &mut CallOptions) -> Result<(), Status> + Send + Sync;
type AsyncHook = dyn Fn(&str, CallOptions) -> Pin<Box<dyn Future<Output = Result<CallOptions, Status>> + Send>>
    + Send
    + Sync;

#[derive(Clone)]
enum Hook {
    Sync(Arc<SyncHook>),
    Async(Arc<AsyncHook>),
}

/// A channel's interceptors, in the order they were added.
#[derive(Clone, Default)]
pub(crate) struct Interceptors(Vec<Hook>);

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
        self.0.push(Hook::Sync(Arc::new(hook)));
    }

    pub(crate) fn push_async<F, Fut>(&mut self, hook: F)
    where
        F: Fn(&str, CallOptions) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<CallOptions, Status>> + Send + 'static,
    {
        let hook = move |path: &str, options| -> Pin<Box<dyn Future<Output = _> + Send>> {
            Box::pin(hook(path, options))
        };
        self.0.push(Hook::Async(Arc::new(hook)));
    }

    /// Runs each interceptor on the options of a call to `path`, in order. The first refusal
    /// fails the call before anything is sent; the ones after it do not run.
    pub(crate) async fn run(
        &self,
        path: &str,
        mut options: CallOptions,
    ) -> Result<CallOptions, Status> {
        for hook in &self.0 {
            match hook {
                Hook::Sync(hook) => hook(path, &mut options)?,
                Hook::Async(hook) => options = hook(path, options).await?,
            }
        }
        Ok(options)
    }
}
