//! The floor: a hand-written gRPC echo on bare `h2`, the least any `h2`-based design must do.
//!
//! It speaks just enough gRPC for this benchmark (POST, `content-type: application/grpc`,
//! 5-byte prefixes, `grpc-status` trailers) and nothing else: no metadata, deadlines,
//! cancellation, limits beyond one, or routing beyond a `match`. It does the two things
//! issue 6 names, and the one `h2` requires:
//!
//! - **coalescing**: messages are encoded into one buffer, handed to `h2` once it holds
//!   [`COALESCE`] bytes (or the stream has nothing more ready), as few large DATA frames;
//! - **reserving a whole message's buffer** once its prefix has arrived, so a message spanning
//!   DATA frames is copied once; a message inside one frame is a slice of it (no copy);
//! - **waiting on capacity**: `send_data` never waits and buffers without limit, so the writer
//!   reserves capacity and waits on `poll_capacity` before each `send_data`.
//!
//! HTTP/2 settings as h2grpc's defaults on both sides, so the comparison is of code, not of
//! settings: windows of 1 MiB per stream and 4 MiB per connection, frames up to 256 KiB, and
//! `h2`'s other defaults. Coalescing uses h2grpc's chunk size too.

use std::future::poll_fn;
use std::path::Path;
use std::task::{ready, Poll};
use std::time::{Duration, Instant};

use bytes::{Buf, BufMut, Bytes, BytesMut};
use h2::client::SendRequest;
use h2::server::SendResponse;
use h2::{RecvStream, SendStream};
use http::{HeaderMap, HeaderValue, Request, Response};
use prost::Message;

use crate::{paths, BoxError, Client, Payload, Stack, StreamReq, StreamStats};

/// Ready messages are handed to `h2` in chunks of this many bytes.
pub const COALESCE: usize = 64 * 1024;

const STREAM_WINDOW: u32 = 1024 * 1024;
const CONNECTION_WINDOW: u32 = 4 * 1024 * 1024;
const MAX_FRAME_SIZE: u32 = 256 * 1024;
const MAX_MESSAGE: usize = 4 * 1024 * 1024;

/// The floor stack.
#[derive(Debug)]
pub struct Floor;

impl Stack for Floor {
    const NAME: &'static str = "floor";
    type Client = FloorClient;

    async fn serve(socket: &Path, ready: impl FnOnce() + Send) -> Result<(), BoxError> {
        if crate::tls::dir().is_some() {
            return Err("the floor has no TLS: run with --stacks h2grpc,tonic".into());
        }
        let listener = tokio::net::UnixListener::bind(socket)?;
        ready();
        loop {
            let (io, _) = listener.accept().await?;
            tokio::spawn(async move {
                let mut builder = h2::server::Builder::new();
                builder
                    .initial_window_size(STREAM_WINDOW)
                    .initial_connection_window_size(CONNECTION_WINDOW)
                    .max_frame_size(MAX_FRAME_SIZE);
                let Ok(mut conn) = builder.handshake::<_, Bytes>(io).await else { return };
                while let Some(Ok((request, respond))) = conn.accept().await {
                    tokio::spawn(async move {
                        // A failed call only ever means the client left.
                        let _ = handle(request, respond).await;
                    });
                }
            });
        }
    }

    async fn connect(socket: &Path) -> Result<FloorClient, BoxError> {
        let io = tokio::net::UnixStream::connect(socket).await?;
        let mut builder = h2::client::Builder::new();
        builder
            .initial_window_size(STREAM_WINDOW)
            .initial_connection_window_size(CONNECTION_WINDOW)
            .max_frame_size(MAX_FRAME_SIZE);
        let (send, conn) = builder.handshake::<_, Bytes>(io).await?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        Ok(FloorClient { send })
    }
}

async fn handle(
    request: Request<RecvStream>,
    mut respond: SendResponse<Bytes>,
) -> Result<(), BoxError> {
    let (parts, body) = request.into_parts();
    let mut reader = Reader::new(body);
    match parts.uri.path() {
        paths::UNARY => {
            let request = Payload::decode(reader.message().await?.ok_or("no request")?)?;
            let mut writer = Writer::respond(&mut respond)?;
            writer.feed(&request);
            writer.finish().await
        }
        paths::SERVER_STREAM => {
            let request = StreamReq::decode(reader.message().await?.ok_or("no request")?)?;
            let message = Payload { data: Bytes::from(vec![0x5a; request.size as usize]) };
            let mut writer = Writer::respond(&mut respond)?;
            for _ in 0..request.count {
                writer.feed(&message);
                if writer.buf.len() >= COALESCE {
                    writer.flush().await?;
                }
            }
            writer.finish().await
        }
        paths::BIDI => {
            let mut writer = Writer::respond(&mut respond)?;
            while let Some(message) = reader.message().await? {
                writer.feed(&Payload::decode(message)?);
                writer.flush().await?;
            }
            writer.finish().await
        }
        _ => {
            let mut response = grpc_response();
            response.headers_mut().insert("grpc-status", HeaderValue::from_static("12"));
            respond.send_response(response, true)?;
            Ok(())
        }
    }
}

fn grpc_response() -> Response<()> {
    let mut response = Response::new(());
    response.headers_mut().insert("content-type", HeaderValue::from_static("application/grpc"));
    response
}

/// Messages out: one buffer, flushed to `h2` as flow control allows.
struct Writer {
    stream: SendStream<Bytes>,
    buf: BytesMut,
}

impl Writer {
    fn respond(respond: &mut SendResponse<Bytes>) -> Result<Writer, h2::Error> {
        let stream = respond.send_response(grpc_response(), false)?;
        Ok(Writer { stream, buf: BytesMut::new() })
    }

    fn feed<M: Message>(&mut self, message: &M) {
        let len = message.encoded_len();
        self.buf.reserve(5 + len);
        self.buf.put_u8(0);
        self.buf.put_u32(len as u32);
        message.encode(&mut self.buf).expect("reserved");
    }

    /// Hands the buffer to `h2`, never more than the capacity it has assigned.
    async fn flush(&mut self) -> Result<(), h2::Error> {
        while !self.buf.is_empty() {
            self.stream.reserve_capacity(self.buf.len());
            let stream = &mut self.stream;
            let capacity = poll_fn(|cx| loop {
                let capacity = stream.capacity();
                if capacity > 0 {
                    return Poll::Ready(Ok(capacity));
                }
                match ready!(stream.poll_capacity(cx)) {
                    Some(Ok(_)) => continue,
                    Some(Err(err)) => return Poll::Ready(Err(err)),
                    None => return Poll::Ready(Err(h2::Error::from(h2::Reason::STREAM_CLOSED))),
                }
            })
            .await?;
            let chunk = self.buf.split_to(capacity.min(self.buf.len())).freeze();
            self.stream.send_data(chunk, false)?;
        }
        Ok(())
    }

    async fn finish(mut self) -> Result<(), BoxError> {
        self.flush().await?;
        let mut trailers = HeaderMap::new();
        trailers.insert("grpc-status", HeaderValue::from_static("0"));
        self.stream.send_trailers(trailers)?;
        Ok(())
    }
}

/// Messages in: a slice of the DATA frame when the message lies inside it, else one buffer of
/// the message's length, reserved when its prefix is complete.
struct Reader {
    body: RecvStream,
    /// The unread rest of the last DATA frame.
    chunk: Bytes,
    head: [u8; 5],
    head_len: usize,
    /// A message spanning frames, and its length.
    partial: Option<(BytesMut, usize)>,
}

impl Reader {
    fn new(body: RecvStream) -> Reader {
        Reader { body, chunk: Bytes::new(), head: [0; 5], head_len: 0, partial: None }
    }

    /// The next message, or `None` at the end of the stream.
    async fn message(&mut self) -> Result<Option<Bytes>, BoxError> {
        loop {
            if let Some(message) = self.take()? {
                return Ok(Some(message));
            }
            match self.body.data().await {
                Some(chunk) => {
                    let chunk = chunk?;
                    let _ = self.body.flow_control().release_capacity(chunk.len());
                    self.chunk = chunk;
                }
                None if self.head_len == 0 && self.partial.is_none() => return Ok(None),
                None => return Err("the stream ended inside a message".into()),
            }
        }
    }

    fn take(&mut self) -> Result<Option<Bytes>, BoxError> {
        if let Some((mut buf, len)) = self.partial.take() {
            let n = (len - buf.len()).min(self.chunk.len());
            buf.extend_from_slice(&self.chunk[..n]);
            self.chunk.advance(n);
            if buf.len() < len {
                self.partial = Some((buf, len));
                return Ok(None);
            }
            return Ok(Some(buf.freeze()));
        }
        let n = (5 - self.head_len).min(self.chunk.len());
        self.head[self.head_len..self.head_len + n].copy_from_slice(&self.chunk[..n]);
        self.chunk.advance(n);
        self.head_len += n;
        if self.head_len < 5 {
            return Ok(None);
        }
        self.head_len = 0;
        let len =
            u32::from_be_bytes([self.head[1], self.head[2], self.head[3], self.head[4]]) as usize;
        if self.head[0] != 0 || len > MAX_MESSAGE {
            return Err(format!("bad prefix {:?}", self.head).into());
        }
        if self.chunk.len() >= len {
            return Ok(Some(self.chunk.split_to(len)));
        }
        self.partial = Some((BytesMut::with_capacity(len), len));
        self.take()
    }

    /// After the last message: the trailers must say OK.
    async fn status(&mut self) -> Result<(), BoxError> {
        let trailers = self.body.trailers().await?.ok_or("no trailers")?;
        match trailers.get("grpc-status").map(HeaderValue::as_bytes) {
            Some(b"0") => Ok(()),
            other => Err(format!("call failed: grpc-status {other:?}").into()),
        }
    }
}

/// One HTTP/2 connection; each call clones the sender.
#[derive(Clone, Debug)]
pub struct FloorClient {
    send: SendRequest<Bytes>,
}

impl FloorClient {
    async fn start(
        &self,
        path: &str,
    ) -> Result<(h2::client::ResponseFuture, SendStream<Bytes>), BoxError> {
        let mut send = self.send.clone().ready().await?;
        let request = Request::post(format!("http://localhost{path}"))
            .header("content-type", "application/grpc")
            .header("te", "trailers")
            .body(())?;
        Ok(send.send_request(request, false)?)
    }

    async fn reader(response: h2::client::ResponseFuture) -> Result<Reader, BoxError> {
        let response = response.await?;
        if response.status() != http::StatusCode::OK {
            return Err(format!("HTTP status {}", response.status()).into());
        }
        Ok(Reader::new(response.into_body()))
    }
}

fn encode<M: Message>(message: &M) -> Bytes {
    let mut buf = BytesMut::with_capacity(5 + message.encoded_len());
    buf.put_u8(0);
    buf.put_u32(message.encoded_len() as u32);
    message.encode(&mut buf).expect("reserved");
    buf.freeze()
}

impl Client for FloorClient {
    async fn unary(&self, request: Payload) -> Result<Payload, BoxError> {
        let (response, mut stream) = self.start(paths::UNARY).await?;
        // One small message: within any window, so no wait for capacity.
        stream.send_data(encode(&request), true)?;
        let mut reader = Self::reader(response).await?;
        let reply = Payload::decode(reader.message().await?.ok_or("no reply")?)?;
        if reader.message().await?.is_some() {
            return Err("more than one reply".into());
        }
        reader.status().await?;
        Ok(reply)
    }

    async fn server_stream(&self, request: StreamReq) -> Result<StreamStats, BoxError> {
        let (response, mut stream) = self.start(paths::SERVER_STREAM).await?;
        stream.send_data(encode(&request), true)?;
        let mut reader = Self::reader(response).await?;
        let mut stats = StreamStats::default();
        while let Some(message) = reader.message().await? {
            let message = Payload::decode(message)?;
            stats.messages += 1;
            stats.bytes += message.data.len() as u64;
        }
        reader.status().await?;
        Ok(stats)
    }

    async fn ping_pong(
        &self,
        payload: Payload,
        warmup: u32,
        rounds: u32,
    ) -> Result<Duration, BoxError> {
        let (response, stream) = self.start(paths::BIDI).await?;
        let mut writer = Writer { stream, buf: BytesMut::new() };
        let mut reader = Self::reader(response).await?;
        let mut start = Instant::now();
        for i in 0..warmup + rounds {
            if i == warmup {
                start = Instant::now();
            }
            writer.feed(&payload);
            writer.flush().await?;
            Payload::decode(reader.message().await?.ok_or("the server ended the stream early")?)?;
        }
        let elapsed = start.elapsed();
        writer.stream.send_data(Bytes::new(), true)?;
        while reader.message().await?.is_some() {}
        reader.status().await?;
        Ok(elapsed)
    }
}
