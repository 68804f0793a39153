//! Ready-made sinks: text to a writer, records in memory, events to `tracing`.

use std::fmt;
use std::io::Write;
use std::sync::{Arc, Mutex};

use super::{Direction, Event, Kind, Side, TraceSink};

/// Writes each event as text followed by a newline, in one `write_all` per event, so that
/// events from concurrent calls do not interleave within a line. Write errors are ignored.
///
/// ```
/// use h2grpc::trace::{Trace, WriteSink};
/// let trace = Trace::new(WriteSink::new(std::io::stdout()));
/// # drop(trace);
/// ```
pub struct WriteSink<W> {
    writer: Mutex<W>,
}

impl<W> fmt::Debug for WriteSink<W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WriteSink").finish_non_exhaustive()
    }
}

impl<W: Write + Send + 'static> WriteSink<W> {
    /// A sink writing to `writer`.
    pub fn new(writer: W) -> WriteSink<W> {
        WriteSink { writer: Mutex::new(writer) }
    }
}

impl<W: Write + Send + 'static> TraceSink for WriteSink<W> {
    fn event(&self, event: &Event<'_>) {
        let text = format!("{event}\n");
        let mut writer = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        let _ = writer.write_all(text.as_bytes());
        let _ = writer.flush();
    }
}

/// One event as a [`MemorySink`] keeps it: who, where, what, and the printed payload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recorded {
    /// The side that saw it.
    pub side: Side,
    /// The stream, 0 for the connection.
    pub stream_id: u32,
    /// Sent or received.
    pub direction: Direction,
    /// The kind of payload.
    pub kind: Kind,
    /// The payload as [`Payload`](super::Payload)'s `Display` prints it: a first line, then
    /// detail lines indented by four spaces.
    pub text: String,
}

impl fmt::Display for Recorded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.stream_id == 0 {
            write!(f, "{} {} connection: {}", self.side, self.direction, self.text)
        } else {
            write!(f, "{} {} stream {}: {}", self.side, self.direction, self.stream_id, self.text)
        }
    }
}

/// Keeps every event in memory, for tests and for tools that print them later. Clones share
/// the same records.
///
/// ```
/// use h2grpc::trace::{MemorySink, Trace};
///
/// let sink = MemorySink::new();
/// let trace = Trace::new(sink.clone());
/// // ... run calls with `trace` on a server or channel, then:
/// for record in sink.take() {
///     println!("{record}");
/// }
/// # drop(trace);
/// ```
#[derive(Clone, Debug, Default)]
pub struct MemorySink {
    records: Arc<Mutex<Vec<Recorded>>>,
}

impl MemorySink {
    /// An empty sink.
    pub fn new() -> MemorySink {
        MemorySink::default()
    }

    /// A copy of the records so far, in the order they arrived.
    pub fn records(&self) -> Vec<Recorded> {
        self.lock().clone()
    }

    /// The records so far, leaving the sink empty.
    pub fn take(&self) -> Vec<Recorded> {
        std::mem::take(&mut *self.lock())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Recorded>> {
        self.records.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl TraceSink for MemorySink {
    fn event(&self, event: &Event<'_>) {
        let record = Recorded {
            side: event.side,
            stream_id: event.stream_id,
            direction: event.direction,
            kind: event.kind(),
            text: event.payload.to_string(),
        };
        self.lock().push(record);
    }
}

/// Sends events to the `tracing` crate (feature `tracing`), target `h2grpc::trace`, with the
/// fields `side`, `stream`, `direction` and `kind`, and the printed payload as the message.
/// Header blocks, trailers, resets and GOAWAY are `DEBUG`; messages are `TRACE`.
#[cfg(feature = "tracing")]
#[derive(Clone, Copy, Debug, Default)]
pub struct TracingSink;

#[cfg(feature = "tracing")]
impl TraceSink for TracingSink {
    fn event(&self, event: &Event<'_>) {
        let side = match event.side {
            Side::Client => "client",
            Side::Server => "server",
        };
        let direction = match event.direction {
            Direction::Send => "send",
            Direction::Recv => "recv",
        };
        let kind = event.kind();
        let payload = &event.payload;
        // One callsite per level: `tracing` fixes an event's level where it is written.
        macro_rules! at {
            ($level:ident) => {
                tracing::$level!(
                    target: "h2grpc::trace",
                    side,
                    stream = event.stream_id,
                    direction,
                    kind = ?kind,
                    "{payload}"
                )
            };
        }
        if kind == Kind::Message {
            at!(trace);
        } else {
            at!(debug);
        }
    }
}
