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

use std::fmt;

use super::frames::{self, FieldMode};
use super::input::{Cursor, FuzzInput};

/// At most this many actions are read from one input.
const MAX_ACTIONS: usize = 512;

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

fn clip8(b: &[u8]) -> Vec<u8> {
    b[..b.len().min(0xff)].to_vec()
}

fn clip16(b: &[u8]) -> Vec<u8> {
    b[..b.len().min(0xffff)].to_vec()
}

impl FuzzInput for Script {
    fn from_bytes(bytes: &[u8]) -> Script {
        let mut input = Cursor::new(bytes);
        let mut actions = Vec::new();
        while !input.is_empty() && actions.len() < MAX_ACTIONS {
            actions.push(read_action(&mut input));
        }
        Script { actions }
    }
}

pub(crate) fn read_action(input: &mut Cursor<'_>) -> Action {
    match input.u8() % 15 {
        0 => Action::Preface,
        1 => Action::Raw(input.bytes16().to_vec()),
        2 => Action::Chunk(input.u16()),
        3 => Action::Frame {
            ty: input.u8(),
            flags: input.u8(),
            stream: input.u32(),
            payload: input.bytes16().to_vec(),
        },
        4 => {
            let head = input.u8();
            let params = (0..head >> 1).map(|_| (input.u16(), input.u32())).collect();
            Action::Settings { ack: head & 1 == 1, params }
        }
        5 => {
            let (stream, flags, split) = (input.u32(), input.u8(), input.u16());
            let count = input.u8();
            let fields = (0..count)
                .map(|_| {
                    let mode = FieldMode::ALL[usize::from(input.u8()) % FieldMode::ALL.len()];
                    (mode, input.bytes8().to_vec(), input.bytes16().to_vec())
                })
                .collect();
            Action::Headers { stream, flags, split, fields }
        }
        6 => Action::Data {
            stream: input.u32(),
            end_stream: input.bool(),
            pad: input.u8(),
            data: input.bytes16().to_vec(),
        },
        7 => {
            let (stream, end_stream, count) = (input.u32(), input.bool(), input.u8());
            let messages = (0..count)
                .map(|_| {
                    let flag = input.u8();
                    let len = input.bool().then(|| input.u32());
                    (flag, len, input.bytes16().to_vec())
                })
                .collect();
            Action::Grpc { stream, end_stream, messages }
        }
        8 => Action::Reset { stream: input.u32(), code: input.u32() },
        9 => Action::WindowUpdate { stream: input.u32(), increment: input.u32() },
        10 => Action::Ping { ack: input.bool(), data: input.u64() },
        11 => {
            Action::GoAway { last: input.u32(), code: input.u32(), debug: input.bytes8().to_vec() }
        }
        12 => Action::Flush,
        13 => Action::Reading(input.bool()),
        _ => Action::Call { kind: input.u8(), timeout_ms: input.u16() },
    }
}

fn put16(out: &mut Vec<u8>, b: &[u8]) {
    out.extend_from_slice(&(b.len() as u16).to_be_bytes());
    out.extend_from_slice(b);
}

fn put8(out: &mut Vec<u8>, b: &[u8]) {
    out.push(b.len() as u8);
    out.extend_from_slice(b);
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

    /// The bytes [`FuzzInput::from_bytes`] reads this script from.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for action in &self.actions {
            match action {
                Action::Preface => out.push(0),
                Action::Raw(bytes) => {
                    out.push(1);
                    put16(&mut out, bytes);
                }
                Action::Chunk(n) => {
                    out.push(2);
                    out.extend_from_slice(&n.to_be_bytes());
                }
                Action::Frame { ty, flags, stream, payload } => {
                    out.extend_from_slice(&[3, *ty, *flags]);
                    out.extend_from_slice(&stream.to_be_bytes());
                    put16(&mut out, payload);
                }
                Action::Settings { ack, params } => {
                    out.extend_from_slice(&[4, (params.len() as u8) << 1 | u8::from(*ack)]);
                    for (id, value) in params {
                        out.extend_from_slice(&id.to_be_bytes());
                        out.extend_from_slice(&value.to_be_bytes());
                    }
                }
                Action::Headers { stream, flags, split, fields } => {
                    out.push(5);
                    out.extend_from_slice(&stream.to_be_bytes());
                    out.push(*flags);
                    out.extend_from_slice(&split.to_be_bytes());
                    out.push(fields.len() as u8);
                    for (mode, name, value) in fields {
                        out.push(FieldMode::ALL.iter().position(|m| m == mode).unwrap_or(0) as u8);
                        put8(&mut out, name);
                        put16(&mut out, value);
                    }
                }
                Action::Data { stream, end_stream, pad, data } => {
                    out.push(6);
                    out.extend_from_slice(&stream.to_be_bytes());
                    out.extend_from_slice(&[u8::from(*end_stream), *pad]);
                    put16(&mut out, data);
                }
                Action::Grpc { stream, end_stream, messages } => {
                    out.push(7);
                    out.extend_from_slice(&stream.to_be_bytes());
                    out.extend_from_slice(&[u8::from(*end_stream), messages.len() as u8]);
                    for (flag, len, body) in messages {
                        out.extend_from_slice(&[*flag, u8::from(len.is_some())]);
                        if let Some(len) = len {
                            out.extend_from_slice(&len.to_be_bytes());
                        }
                        put16(&mut out, body);
                    }
                }
                Action::Reset { stream, code } => {
                    out.push(8);
                    out.extend_from_slice(&stream.to_be_bytes());
                    out.extend_from_slice(&code.to_be_bytes());
                }
                Action::WindowUpdate { stream, increment } => {
                    out.push(9);
                    out.extend_from_slice(&stream.to_be_bytes());
                    out.extend_from_slice(&increment.to_be_bytes());
                }
                Action::Ping { ack, data } => {
                    out.extend_from_slice(&[10, u8::from(*ack)]);
                    out.extend_from_slice(&data.to_be_bytes());
                }
                Action::GoAway { last, code, debug } => {
                    out.push(11);
                    out.extend_from_slice(&last.to_be_bytes());
                    out.extend_from_slice(&code.to_be_bytes());
                    put8(&mut out, debug);
                }
                Action::Flush => out.push(12),
                Action::Reading(on) => out.extend_from_slice(&[13, u8::from(*on)]),
                Action::Call { kind, timeout_ms } => {
                    out.extend_from_slice(&[14, *kind]);
                    out.extend_from_slice(&timeout_ms.to_be_bytes());
                }
            }
        }
        out
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

/// The bytes one action puts on the wire (nothing for the runner's own actions).
pub(crate) fn wire(action: &Action) -> Vec<u8> {
    let mut out = Vec::new();
    match action {
        Action::Preface => out.extend_from_slice(frames::PREFACE),
        Action::Raw(bytes) => out.extend_from_slice(bytes),
        Action::Frame { ty, flags, stream, payload } => {
            frames::frame(&mut out, *ty, *flags, *stream, payload)
        }
        Action::Settings { ack, params } => {
            let payload: Vec<u8> = params
                .iter()
                .flat_map(|(id, value)| id.to_be_bytes().into_iter().chain(value.to_be_bytes()))
                .collect();
            let flags = if *ack { frames::ACK } else { 0 };
            frames::frame(&mut out, frames::SETTINGS, flags, 0, &payload);
        }
        Action::Headers { stream, flags, split, fields } => {
            headers(&mut out, *stream, *flags, usize::from(*split), fields)
        }
        Action::Data { stream, end_stream, pad, data } => {
            let mut flags = if *end_stream { frames::END_STREAM } else { 0 };
            let mut payload = Vec::new();
            if *pad > 0 {
                flags |= frames::PADDED;
                payload.push(pad - 1);
            }
            payload.extend_from_slice(data);
            payload.resize(payload.len() + usize::from(pad.saturating_sub(1)), 0);
            frames::frame(&mut out, frames::DATA, flags, *stream, &payload);
        }
        Action::Grpc { stream, end_stream, messages } => {
            let mut body = Vec::new();
            for (flag, len, message) in messages {
                body.push(*flag);
                let len = len.unwrap_or(message.len() as u32);
                body.extend_from_slice(&len.to_be_bytes());
                body.extend_from_slice(message);
            }
            let pieces: Vec<&[u8]> =
                if body.is_empty() { vec![&[]] } else { body.chunks(16 * 1024).collect() };
            for (i, piece) in pieces.iter().enumerate() {
                let last = i + 1 == pieces.len();
                let flags = if last && *end_stream { frames::END_STREAM } else { 0 };
                frames::frame(&mut out, frames::DATA, flags, *stream, piece);
            }
        }
        Action::Reset { stream, code } => {
            frames::frame(&mut out, frames::RST_STREAM, 0, *stream, &code.to_be_bytes())
        }
        Action::WindowUpdate { stream, increment } => {
            frames::frame(&mut out, frames::WINDOW_UPDATE, 0, *stream, &increment.to_be_bytes())
        }
        Action::Ping { ack, data } => {
            let flags = if *ack { frames::ACK } else { 0 };
            frames::frame(&mut out, frames::PING, flags, 0, &data.to_be_bytes());
        }
        Action::GoAway { last, code, debug } => {
            let mut payload = last.to_be_bytes().to_vec();
            payload.extend_from_slice(&code.to_be_bytes());
            payload.extend_from_slice(debug);
            frames::frame(&mut out, frames::GOAWAY, 0, 0, &payload);
        }
        Action::Chunk(_) | Action::Flush | Action::Reading(_) | Action::Call { .. } => {}
    }
    out
}

fn headers(
    out: &mut Vec<u8>,
    stream: u32,
    flags: u8,
    split: usize,
    fields: &[(FieldMode, Vec<u8>, Vec<u8>)],
) {
    let mut block = Vec::new();
    for (mode, name, value) in fields {
        frames::field(&mut block, *mode, name, value);
    }
    let end_headers = if flags & 8 == 0 { frames::END_HEADERS } else { 0 };
    let mut first_flags = if flags & 1 == 1 { frames::END_STREAM } else { 0 };
    let mut payload = Vec::new();
    if flags & 4 != 0 {
        first_flags |= frames::PADDED;
        payload.push(3);
    }
    if flags & 2 != 0 {
        first_flags |= frames::PRIORITY_FLAG;
        payload.extend_from_slice(&[0, 0, 0, 0, 15]);
    }
    let pieces: Vec<&[u8]> = if split == 0 || split >= block.len() {
        vec![&block]
    } else {
        block.chunks(split).collect()
    };
    for (i, piece) in pieces.iter().enumerate() {
        let last = if i + 1 == pieces.len() { end_headers } else { 0 };
        if i == 0 {
            payload.extend_from_slice(piece);
            if flags & 4 != 0 {
                payload.extend_from_slice(&[0; 3]);
            }
            frames::frame(out, frames::HEADERS, first_flags | last, stream, &payload);
        } else {
            frames::frame(out, frames::CONTINUATION, last, stream, piece);
        }
    }
}

/// `b"..."`: a byte string literal, escaped as Rust reads it.
fn lit(bytes: &[u8]) -> String {
    let mut s = String::from("b\"");
    for &b in bytes {
        match b {
            b'"' => s.push_str("\\\""),
            b'\\' => s.push_str("\\\\"),
            b'\n' => s.push_str("\\n"),
            b'\r' => s.push_str("\\r"),
            b'\t' => s.push_str("\\t"),
            0x20..=0x7e => s.push(char::from(b)),
            _ => s.push_str(&format!("\\x{b:02x}")),
        }
    }
    s.push('"');
    s
}

/// A printable string as a `"..."` literal, when it is one.
fn text(bytes: &[u8]) -> Option<String> {
    let s = std::str::from_utf8(bytes).ok()?;
    s.bytes().all(|b| (0x20..=0x7e).contains(&b)).then(|| format!("{s:?}"))
}

impl fmt::Debug for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Action::Preface => write!(f, ".preface()"),
            Action::Raw(bytes) => write!(f, ".raw({})", lit(bytes)),
            Action::Chunk(n) => write!(f, ".chunk({n})"),
            Action::Frame { ty, flags, stream, payload } => {
                write!(f, ".frame({ty}, {flags:#04x}, {stream}, {})", lit(payload))
            }
            Action::Settings { ack: true, params } if params.is_empty() => {
                write!(f, ".settings_ack()")
            }
            Action::Settings { ack: false, params } => write!(f, ".settings(&{params:?})"),
            Action::Settings { params, .. } => {
                let payload: Vec<u8> = params
                    .iter()
                    .flat_map(|(i, v)| i.to_be_bytes().into_iter().chain(v.to_be_bytes()))
                    .collect();
                write!(f, ".frame(4, 0x01, 0, {})", lit(&payload))
            }
            Action::Headers { stream, flags, split, fields } => {
                let simple: Option<Vec<String>> = fields
                    .iter()
                    .map(|(mode, name, value)| match mode {
                        FieldMode::Literal => Some(format!("({}, {})", text(name)?, text(value)?)),
                        _ => None,
                    })
                    .collect();
                match simple {
                    Some(fields) if *flags <= 1 && *split == 0 => {
                        write!(f, ".headers({stream}, {}, &[{}])", *flags == 1, fields.join(", "))
                    }
                    _ => {
                        let fields: Vec<String> = fields
                            .iter()
                            .map(|(m, n, v)| {
                                format!("(FieldMode::{m:?}, &{}[..], &{}[..])", lit(n), lit(v))
                            })
                            .collect();
                        write!(
                            f,
                            ".headers_with({stream}, {flags:#04x}, {split}, &[{}])",
                            fields.join(", ")
                        )
                    }
                }
            }
            Action::Data { stream, end_stream, pad: 0, data } => {
                write!(f, ".data({stream}, {end_stream}, {})", lit(data))
            }
            Action::Data { stream, end_stream, pad, data } => {
                write!(f, ".data_padded({stream}, {end_stream}, {pad}, {})", lit(data))
            }
            Action::Grpc { stream, end_stream, messages } => {
                if messages.iter().all(|(flag, len, _)| *flag == 0 && len.is_none()) {
                    let bodies: Vec<String> =
                        messages.iter().map(|(_, _, b)| format!("&{}[..]", lit(b))).collect();
                    write!(f, ".grpc({stream}, {end_stream}, &[{}])", bodies.join(", "))
                } else {
                    let messages: Vec<String> = messages
                        .iter()
                        .map(|(flag, len, b)| format!("({flag}, {len:?}, &{}[..])", lit(b)))
                        .collect();
                    write!(f, ".grpc_with({stream}, {end_stream}, &[{}])", messages.join(", "))
                }
            }
            Action::Reset { stream, code } => write!(f, ".reset({stream}, {code})"),
            Action::WindowUpdate { stream, increment } => {
                write!(f, ".window_update({stream}, {increment})")
            }
            Action::Ping { ack, data } => write!(f, ".ping({ack}, {data:#x})"),
            Action::GoAway { last, code, debug } => {
                write!(f, ".goaway({last}, {code}, {})", lit(debug))
            }
            Action::Flush => write!(f, ".flush()"),
            Action::Reading(on) => write!(f, ".reading({on})"),
            Action::Call { kind, timeout_ms } => write!(f, ".call({kind}, {timeout_ms})"),
        }
    }
}

impl fmt::Debug for Script {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Script::new()")?;
        for action in &self.actions {
            write!(f, "\n    {action:?}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn every_action() -> Script {
        Script::new()
            .preface()
            .raw(b"\x00\"\\x")
            .chunk(3)
            .frame(2, 0, 1, b"\x00\x00\x00\x00\x10")
            .settings(&[(4, 65535), (5, 1 << 20)])
            .settings_ack()
            .headers(1, false, &[(":method", "POST"), ("te", "trailers")])
            .headers_with(
                3,
                0x0f,
                2,
                &[
                    (FieldMode::Raw, &b"\x82"[..], &b""[..]),
                    (FieldMode::TableSize, &b"\x10"[..], &b""[..]),
                ],
            )
            .data(1, false, b"abc")
            .data_padded(1, true, 9, b"")
            .grpc(3, false, &[&b"x"[..], &b""[..]])
            .grpc_with(3, true, &[(7, Some(u32::MAX), &b"y"[..])])
            .reset(1, 8)
            .window_update(0, 1)
            .ping(true, 7)
            .goaway(1, 2, b"bye")
            .flush()
            .reading(false)
            .call(2, 100)
    }

    #[test]
    fn from_bytes_reads_back_what_to_bytes_wrote() {
        let script = every_action();
        assert_eq!(Script::from_bytes(&script.to_bytes()), script);
    }

    #[test]
    fn debug_prints_the_builder_calls() {
        let shown = format!("{:?}", every_action());
        assert!(shown.starts_with("Script::new()\n    .preface()\n    .raw(b\"\\x00\\\"\\\\x\")"));
        assert!(shown
            .contains(".headers(1, false, &[(\":method\", \"POST\"), (\"te\", \"trailers\")])"));
        assert!(shown.contains(".grpc_with(3, true, &[(7, Some(4294967295), &b\"y\"[..])])"));
        assert!(shown.contains(".grpc(3, false, &[&b\"x\"[..], &b\"\"[..]])"));
    }

    #[test]
    fn any_bytes_are_a_script() {
        for len in 0..64 {
            let bytes: Vec<u8> = (0..len).map(|i| (i * 37 + 11) as u8).collect();
            let script = Script::from_bytes(&bytes);
            for action in script.actions() {
                let _ = wire(action);
            }
            let _ = format!("{script:?}");
        }
    }

    #[test]
    fn headers_split_into_continuation_frames() {
        let action = Action::Headers {
            stream: 1,
            flags: 1,
            split: 4,
            fields: vec![(FieldMode::Literal, b"ab".to_vec(), b"cd".to_vec())],
        };
        let out = wire(&action);
        // Block: 00 02 a b 02 c d (7 bytes) -> HEADERS(4, END_STREAM) + CONTINUATION(3, END_HEADERS)
        assert_eq!(&out[..9], &[0, 0, 4, frames::HEADERS, frames::END_STREAM, 0, 0, 0, 1]);
        assert_eq!(&out[13..22], &[0, 0, 3, frames::CONTINUATION, frames::END_HEADERS, 0, 0, 0, 1]);
    }
}
