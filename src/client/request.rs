//! [`AsRequest`]: a request message taken by value or by reference.

/// The request of a unary or server-streaming call: the message itself or a reference to it,
/// as every request in h2grpc is taken (generated clients, [`RequestSink::send`]). Only the
/// bytes are needed, so nothing is cloned either way.
///
/// ```no_run
/// # async fn f(channel: h2grpc::Channel) -> Result<(), h2grpc::Status> {
/// use h2grpc::{CallOptions, Method};
/// const SAY: Method<String, String> = Method::new("/echo.v1.Echo/Say");
/// let text = "hi".to_string();
/// channel.unary(SAY, &text, CallOptions::new()).await?; // by reference: kept
/// channel.unary(SAY, text, CallOptions::new()).await?; // by value
/// # Ok(()) }
/// ```
///
/// [`RequestSink::send`]: super::RequestSink::send
pub trait AsRequest<T>: sealed::Sealed<T> {
    /// The message.
    fn as_request(&self) -> &T;
}

mod sealed {
    pub trait Sealed<T> {}
}

impl<T: prost::Message> sealed::Sealed<T> for T {}
impl<T: prost::Message> AsRequest<T> for T {
    fn as_request(&self) -> &T {
        self
    }
}

impl<T: prost::Message> sealed::Sealed<T> for &T {}
impl<T: prost::Message> AsRequest<T> for &T {
    fn as_request(&self) -> &T {
        self
    }
}
