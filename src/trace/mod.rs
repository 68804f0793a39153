//! Making the wire visible: a per-call trace of what each side sends and receives, a tap that
//! records a connection's raw bytes, and a decoder of those bytes into HTTP/2 frames with the
//! gRPC messages inside split out.
//!
//! # The call-level trace
//!
//! Turn it on with [`Server::builder().trace(..)`](crate::server::Builder::trace) or
//! [`ChannelBuilder::trace`](crate::client::ChannelBuilder::trace). Each event names the side
//! that saw it, the HTTP/2 stream and the direction (`→` sent by that side, `←` received):
//!
//! ```text
//! client → stream 1: HEADERS (request)
//!     :method: POST
//!     :scheme: http
//!     :authority: localhost
//!     :path: /example.v1.ExampleService/Square
//!     te: trailers
//!     content-type: application/grpc
//!     user-agent: grpc-rust-h2grpc/0.1.0
//! client → stream 1: MESSAGE flag 0, length 2: 08 0c
//!     Number { value: 12 }
//! server ← stream 1: HEADERS (request)
//! ...
//! server → stream 1: TRAILERS
//!     grpc-status: 0
//!     = OK
//! ```
//!
//! Messages show their Compressed-Flag, their length and their first 16 bytes in hex, then the
//! decoded message (`Debug`) when the call is typed; trailers and Trailers-Only responses show
//! the status they carry, with `grpc-message` percent-decoded; `RST_STREAM` and `GOAWAY` show
//! their error code. With TLS (feature `tls`), each connection also reports its handshake,
//! `TLS TLSv1_3, TLS13_AES_256_GCM_SHA384, ALPN h2, SNI localhost` ([`Payload::Tls`]), and a
//! server each connection it refused and why ([`Payload::TlsFailed`]). Events go to a [`TraceSink`]: [`Trace::stderr`], [`Trace::to_writer`],
//! a [`MemorySink`] (tests), a closure, or, with the `tracing` feature, `Trace::tracing()`.
//!
//! The trace is off by default and free when off: each call holds a one-word handle, and
//! every hook is an inlined test of that word, with nothing allocated or formatted
//! (`benches/trace.rs` measures it). The examples turn it on from the environment with [`Trace::from_env`]:
//! `H2GRPC_TRACE=1 cargo run --example streaming`.
//!
//! # The transport tap and the frame decoder
//!
//! [`Tap`] wraps any `AsyncRead + AsyncWrite` and records every byte both ways into a
//! [`TapLog`]; hand the tapped stream to
//! [`Server::serve_connection`](crate::Server::serve_connection) or
//! [`ChannelBuilder::connect_with_io`](crate::client::ChannelBuilder::connect_with_io).
//! [`frames`] (or the resumable [`FrameReader`]) turns the bytes of one direction into
//! [`Frame`]s: type, flags, stream id, length, SETTINGS by name, WINDOW_UPDATE increments,
//! PING, GOAWAY, RST_STREAM, header block sizes, and the gRPC messages inside DATA frames,
//! reassembled across frames per stream. `cargo run --example wiretap` prints an annotated
//! transcript built this way; `WIRE.md` is its output.
//!
//! Header blocks are HPACK-compressed, and stay so here: the decoder reports each block's
//! size, and the decoded header fields come from the call-level trace, where `h2` hands them
//! over already decoded. (No maintained HPACK crate fits; `h2`'s own decoder is private.)
//!
//! # Layout
//!
//! ```text
//! mod.rs      Trace, TraceSink, Direction, Trace::from_env (Side is status::mapping's)
//! event.rs    Event, Payload, Kind and how each prints
//! sink.rs     WriteSink, MemorySink, Recorded, TracingSink (feature "tracing")
//! call.rs     CallTrace: the per-call handle the server and client hooks hold, inert when off
//! tap.rs      Tap<IO>, TapLog, Chunk
//! frames.rs   frames(), FrameReader, Frame, FramePayload, GrpcMessage
//! ```

mod call;
mod event;
mod frames;
mod sink;
mod tap;

use std::fmt;
use std::io::Write;
use std::sync::Arc;

pub(crate) use self::call::{CallTrace, Preformatted};
pub use self::event::{Event, Kind, Payload};
pub use self::frames::{
    error_code_name, frames, settings_name, Frame, FramePayload, FrameReader, GrpcMessage, Setting,
    CLIENT_PREFACE,
};
#[cfg(feature = "tracing")]
pub use self::sink::TracingSink;
pub use self::sink::{MemorySink, Recorded, WriteSink};
pub use self::tap::{Chunk, Tap, TapLog};

/// The environment variable [`Trace::from_env`] reads.
pub const ENV_VAR: &str = "H2GRPC_TRACE";

/// Which end of the connection saw an event (defined with the status mapping, which reads
/// `h2`'s failures per side).
pub use crate::status::mapping::Side;

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Side::Client => "client",
            Side::Server => "server",
        })
    }
}

/// Whether the side that saw an event sent it or received it. Prints as `→` and `←`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Sent by this side (written, for a [`Tap`]).
    Send,
    /// Received by this side (read, for a [`Tap`]).
    Recv,
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Direction::Send => "→",
            Direction::Recv => "←",
        })
    }
}

/// Where trace events go. Implemented by the ready-made sinks and by any
/// `Fn(&Event) + Send + Sync` closure.
///
/// Events are delivered synchronously from the task that produced them (sometimes with a
/// per-call lock held): a sink should be quick and must not block on the call it observes.
///
/// ```
/// use h2grpc::trace::{Event, Kind, Trace};
///
/// let trace = Trace::new(|event: &Event<'_>| {
///     if event.kind() == Kind::Trailers {
///         eprintln!("{event}");
///     }
/// });
/// assert!(trace.is_on());
/// ```
pub trait TraceSink: Send + Sync + 'static {
    /// Receives one event.
    fn event(&self, event: &Event<'_>);
}

impl<F> TraceSink for F
where
    F: Fn(&Event<'_>) + Send + Sync + 'static,
{
    fn event(&self, event: &Event<'_>) {
        self(event)
    }
}

/// A `Trace` is itself a sink, forwarding to its own sink when on: sinks compose.
impl TraceSink for Trace {
    fn event(&self, event: &Event<'_>) {
        if let Some(sink) = &self.0 {
            sink.event(event);
        }
    }
}

/// The trace setting of a server or a channel: off, or a [`TraceSink`] to send events to.
///
/// Cheap to clone (an `Option<Arc<..>>`); [`Trace::off`] is the default.
///
/// ```
/// use h2grpc::trace::{MemorySink, Trace};
///
/// assert!(!Trace::default().is_on());
/// let sink = MemorySink::new();
/// let trace = Trace::new(sink.clone()); // events land in `sink`, e.g. for a test
/// assert!(trace.is_on());
/// assert!(sink.records().is_empty());
/// ```
#[derive(Clone, Default)]
pub struct Trace(Option<Arc<dyn TraceSink>>);

impl fmt::Debug for Trace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.is_on() { "Trace(on)" } else { "Trace(off)" })
    }
}

impl Trace {
    /// No tracing: the default.
    pub fn off() -> Trace {
        Trace(None)
    }

    /// Sends events to `sink`.
    pub fn new(sink: impl TraceSink) -> Trace {
        Trace(Some(Arc::new(sink)))
    }

    /// Sends events to a sink shared with other owners.
    pub fn from_arc(sink: Arc<dyn TraceSink>) -> Trace {
        Trace(Some(sink))
    }

    /// Writes each event to standard error, as text.
    pub fn stderr() -> Trace {
        Trace::new(WriteSink::new(std::io::stderr()))
    }

    /// Writes each event to `writer`, as text, one event per write.
    ///
    /// ```
    /// let trace = h2grpc::trace::Trace::to_writer(Vec::new());
    /// assert!(trace.is_on());
    /// ```
    pub fn to_writer(writer: impl Write + Send + 'static) -> Trace {
        Trace::new(WriteSink::new(writer))
    }

    /// Sends events to the `tracing` crate, target `h2grpc::trace`: headers, trailers,
    /// resets and GOAWAY at `DEBUG`, messages at `TRACE`.
    #[cfg(feature = "tracing")]
    pub fn tracing() -> Trace {
        Trace::new(TracingSink)
    }

    /// The setting the environment asks for, for examples and tools: `H2GRPC_TRACE=1` (or
    /// `stderr`) writes events to standard error; with the `tracing` feature,
    /// `H2GRPC_TRACE=tracing` sends them to `tracing`. Unset, empty or `0`: off.
    ///
    /// Nothing reads the variable unless this is called: a library user's trace stays off
    /// whatever the environment says.
    ///
    /// ```
    /// // With H2GRPC_TRACE unset:
    /// # std::env::remove_var(h2grpc::trace::ENV_VAR);
    /// assert!(!h2grpc::trace::Trace::from_env().is_on());
    /// ```
    pub fn from_env() -> Trace {
        match std::env::var(ENV_VAR).as_deref() {
            Err(_) | Ok("") | Ok("0") => Trace::off(),
            #[cfg(feature = "tracing")]
            Ok("tracing") => Trace::tracing(),
            Ok(_) => Trace::stderr(),
        }
    }

    /// Whether events are being sent anywhere.
    pub fn is_on(&self) -> bool {
        self.0.is_some()
    }

    /// The handle one call's hooks hold, which does nothing when the trace is off.
    /// `stream_id` is only asked for when the trace is on (reading it takes `h2`'s stream
    /// lock).
    #[inline]
    pub(crate) fn call(&self, side: Side, stream_id: impl FnOnce() -> u32) -> CallTrace {
        match &self.0 {
            None => CallTrace::off(),
            Some(sink) => CallTrace::new(sink.clone(), side, stream_id()),
        }
    }

    /// Sends one connection-level event (stream 0), if on.
    #[inline]
    pub(crate) fn connection(&self, side: Side, direction: Direction, payload: Payload<'_>) {
        if let Some(sink) = &self.0 {
            sink.event(&Event { side, stream_id: 0, direction, payload });
        }
    }
}
