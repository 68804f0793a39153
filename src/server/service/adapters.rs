//! The adapters that turn the four kinds of typed handler into the one erased [`Handler`]
//! shape the call driver runs, and the single-message rules they share.

use std::future::Future;
use std::sync::Arc;

use bytes::BytesMut;

use super::{BoxFuture, Handler, RawCall, Reply};
use crate::call::recv::MessageReader;
use crate::call::send::Outbox;
use crate::codec::compression::encode_compressed;
use crate::server::{CallContext, RequestStream, ResponseSink};
use crate::status::Status;
use crate::trace::CallTrace;

/// Reads the single request of a unary or server-streaming call, up to the end of the stream.
async fn single_request<Req: prost::Message + Default + std::fmt::Debug>(
    reader: &mut MessageReader,
    trace: Option<&CallTrace>,
) -> Result<Req, Status> {
    let Some(first) = reader.message(crate::server::call::status_from_h2).await? else {
        return Err(Status::unimplemented(
            "request cardinality violation: expected one request message, received none",
        ));
    };
    // Decoded (and traced) now, in wire order; a second message still fails first.
    let decoded =
        crate::call::recv::decode_message(first, reader.last_compressed(), trace, "request");
    if reader.message(crate::server::call::status_from_h2).await?.is_some() {
        return Err(Status::unimplemented(
            "request cardinality violation: expected one request message, received more",
        ));
    }
    decoded
}

/// Encodes a unary reply in the response's encoding, settled now if no earlier step did.
fn encode_reply<Resp: prost::Message + std::fmt::Debug>(
    resp: &Resp,
    outbox: &Outbox,
    max: usize,
    trace: Option<&CallTrace>,
) -> Result<Reply, Status> {
    let encoding = outbox.lock().freeze_encoding();
    let mut buf = BytesMut::new();
    encode_compressed(resp, encoding, max, &mut buf)?;
    // Traced when the driver sends it, after the response headers: formatted now, as the
    // message itself is gone by then.
    let shown = trace.map(|_| format!("{resp:?}"));
    Ok(Reply::Unary(buf.freeze(), shown))
}

macro_rules! adapter {
    ($name:ident) => {
        pub(super) struct $name<F, Req, Resp> {
            pub(super) handler: F,
            pub(super) _types: std::marker::PhantomData<fn(Req) -> Resp>,
        }
    };
}
adapter!(Unary);
adapter!(ServerStreaming);
adapter!(ClientStreaming);
adapter!(Bidi);

impl<Req, Resp, F, Fut> Handler for Unary<F, Req, Resp>
where
    Req: prost::Message + Default + std::fmt::Debug + 'static,
    Resp: prost::Message + std::fmt::Debug + 'static,
    F: Fn(CallContext, Req) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Resp, Status>> + Send + 'static,
{
    fn call(self: Arc<Self>, mut call: RawCall) -> BoxFuture<Result<Reply, Status>> {
        Box::pin(async move {
            let trace = call.ctx.trace.clone();
            let req = single_request::<Req>(&mut call.reader, trace.as_ref()).await?;
            call.ctx.request_compressed = call.reader.last_compressed();
            let outbox = call.ctx.outbox();
            let resp = (self.handler)(call.ctx, req).await?;
            encode_reply(&resp, &outbox, call.max_send_len, trace.as_ref())
        })
    }
}

impl<Req, Resp, F, Fut> Handler for ServerStreaming<F, Req, Resp>
where
    Req: prost::Message + Default + std::fmt::Debug + 'static,
    Resp: prost::Message + std::fmt::Debug + 'static,
    F: Fn(CallContext, Req, ResponseSink<Resp>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), Status>> + Send + 'static,
{
    fn call(self: Arc<Self>, mut call: RawCall) -> BoxFuture<Result<Reply, Status>> {
        Box::pin(async move {
            let req = single_request::<Req>(&mut call.reader, call.ctx.trace.as_ref()).await?;
            call.ctx.request_compressed = call.reader.last_compressed();
            let sink =
                ResponseSink::new(call.ctx.outbox(), call.max_send_len, call.ctx.trace.clone());
            (self.handler)(call.ctx, req, sink).await?;
            Ok(Reply::Streamed)
        })
    }
}

impl<Req, Resp, F, Fut> Handler for ClientStreaming<F, Req, Resp>
where
    Req: prost::Message + Default + std::fmt::Debug + 'static,
    Resp: prost::Message + std::fmt::Debug + 'static,
    F: Fn(CallContext, RequestStream<Req>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Resp, Status>> + Send + 'static,
{
    fn call(self: Arc<Self>, call: RawCall) -> BoxFuture<Result<Reply, Status>> {
        Box::pin(async move {
            let trace = call.ctx.trace.clone();
            let requests = RequestStream::new(call.reader, trace.clone());
            let outbox = call.ctx.outbox();
            let resp = (self.handler)(call.ctx, requests).await?;
            encode_reply(&resp, &outbox, call.max_send_len, trace.as_ref())
        })
    }
}

impl<Req, Resp, F, Fut> Handler for Bidi<F, Req, Resp>
where
    Req: prost::Message + Default + std::fmt::Debug + 'static,
    Resp: prost::Message + std::fmt::Debug + 'static,
    F: Fn(CallContext, RequestStream<Req>, ResponseSink<Resp>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), Status>> + Send + 'static,
{
    fn call(self: Arc<Self>, call: RawCall) -> BoxFuture<Result<Reply, Status>> {
        Box::pin(async move {
            let requests = RequestStream::new(call.reader, call.ctx.trace.clone());
            let sink =
                ResponseSink::new(call.ctx.outbox(), call.max_send_len, call.ctx.trace.clone());
            (self.handler)(call.ctx, requests, sink).await?;
            Ok(Reply::Streamed)
        })
    }
}
