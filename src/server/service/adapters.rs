//! The adapters that turn the four kinds of typed handler into the one erased [`Handler`]
//! shape the call driver runs, and the single-message rules they share.

use std::future::Future;
use std::sync::Arc;

use bytes::BytesMut;

use crate::call::recv::MessageReader;
use crate::codec::compression::encode_compressed;
use crate::server::handler::{BoxFuture, Handler, RawCall, Reply};
use crate::server::{CallContext, RequestStream, ResponseSink};
use crate::status::Status;

/// Reads the single request of a unary or server-streaming call, up to the end of the stream.
async fn single_request<Req: prost::Message + Default + std::fmt::Debug>(
    reader: &mut MessageReader,
) -> Result<Req, Status> {
    let Some(first) = reader.message().await? else {
        return Err(Status::unimplemented(
            "request cardinality violation: expected one request message, received none",
        ));
    };
    // Decoded (and traced) now, in wire order; a second message still fails first.
    let decoded = reader.decode(first, "request");
    if reader.message().await?.is_some() {
        return Err(Status::unimplemented(
            "request cardinality violation: expected one request message, received more",
        ));
    }
    decoded
}

impl RawCall {
    /// Reads the single request, noting whether it arrived compressed.
    async fn request<Req: prost::Message + Default + std::fmt::Debug>(
        &mut self,
    ) -> Result<Req, Status> {
        let req = single_request::<Req>(&mut self.reader).await?;
        self.ctx.request_compressed = self.reader.last_compressed();
        Ok(req)
    }

    /// The sink of a streamed response.
    fn sink<Resp: prost::Message>(&self) -> ResponseSink<Resp> {
        ResponseSink::new(self.ctx.outbox(), self.max_send_len, self.ctx.trace.clone())
    }
}

/// Runs a handler that returns one response with the call's context, and encodes its reply
/// (at most `max` bytes) in the response's encoding, settled now if no earlier step did.
async fn reply<Resp, Fut>(
    ctx: CallContext,
    max: usize,
    run: impl FnOnce(CallContext) -> Fut,
) -> Result<Reply, Status>
where
    Resp: prost::Message + std::fmt::Debug,
    Fut: Future<Output = Result<Resp, Status>>,
{
    let (outbox, trace) = (ctx.outbox(), ctx.trace.clone());
    let resp = run(ctx).await?;
    let encoding = outbox.lock().freeze_encoding();
    let mut buf = BytesMut::new();
    encode_compressed(&resp, encoding, max, &mut buf)?;
    // Traced when the driver sends it, after the response headers: formatted now, as the
    // message itself is gone by then.
    let shown = trace.is_on().then(|| format!("{resp:?}"));
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
            let req = call.request::<Req>().await?;
            reply(call.ctx, call.max_send_len, |ctx| (self.handler)(ctx, req)).await
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
            let req = call.request::<Req>().await?;
            let sink = call.sink();
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
            let requests = RequestStream::new(call.reader);
            reply(call.ctx, call.max_send_len, |ctx| (self.handler)(ctx, requests)).await
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
            let sink = call.sink();
            let requests = RequestStream::new(call.reader);
            (self.handler)(call.ctx, requests, sink).await?;
            Ok(Reply::Streamed)
        })
    }
}
