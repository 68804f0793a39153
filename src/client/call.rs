//! The four call kinds on a [`Channel`], and the request half of streaming calls.

use std::borrow::Borrow;
use std::fmt;
use std::marker::PhantomData;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use bytes::{Bytes, BytesMut};
use h2::client::ResponseFuture;
use h2::SendStream;
use http::HeaderValue;

use super::channel::Channel;
use super::deadline::Deadline;
use super::keepalive::ActiveCall;
use super::options::CallOptions;
use super::replay::{is_unprocessed, Replay, StreamRetry};
use super::request::AsRequest;
use super::request_sink::RequestSink;
use super::response::{Response, ResponseStream};
use super::response_reader::ResponseReader;
use super::retry::Retry;
use crate::call::headers;
use crate::codec::compression::{encode_compressed, Encoding};
use crate::method::IntoMethod;
use crate::status::mapping::{from_h2_error, Side};
use crate::status::Status;
use crate::timeout::encode_grpc_timeout;
use crate::trace::{CallTrace, Direction, Payload};

/// How many times a call the server provably never processed is sent again before its
/// failure is reported.
const UNPROCESSED_RETRIES: u32 = 2;

impl Channel {
    /// The encoding of a call's request messages: the call's choice, else the channel's.
    fn send_encoding(&self, options: &CallOptions) -> Encoding {
        options.compression.unwrap_or(self.inner.config.calls.send_compression)
    }

    /// Opens the stream: waits for a connection and a free stream slot, then sends the request
    /// headers with `grpc-timeout` computed from the time left now. The [`ActiveCall`] counts
    /// the call as in flight (for keepalive) until the response reader drops it.
    pub(crate) async fn start(
        &self,
        path: &str,
        options: &CallOptions,
        deadline: &mut Deadline,
    ) -> Result<(ResponseFuture, SendStream<Bytes>, ActiveCall, CallTrace), Status> {
        // Opening a stream rarely waits, so a task that opens calls in a loop (and cancels
        // them) might never yield: h2's connection task would not run, and every stream's state
        // would pile up until it does. Spending tokio's cooperative budget makes such a loop
        // yield now and then, keeping memory flat.
        tokio::task::consume_budget().await;
        let uri = self.uri(path)?;
        let wait_for_ready = options.wait_for_ready;
        let mut retries = UNPROCESSED_RETRIES;
        loop {
            let (mut send, active, conn) =
                deadline.run(self.inner.ready_sender(wait_for_ready, options.deadline)).await??;
            let timeout = match options.deadline {
                None => None,
                Some(at) => {
                    let left = at.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        // Out of time before anything was sent: fail locally, send nothing.
                        return Err(Status::deadline_exceeded(
                            "deadline exceeded before the call started",
                        ));
                    }
                    HeaderValue::try_from(encode_grpc_timeout(left)).ok()
                }
            };
            let encoding = self.send_encoding(options);
            let request = headers::request(uri.clone(), timeout, encoding, &options.metadata);
            let trace = &self.inner.config.calls.trace;
            // Copied only when tracing, as `send_request` takes the request; boxed, so that
            // the untraced future carries one word for it.
            let traced = trace.is_on().then(|| {
                Box::new((
                    request.method().clone(),
                    request.uri().clone(),
                    request.headers().clone(),
                ))
            });
            match send.send_request(request, false) {
                Ok((response, stream)) => {
                    let trace = trace.call(Side::Client, || response.stream_id().into());
                    if let Some(traced) = &traced {
                        let (method, uri, headers) = &**traced;
                        let payload = Payload::RequestHeaders { method, uri, headers };
                        trace.emit(Direction::Send, payload);
                    }
                    return Ok((response, stream, active, trace));
                }
                // A GOAWAY came in since `ready`: nothing went out, the next connection will do;
                // this one takes no more calls.
                Err(err) if is_unprocessed(&err) && retries > 0 => {
                    conn.forget();
                    retries -= 1;
                }
                Err(err) => return Err(from_h2_error(Side::Client, &err)),
            }
        }
    }

    /// The channel's interceptors applied to `options`, the one request of a unary or
    /// server-streaming call framed (and compressed, if chosen) for sending, and the call's
    /// retry state.
    async fn single_request<Req: prost::Message>(
        &self,
        path: &str,
        request: &Req,
        options: CallOptions,
    ) -> Result<(CallOptions, Bytes, Retry), Status> {
        let options = self.inner.config.interceptors.run(path, options).await?;
        let mut body = BytesMut::new();
        let (encoding, max_send) =
            (self.send_encoding(&options), self.inner.config.calls.max_send_message_len);
        encode_compressed(request, encoding, max_send, &mut body)?;
        let body = body.freeze();
        let retry = Retry::new(self, path, &body, &options);
        Ok((options, body, retry))
    }

    /// A unary call: one request, one response.
    ///
    /// `method` is a [`Method`](crate::Method) handle, which gives the request and response
    /// types, or a path string (see [`IntoMethod`]); the request is taken by value or by
    /// reference ([`AsRequest`]).
    ///
    /// ```no_run
    /// # async fn f(channel: h2grpc::client::Channel) -> Result<(), h2grpc::Status> {
    /// use h2grpc::{CallOptions, Method};
    /// const SAY: Method<String, String> = Method::new("/echo.v1.Echo/Say");
    /// let reply = channel.unary(SAY, "hi".to_string(), CallOptions::new()).await?.into_inner();
    ///
    /// // By a path known only at run time: the types come from the use.
    /// let path = String::from("/echo.v1.Echo/Say");
    /// let reply: String = channel.unary(&path, &reply, CallOptions::new()).await?.into_inner();
    /// # Ok(()) }
    /// ```
    pub async fn unary<Req, Resp>(
        &self,
        method: impl IntoMethod<Req, Resp>,
        request: impl AsRequest<Req>,
        options: CallOptions,
    ) -> Result<Response<Resp>, Status>
    where
        Req: prost::Message + std::fmt::Debug,
        Resp: prost::Message + Default + std::fmt::Debug,
    {
        let (path, request) = (method.path()?, request.as_request());
        let (options, body, mut retry) = self.single_request(path, request, options).await?;
        loop {
            let options = retry.options(&options);
            match self.unary_attempt(path, request, &body, &options).await {
                Ok(response) => return Ok(retry.succeeded(response)),
                Err((status, committed)) => retry.failed(status, committed).await?,
            }
        }
    }

    /// One attempt of a unary call; the failure says whether the call was committed (the
    /// server sent response headers), which rules out a retry.
    async fn unary_attempt<Req, Resp>(
        &self,
        path: &str,
        request: &Req,
        body: &Bytes,
        options: &CallOptions,
    ) -> Result<Response<Resp>, (Status, bool)>
    where
        Req: prost::Message + std::fmt::Debug,
        Resp: prost::Message + Default + std::fmt::Debug,
    {
        let max_recv = self.inner.config.calls.max_recv_message_len;
        // A call the server provably never processed (its stream was above a GOAWAY's
        // last-stream-id, e.g. sent while a restarting server was closing the connection, or
        // refused with REFUSED_STREAM) is sent again, on a new connection if need be, as
        // PROTOCOL-HTTP2.md allows: the application sees nothing of it.
        let mut retries = UNPROCESSED_RETRIES;
        loop {
            let mut deadline = Deadline::new(options.deadline);
            let (response, mut stream, active, trace) =
                self.start(path, options, &mut deadline).await.map_err(|s| (s, false))?;
            trace.sent(body, 0, Some(request));
            match stream.send_data(body.clone(), true) {
                Ok(()) => {}
                Err(err) if is_unprocessed(&err) && retries > 0 => {
                    retries -= 1;
                    continue;
                }
                // Any other failure means the stream is already over: the server ended the
                // call early (Trailers-Only, e.g. UNIMPLEMENTED, then RST_STREAM NO_ERROR) and
                // h2 refuses the data as an "inactive stream". The call's real status is in
                // the response; read that.
                Err(_) => {}
            }
            let mut reader = ResponseReader::new(response, None, deadline, max_recv, active, trace);
            if let Err(status) = reader.headers().await {
                if reader.unprocessed() && retries > 0 {
                    retries -= 1;
                    continue;
                }
                return Err((status, false));
            }
            // Trailers-Only: the trailers came with the head, and the call is not committed.
            let committed = reader.trailers().is_none();
            let result = Response::read(reader).await;
            drop(stream);
            return result.map_err(|status| (status, committed));
        }
    }

    /// A server-streaming call: one request, a stream of responses.
    pub async fn server_streaming<
        Req: prost::Message + fmt::Debug,
        Resp: prost::Message + Default + fmt::Debug,
    >(
        &self,
        method: impl IntoMethod<Req, Resp>,
        request: impl AsRequest<Req>,
        options: CallOptions,
    ) -> Result<ResponseStream<Resp>, Status> {
        let path = method.path()?;
        let (options, body, mut retry) =
            self.single_request(path, request.as_request(), options).await?;
        loop {
            let options = retry.options(&options);
            let mut deadline = Deadline::new(options.deadline);
            let (response, mut stream, active, trace) =
                self.start(path, &options, &mut deadline).await?;
            trace.sent(&body, 0, Some(request.as_request()));
            // A failure here means the stream is already over: the server ended the call early
            // (Trailers-Only, e.g. UNIMPLEMENTED, then RST_STREAM NO_ERROR) and h2 refuses the
            // data as an "inactive stream". The call's real status is in the response; read that.
            let _ = stream.send_data(body.clone(), true);
            let send = Arc::new(Mutex::new(stream));
            let max_recv = self.inner.config.calls.max_recv_message_len;
            let mut reader =
                ResponseReader::new(response, Some(send), deadline, max_recv, active, trace);
            if !retry.enabled() {
                return Ok(ResponseStream::new(reader));
            }
            // Under a retry policy the call waits for the response head: a failure before it
            // (or a Trailers-Only failure) may be retried; once headers came, it is committed.
            let head = reader.headers().await.map(|_| ());
            let failure = match head {
                Err(status) => status,
                Ok(_) if reader.trailers().is_none() => {
                    return Ok(retry.succeeded(ResponseStream::new(reader)))
                }
                Ok(_) => match reader.message().await {
                    Err(status) => status,
                    Ok(_) => return Ok(retry.succeeded(ResponseStream::new(reader))),
                },
            };
            retry.failed(failure, false).await?;
        }
    }

    /// A client-streaming call: send requests, then [`finish`](ClientStreamingCall::finish) for
    /// the one response.
    pub async fn client_streaming<Req, Resp>(
        &self,
        method: impl IntoMethod<Req, Resp>,
        options: CallOptions,
    ) -> Result<ClientStreamingCall<Req, Resp>, Status>
    where
        Req: prost::Message + std::fmt::Debug,
        Resp: prost::Message + Default + std::fmt::Debug,
    {
        let (sink, reader) = self.open_streams(method.path()?, options).await?;
        Ok(ClientStreamingCall { sink, reader, _type: PhantomData })
    }

    /// A bidirectional-streaming call: a sink for requests and a stream of responses, usable
    /// from different tasks.
    pub async fn bidi_streaming<Req, Resp>(
        &self,
        method: impl IntoMethod<Req, Resp>,
        options: CallOptions,
    ) -> Result<(RequestSink<Req>, ResponseStream<Resp>), Status>
    where
        Req: prost::Message + std::fmt::Debug,
        Resp: prost::Message + Default + std::fmt::Debug,
    {
        let (sink, reader) = self.open_streams(method.path()?, options).await?;
        Ok((sink, ResponseStream::new(reader)))
    }

    async fn open_streams<Req: prost::Message>(
        &self,
        path: &str,
        options: CallOptions,
    ) -> Result<(RequestSink<Req>, ResponseReader), Status> {
        let options = self.inner.config.interceptors.run(path, options).await?;
        let mut deadline = Deadline::new(options.deadline);
        let mut retry = Retry::with_limit(self, path, 0, &options);
        let replay = retry.enabled().then(|| {
            retry.options(&options); // the first attempt
            Arc::new(Replay::new(self.inner.config.retry.buffer_size))
        });
        let (response, stream, active, trace) = self.start(path, &options, &mut deadline).await?;
        let send = Arc::new(Mutex::new(stream));
        let config = &self.inner.config;
        let limits = (config.calls.max_send_message_len, self.send_encoding(&options));
        let sink_deadline = Deadline::new(options.deadline);
        let sink =
            RequestSink::new(send.clone(), replay.clone(), limits, sink_deadline, trace.clone());
        let max_recv = config.calls.max_recv_message_len;
        let mut reader =
            ResponseReader::new(response, Some(send), deadline, max_recv, active, trace);
        if let Some(replay) = replay {
            let (channel, path) = (self.clone(), path.to_owned());
            reader = reader.with_retry(StreamRetry { channel, path, options, retry, replay });
        }
        Ok((sink, reader))
    }
}

/// A client-streaming call in progress: send requests, then [`finish`](Self::finish).
pub struct ClientStreamingCall<Req, Resp> {
    // Field order is drop order: dropping the call must cancel it, so the reader resets the
    // stream before the sink's drop would half-close it (which then fails harmlessly). The
    // other order tells the server the requests are complete before the reset arrives.
    reader: ResponseReader,
    sink: RequestSink<Req>,
    _type: PhantomData<fn() -> Resp>,
}

impl<Req, Resp> fmt::Debug for ClientStreamingCall<Req, Resp> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientStreamingCall").finish_non_exhaustive()
    }
}

impl<Req, Resp> ClientStreamingCall<Req, Resp>
where
    Req: prost::Message + fmt::Debug,
    Resp: prost::Message + Default + fmt::Debug,
{
    /// Sends one request.
    pub async fn send(&mut self, message: impl Borrow<Req>) -> Result<(), Status> {
        self.sink.send(message).await
    }

    /// Queues one request without flushing (see [`RequestSink::feed`]).
    pub async fn feed(&mut self, message: impl Borrow<Req>) -> Result<(), Status> {
        self.sink.feed(message).await
    }

    /// Sends one request uncompressed (see [`RequestSink::send_uncompressed`]).
    #[cfg(feature = "compression")]
    pub async fn send_uncompressed(&mut self, message: impl Borrow<Req>) -> Result<(), Status> {
        self.sink.send_uncompressed(message).await
    }

    /// Half-closes and waits for the response.
    pub async fn finish(self) -> Result<Response<Resp>, Status> {
        let ClientStreamingCall { mut sink, reader, .. } = self;
        // If closing fails, the server has already ended the call: its status is in the reader.
        let _ = sink.close().await;
        Response::read(reader).await
    }

    /// Cancels the call (RST_STREAM CANCEL) and returns the local CANCELLED status.
    pub fn cancel(mut self) -> Status {
        self.sink.cancel();
        Status::cancelled("the call was cancelled by the client")
    }
}
