//! The one erased shape every handler takes, whatever its kind: what the call driver hands it
//! and how it ends. Shared by the driver, the interceptors and the service adapters, and
//! importing none of them.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use bytes::Bytes;

use super::context::CallContext;
use crate::call::recv::MessageReader;
use crate::status::Status;

pub(crate) type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// What the driver hands a handler: the context, the request body, the response sink's limit.
pub(crate) struct RawCall {
    pub(crate) ctx: CallContext,
    pub(crate) reader: MessageReader,
    pub(crate) max_send_len: usize,
}

/// How a handler ended: a unary response (already encoded, and as the trace shows it when
/// tracing), or the end of a streamed response.
pub(crate) enum Reply {
    Unary(Bytes, Option<String>),
    Streamed,
}

pub(crate) trait Handler: Send + Sync + 'static {
    fn call(self: Arc<Self>, call: RawCall) -> BoxFuture<Result<Reply, Status>>;
}
