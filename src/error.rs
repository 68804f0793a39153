//! The one transport error type: failures to bind, connect or speak HTTP/2.
//!
//! Call outcomes are [`Status`](crate::Status); `Error` is for everything around calls: a socket
//! path that cannot be bound, a target that does not parse, a peer that does not speak HTTP/2.

use std::fmt;

type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// What kind of transport failure an [`Error`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A target string (`unix:/path`, `host:port`, ...) did not parse.
    InvalidTarget,
    /// A listener could not be bound (path in use, not a socket, permissions).
    Bind,
    /// A connection could not be established.
    Connect,
    /// The HTTP/2 handshake failed (the peer is not an HTTP/2 server or client).
    Handshake,
    /// The peer broke the HTTP/2 protocol or the connection failed mid-way.
    Protocol,
    /// Any other IO failure.
    Io,
    /// A TLS configuration did not load (bad PEM, a key that does not fit its certificate), or
    /// a TLS handshake failed (an untrusted, expired or misnamed certificate; feature `tls`).
    Tls,
    /// A setting out of its range (a retry policy with fewer than 2 attempts, a throttling
    /// bucket of 0 tokens).
    InvalidConfig,
}

/// A transport failure, with a message that says what to do about it.
///
/// ```
/// use h2grpc::{Error, ErrorKind};
/// let err = Error::new(ErrorKind::InvalidTarget, "empty target: use unix:/path or host:port");
/// assert_eq!(err.kind(), ErrorKind::InvalidTarget);
/// assert_eq!(err.to_string(), "empty target: use unix:/path or host:port");
/// ```
pub struct Error {
    kind: ErrorKind,
    message: String,
    source: Option<BoxError>,
}

impl Error {
    /// An error of `kind` with `message`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Error {
        Error { kind, message: message.into(), source: None }
    }

    /// An error of `kind` with `message`, caused by `source`.
    pub fn with_source(
        kind: ErrorKind,
        message: impl Into<String>,
        source: impl Into<BoxError>,
    ) -> Error {
        Error { kind, message: message.into(), source: Some(source.into()) }
    }

    /// The kind of failure.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Error");
        d.field("kind", &self.kind).field("message", &self.message);
        if let Some(source) = &self.source {
            d.field("source", source);
        }
        d.finish()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.source {
            Some(source) => write!(f, "{}: {source}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_deref().map(|e| e as &(dyn std::error::Error + 'static))
    }
}

impl From<Error> for crate::status::Status {
    /// A transport failure seen by a call: UNAVAILABLE, as the spec says for connection failures.
    fn from(err: Error) -> crate::status::Status {
        crate::status::Status::unavailable(err.to_string())
    }
}
