//! Interceptors: functions that see each call's context before its handler runs, and may
//! refuse the call. Plain ones run inline; async ones (which may await a token lookup, a
//! database) run as the first part of the call's handler task, under its deadline and
//! cancellation.

use std::fmt;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use super::handler::BoxFuture;
use super::CallContext;
use crate::status::Status;

type SyncHook = dyn Fn(&CallContext) -> Result<(), Status> + Send + Sync;
type AsyncHook = dyn Fn(CallContext) -> BoxFuture<Result<CallContext, Status>> + Send + Sync;

#[derive(Clone)]
enum Hook {
    Sync(Arc<SyncHook>),
    Async(Arc<AsyncHook>),
}

/// Interceptors in the order they were added. The first refusal ends the call; the ones after
/// it do not run.
#[derive(Clone, Default)]
pub(crate) struct Interceptors {
    hooks: Vec<Hook>,
    any_async: bool,
}

impl fmt::Debug for Interceptors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Interceptors({})", self.hooks.len())
    }
}

impl Interceptors {
    pub(crate) fn push<F>(&mut self, hook: F)
    where
        F: Fn(&CallContext) -> Result<(), Status> + Send + Sync + 'static,
    {
        self.hooks.push(Hook::Sync(Arc::new(hook)));
    }

    pub(crate) fn push_async<F, Fut>(&mut self, hook: F)
    where
        F: Fn(CallContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<CallContext, Status>> + Send + 'static,
    {
        let hook = move |ctx| -> BoxFuture<Result<CallContext, Status>> { Box::pin(hook(ctx)) };
        self.hooks.push(Hook::Async(Arc::new(hook)));
        self.any_async = true;
    }

    /// Whether every interceptor is a plain function, so that [`run`](Self::run) applies.
    pub(crate) fn is_sync(&self) -> bool {
        !self.any_async
    }

    /// Runs each (plain) interceptor in turn; the first `Err` is the call's status. One that
    /// panics refuses the call with INTERNAL, as a panicking handler fails only its own call.
    pub(crate) fn run(&self, ctx: &CallContext) -> Result<(), Status> {
        for hook in &self.hooks {
            if let Hook::Sync(hook) = hook {
                run_sync(&**hook, ctx)?;
            }
        }
        Ok(())
    }

    /// Runs every interceptor, plain and async, in order. An async one that panics is caught
    /// with the handler it runs before (INTERNAL).
    pub(crate) async fn run_async(&self, mut ctx: CallContext) -> Result<CallContext, Status> {
        for hook in &self.hooks {
            match hook {
                Hook::Sync(hook) => run_sync(&**hook, &ctx)?,
                Hook::Async(hook) => ctx = hook(ctx).await?,
            }
        }
        Ok(ctx)
    }
}

fn run_sync(hook: &SyncHook, ctx: &CallContext) -> Result<(), Status> {
    match std::panic::catch_unwind(AssertUnwindSafe(|| hook(ctx))) {
        Ok(result) => result,
        Err(_) => Err(Status::internal("an interceptor panicked")),
    }
}
