//! [`Script`]: what a hostile peer does on a connection, as a list of [`Action`]s read from
//! fuzz bytes. `Debug` prints the builder calls that rebuild it (a Rust repro), and
//! `to_bytes` writes the bytes it is read from (how seeds are made).
//!
//! ```text
//! bytes:   [op] [operands...] [op] [operands...] ...      op % 15 picks the action;
//!          numbers big-endian; slices length-prefixed     missing bytes read as zero
//! Debug:   Script::new()
//!              .preface()
//!              .settings(&[(4, 65535)])
//!              .headers(1, false, &[(":method", "POST"), (":path", "/fuzz.Echo/Unary")])
//!              .grpc(1, true, &[b"abc"])
//! ```

use super::frames::FieldMode;

mod bytes;
mod debug;
mod wire;

pub(crate) use bytes::read_action;
use bytes::{clip16, clip8};
pub(crate) use wire::wire;

/// One step of a [`Script`].
#[derive(Clone, PartialEq, Eq)]
pub enum Action {
    /// The client connection preface.
    Preface,
    /// Bytes written as they are.
    Raw(Vec<u8>),
    /// From now on write in pieces of this many bytes, letting the peer run between pieces
    /// (0: whole writes).
    Chunk(u16),
    /// Any frame: type, flags, stream id, payload.
    Frame {
        /// Frame type.
        ty: u8,
        /// Frame flags.
        flags: u8,
        /// Stream id.
        stream: u32,
        /// Payload.
        payload: Vec<u8>,
    },
    /// SETTINGS with these parameters (or an ACK).
    Settings {
        /// An ACK instead of parameters (parameters are still written, making it invalid).
        ack: bool,
        /// `(identifier, value)` pairs.
        params: Vec<(u16, u32)>,
    },
    /// A header block: HEADERS, then CONTINUATION frames of `split` bytes when `split` is
    /// shorter than the block.
    Headers {
        /// Stream id.
        stream: u32,
        /// Bit 0 END_STREAM, bit 1 PRIORITY, bit 2 PADDED, bit 3 never END_HEADERS.
        flags: u8,
        /// CONTINUATION size (0: one frame).
        split: u16,
        /// The fields, each written as its mode says.
        fields: Vec<(FieldMode, Vec<u8>, Vec<u8>)>,
    },
    /// One DATA frame, padded with `pad - 1` bytes when `pad` is non-zero.
    Data {
        /// Stream id.
        stream: u32,
        /// END_STREAM.
        end_stream: bool,
        /// Padding (0: not padded).
        pad: u8,
        /// Payload.
        data: Vec<u8>,
    },
    /// Length-prefixed messages in DATA frames of at most 16 KiB.
    Grpc {
        /// Stream id.
        stream: u32,
        /// END_STREAM on the last frame.
        end_stream: bool,
        /// `(flag, announced length or the body's, body)`.
        messages: Vec<(u8, Option<u32>, Vec<u8>)>,
    },
    /// RST_STREAM.
    Reset {
        /// Stream id.
        stream: u32,
        /// Error code.
        code: u32,
    },
    /// WINDOW_UPDATE.
    WindowUpdate {
        /// Stream id (0: the connection).
        stream: u32,
        /// Increment.
        increment: u32,
    },
    /// PING.
    Ping {
        /// ACK flag.
        ack: bool,
        /// Opaque data.
        data: u64,
    },
    /// GOAWAY.
    GoAway {
        /// Last stream id.
        last: u32,
        /// Error code.
        code: u32,
        /// Debug data.
        debug: Vec<u8>,
    },
    /// Let the peer run until it has nothing left to do.
    Flush,
    /// Stop (`false`) or resume reading the peer's bytes; a write that would block reads
    /// anyway, so a script cannot deadlock itself.
    Reading(bool),
    /// `client_conn` only: start a call (`kind` picks unary, streaming, ...), with a timeout
    /// in milliseconds (0: none).
    Call {
        /// Which call.
        kind: u8,
        /// Timeout in ms, 0 for none.
        timeout_ms: u16,
    },
}

/// A hostile peer's script. See the module docs.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Script {
    actions: Vec<Action>,
}

impl Script {
    /// An empty script.
    pub fn new() -> Script {
        Script::default()
    }

    /// The actions, in order.
    pub fn actions(&self) -> &[Action] {
        &self.actions
    }

    pub(crate) fn push(mut self, action: Action) -> Script {
        self.actions.push(action);
        self
    }

    /// The client connection preface.
    pub fn preface(self) -> Script {
        self.push(Action::Preface)
    }

    /// Raw bytes (split into actions of at most 65,535 bytes).
    pub fn raw(mut self, bytes: &[u8]) -> Script {
        for piece in bytes.chunks(0xffff) {
            self = self.push(Action::Raw(piece.to_vec()));
        }
        self
    }

    /// Write in pieces of `size` bytes from now on (0: whole writes).
    pub fn chunk(self, size: u16) -> Script {
        self.push(Action::Chunk(size))
    }

    /// Any frame.
    pub fn frame(self, ty: u8, flags: u8, stream: u32, payload: &[u8]) -> Script {
        self.push(Action::Frame { ty, flags, stream, payload: clip16(payload) })
    }

    /// SETTINGS with these `(identifier, value)` pairs (at most 127).
    pub fn settings(self, params: &[(u16, u32)]) -> Script {
        let params = params[..params.len().min(127)].to_vec();
        self.push(Action::Settings { ack: false, params })
    }

    /// A SETTINGS ACK.
    pub fn settings_ack(self) -> Script {
        self.push(Action::Settings { ack: true, params: Vec::new() })
    }

    /// A header block of literal fields in one HEADERS frame.
    pub fn headers(self, stream: u32, end_stream: bool, fields: &[(&str, &str)]) -> Script {
        let fields: Vec<_> =
            fields.iter().map(|(n, v)| (FieldMode::Literal, n.as_bytes(), v.as_bytes())).collect();
        self.headers_with(stream, u8::from(end_stream), 0, &fields)
    }

    /// A header block with every knob: flags (see [`Action::Headers`]), CONTINUATION size,
    /// and how each field is written.
    pub fn headers_with(
        self,
        stream: u32,
        flags: u8,
        split: u16,
        fields: &[(FieldMode, &[u8], &[u8])],
    ) -> Script {
        let fields = fields.iter().take(255).map(|(m, n, v)| (*m, clip8(n), clip16(v))).collect();
        self.push(Action::Headers { stream, flags, split, fields })
    }

    /// One DATA frame.
    pub fn data(self, stream: u32, end_stream: bool, data: &[u8]) -> Script {
        self.data_padded(stream, end_stream, 0, data)
    }

    /// One DATA frame with `pad - 1` bytes of padding (0: not padded).
    pub fn data_padded(self, stream: u32, end_stream: bool, pad: u8, data: &[u8]) -> Script {
        self.push(Action::Data { stream, end_stream, pad, data: clip16(data) })
    }

    /// Well-formed uncompressed messages.
    pub fn grpc(self, stream: u32, end_stream: bool, messages: &[&[u8]]) -> Script {
        let messages: Vec<_> = messages.iter().map(|m| (0, None, *m)).collect();
        self.grpc_with(stream, end_stream, &messages)
    }

    /// Messages with any flag and any announced length.
    pub fn grpc_with(
        self,
        stream: u32,
        end_stream: bool,
        messages: &[(u8, Option<u32>, &[u8])],
    ) -> Script {
        let messages = messages.iter().take(255).map(|(f, l, b)| (*f, *l, clip16(b))).collect();
        self.push(Action::Grpc { stream, end_stream, messages })
    }

    /// RST_STREAM.
    pub fn reset(self, stream: u32, code: u32) -> Script {
        self.push(Action::Reset { stream, code })
    }

    /// WINDOW_UPDATE.
    pub fn window_update(self, stream: u32, increment: u32) -> Script {
        self.push(Action::WindowUpdate { stream, increment })
    }

    /// PING.
    pub fn ping(self, ack: bool, data: u64) -> Script {
        self.push(Action::Ping { ack, data })
    }

    /// GOAWAY.
    pub fn goaway(self, last: u32, code: u32, debug: &[u8]) -> Script {
        self.push(Action::GoAway { last, code, debug: clip8(debug) })
    }

    /// Let the peer run.
    pub fn flush(self) -> Script {
        self.push(Action::Flush)
    }

    /// Stop or resume reading the peer's bytes.
    pub fn reading(self, on: bool) -> Script {
        self.push(Action::Reading(on))
    }

    /// `client_conn`: start a call.
    pub fn call(self, kind: u8, timeout_ms: u16) -> Script {
        self.push(Action::Call { kind, timeout_ms })
    }
}

#[cfg(test)]
mod tests;
