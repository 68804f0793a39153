//! What calls give back: [`Response`] for a single message, [`ResponseStream`] for a stream.
//! Both read through the [`ResponseReader`] in `response_reader.rs`.

use std::fmt;
use std::marker::PhantomData;

use super::response_reader::ResponseReader;
use crate::metadata::Metadata;
use crate::status::Status;

/// A unary or client-streaming call's result: the message with its headers and trailers.
///
/// ```
/// # use h2grpc::client::Response;
/// # fn show(response: Response<String>) {
/// println!("served by {:?}", response.headers().get("x-served-by"));
/// let reply: String = response.into_inner();
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct Response<T> {
    headers: Metadata,
    message: T,
    trailers: Metadata,
    /// The message arrived compressed (Compressed-Flag 1).
    #[cfg_attr(not(feature = "compression"), allow(dead_code))]
    compressed: bool,
}

impl<T> Response<T> {
    /// Reads a single response message and the OK status after it.
    pub(crate) async fn read(mut reader: ResponseReader) -> Result<Response<T>, Status>
    where
        T: prost::Message + Default + fmt::Debug,
    {
        let Some(first) = reader.message().await? else {
            return Err(Status::unimplemented(
                "response cardinality violation: the server sent no response message",
            ));
        };
        let compressed = reader.last_compressed();
        // Decoded (and traced) now, in wire order; a second message still fails first.
        let decoded = reader.decode(first);
        if reader.message().await?.is_some() {
            return Err(reader.fail(Status::unimplemented(
                "response cardinality violation: the server sent more than one response message",
            )));
        }
        let message = decoded?;
        let (headers, trailers) = reader.into_metadata();
        Ok(Response { headers, message, trailers, compressed })
    }

    /// Whether the response message arrived compressed (Compressed-Flag 1). For diagnostics
    /// and interop tests: it is already decompressed.
    #[cfg(feature = "compression")]
    pub fn message_compressed(&self) -> bool {
        self.compressed
    }

    /// The response message.
    pub fn into_inner(self) -> T {
        self.message
    }

    /// The response message, borrowed.
    pub fn get_ref(&self) -> &T {
        &self.message
    }

    /// Response headers (initial metadata) the server sent.
    pub fn headers(&self) -> &Metadata {
        &self.headers
    }

    /// Trailing metadata the server sent with its OK status.
    pub fn trailers(&self) -> &Metadata {
        &self.trailers
    }

    /// Message, headers and trailers, taken apart.
    pub fn into_parts(self) -> (Metadata, T, Metadata) {
        (self.headers, self.message, self.trailers)
    }
}

/// The server's messages on a server-streaming or bidi call.
///
/// `message()` returns `Ok(None)` after the last message when the call ended OK, and the
/// status as `Err` otherwise. Dropping it before the end cancels the call (RST_STREAM CANCEL).
///
/// ```no_run
/// # async fn f(mut stream: h2grpc::client::ResponseStream<String>) -> Result<(), h2grpc::Status> {
/// while let Some(reply) = stream.message().await? {
///     println!("{reply}");
/// }
/// println!("trailers: {:?}", stream.trailers());
/// # Ok(()) }
/// ```
pub struct ResponseStream<T> {
    reader: ResponseReader,
    _type: PhantomData<fn() -> T>,
}

impl<T> fmt::Debug for ResponseStream<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Streaming").finish_non_exhaustive()
    }
}

impl<T: prost::Message + Default + fmt::Debug> ResponseStream<T> {
    pub(crate) fn new(reader: ResponseReader) -> ResponseStream<T> {
        ResponseStream { reader, _type: PhantomData }
    }

    /// The next message, `Ok(None)` at an OK end, or the call's failure.
    pub async fn message(&mut self) -> Result<Option<T>, Status> {
        match self.reader.message().await? {
            Some(bytes) => self.reader.decode(bytes).map(Some),
            None => Ok(None),
        }
    }

    /// The response headers, waiting for them if needed.
    pub async fn headers(&mut self) -> Result<&Metadata, Status> {
        self.reader.headers().await
    }

    /// The trailing metadata, once the stream has ended.
    pub fn trailers(&self) -> Option<&Metadata> {
        self.reader.trailers()
    }

    /// Cancels the call (RST_STREAM CANCEL); later reads fail with CANCELLED.
    pub fn cancel(&mut self) {
        self.reader.cancel();
    }

    /// Whether the last message [`message`](Self::message) returned arrived compressed
    /// (Compressed-Flag 1). For diagnostics and interop tests: it is already decompressed.
    #[cfg(feature = "compression")]
    pub fn last_message_compressed(&self) -> bool {
        self.reader.last_compressed()
    }
}
