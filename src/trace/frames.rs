//! HTTP/2 frames out of raw connection bytes (RFC 9113 §4.1), with the gRPC messages inside
//! DATA frames split out.
//!
//! ```text
//! offset: 0          3      4       5                   9
//!         +----------+------+-------+-------------------+----------------------+
//!         | length   | type | flags | R | stream id     | payload: length bytes |
//!         | 24 bits  | 8    | 8     | 1 | 31 bits       |                      |
//!         +----------+------+-------+-------------------+----------------------+
//!
//! 00 00 04 08 00 00 00 00 00 | 00 3f 00 01  --> WINDOW_UPDATE stream 0, increment 4128769
//! 00 00 04 03 00 00 00 00 01 | 00 00 00 08  --> RST_STREAM stream 1, CANCEL
//! ```
//!
//! The client's bytes start with the 24-byte connection preface, `PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n`,
//! reported as [`FramePayload::Preface`]. DATA payloads are fed, per stream, to a
//! Length-Prefixed-Message splitter, so a message split over several DATA frames is reported
//! whole in the frame that completes it. Header blocks are HPACK-compressed and reported as
//! bytes: no HPACK decoding happens here.
//!
//! The decoder never panics and never allocates more than the bytes it is given: a frame whose
//! payload breaks its type's rules is [`FramePayload::Malformed`], and decoding goes on with
//! the next frame.

use std::collections::HashMap;
use std::fmt;

use super::event::hex_head;
use crate::codec::HEADER_LEN;

/// The client connection preface (RFC 9113 §3.4).
pub const CLIENT_PREFACE: &[u8; 24] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

const FRAME_HEADER_LEN: usize = 9;

/// One HTTP/2 frame (or the client preface), decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    /// The payload length from the frame header (24 bits); 24 for the preface.
    pub len: u32,
    /// The frame type: 0 DATA, 1 HEADERS, 2 PRIORITY, 3 RST_STREAM, 4 SETTINGS, 5 PUSH_PROMISE,
    /// 6 PING, 7 GOAWAY, 8 WINDOW_UPDATE, 9 CONTINUATION.
    pub kind: u8,
    /// The flags byte.
    pub flags: u8,
    /// The stream identifier (31 bits); 0 for frames about the connection.
    pub stream_id: u32,
    /// The 9 header bytes as they were on the wire (empty for the preface).
    pub head: Vec<u8>,
    /// The payload, decoded by type.
    pub payload: FramePayload,
}

/// A frame's payload, by frame type.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FramePayload {
    /// The client connection preface, [`CLIENT_PREFACE`]; not a frame.
    Preface,
    /// DATA: bytes of the stream's gRPC messages.
    Data {
        /// Data bytes, padding excluded.
        data_len: usize,
        /// The Pad Length field, if the PADDED flag is set.
        padding: Option<u8>,
        /// The gRPC messages this frame completes (begun here or in earlier frames).
        messages: Vec<GrpcMessage>,
        /// Bytes of a message not complete yet, buffered for the stream after this frame.
        pending: usize,
    },
    /// HEADERS: a header block fragment (HPACK).
    Headers {
        /// The fragment, HPACK-encoded.
        block: Vec<u8>,
        /// The Pad Length field, if the PADDED flag is set.
        padding: Option<u8>,
    },
    /// PRIORITY (deprecated by RFC 9113; ignored by gRPC).
    Priority,
    /// RST_STREAM: the stream ends with an error code.
    RstStream {
        /// The error code.
        code: u32,
    },
    /// SETTINGS: parameters, or an acknowledgement (ACK flag, no parameters).
    Settings {
        /// The parameters, in order.
        params: Vec<Setting>,
    },
    /// PUSH_PROMISE (gRPC clients disable push).
    PushPromise {
        /// The promised stream.
        promised_stream_id: u32,
        /// The header block fragment, HPACK-encoded.
        block: Vec<u8>,
    },
    /// PING, or its answer (ACK flag).
    Ping {
        /// The 8 opaque bytes, echoed by the answer.
        opaque: [u8; 8],
    },
    /// GOAWAY: the connection takes no streams above `last_stream_id`.
    GoAway {
        /// The highest stream the sender processed or may still process.
        last_stream_id: u32,
        /// The error code.
        code: u32,
        /// Debug data.
        debug: Vec<u8>,
    },
    /// WINDOW_UPDATE: more flow-control credit, for the stream or (stream 0) the connection.
    WindowUpdate {
        /// The credit added, in bytes.
        increment: u32,
    },
    /// CONTINUATION: more of a header block.
    Continuation {
        /// The fragment, HPACK-encoded.
        block: Vec<u8>,
    },
    /// A frame type HTTP/2 does not define; ignored, as RFC 9113 asks.
    Unknown,
    /// A frame whose payload breaks its type's rules.
    Malformed {
        /// What is wrong.
        reason: &'static str,
    },
}

/// One SETTINGS parameter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Setting {
    /// The identifier, e.g. 4 for SETTINGS_INITIAL_WINDOW_SIZE.
    pub id: u16,
    /// The value.
    pub value: u32,
}

/// One Length-Prefixed-Message found in DATA frames.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GrpcMessage {
    /// The Compressed-Flag byte as sent (0 or 1 when well-formed).
    pub flag: u8,
    /// The body, without its 5-byte prefix.
    pub body: Vec<u8>,
}

impl fmt::Display for GrpcMessage {
    /// `flag 0, length 7: 0a 05 77 6f 72 6c 64`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "flag {}, length {}", self.flag, self.body.len())?;
        if !self.body.is_empty() {
            f.write_str(": ")?;
            hex_head(f, &self.body, super::event::HEX_HEAD)?;
        }
        Ok(())
    }
}

/// The name of an HTTP/2 error code (RFC 9113 §7), `"UNKNOWN"` for others.
///
/// ```
/// assert_eq!(h2grpc::trace::error_code_name(8), "CANCEL");
/// ```
pub fn error_code_name(code: u32) -> &'static str {
    match code {
        0x0 => "NO_ERROR",
        0x1 => "PROTOCOL_ERROR",
        0x2 => "INTERNAL_ERROR",
        0x3 => "FLOW_CONTROL_ERROR",
        0x4 => "SETTINGS_TIMEOUT",
        0x5 => "STREAM_CLOSED",
        0x6 => "FRAME_SIZE_ERROR",
        0x7 => "REFUSED_STREAM",
        0x8 => "CANCEL",
        0x9 => "COMPRESSION_ERROR",
        0xa => "CONNECT_ERROR",
        0xb => "ENHANCE_YOUR_CALM",
        0xc => "INADEQUATE_SECURITY",
        0xd => "HTTP_1_1_REQUIRED",
        _ => "UNKNOWN",
    }
}

/// The name of a SETTINGS parameter (RFC 9113 §6.5.2, RFC 8441), if it has one.
///
/// ```
/// assert_eq!(h2grpc::trace::settings_name(4), Some("INITIAL_WINDOW_SIZE"));
/// ```
pub fn settings_name(id: u16) -> Option<&'static str> {
    Some(match id {
        1 => "HEADER_TABLE_SIZE",
        2 => "ENABLE_PUSH",
        3 => "MAX_CONCURRENT_STREAMS",
        4 => "INITIAL_WINDOW_SIZE",
        5 => "MAX_FRAME_SIZE",
        6 => "MAX_HEADER_LIST_SIZE",
        8 => "ENABLE_CONNECT_PROTOCOL",
        _ => return None,
    })
}

impl Frame {
    /// The frame type's name, e.g. `"WINDOW_UPDATE"`; `"PREFACE"` for the preface.
    pub fn type_name(&self) -> &'static str {
        if self.payload == FramePayload::Preface {
            return "PREFACE";
        }
        match self.kind {
            0 => "DATA",
            1 => "HEADERS",
            2 => "PRIORITY",
            3 => "RST_STREAM",
            4 => "SETTINGS",
            5 => "PUSH_PROMISE",
            6 => "PING",
            7 => "GOAWAY",
            8 => "WINDOW_UPDATE",
            9 => "CONTINUATION",
            _ => "UNKNOWN",
        }
    }

    /// The names of the flags set that this frame type defines, e.g. `["END_STREAM"]`.
    pub fn flag_names(&self) -> Vec<&'static str> {
        let defined: &[(u8, &str)] = match self.kind {
            0 => &[(0x1, "END_STREAM"), (0x8, "PADDED")],
            1 => &[(0x1, "END_STREAM"), (0x4, "END_HEADERS"), (0x8, "PADDED"), (0x20, "PRIORITY")],
            4 | 6 => &[(0x1, "ACK")],
            5 => &[(0x4, "END_HEADERS"), (0x8, "PADDED")],
            9 => &[(0x4, "END_HEADERS")],
            _ => &[],
        };
        defined.iter().filter(|(bit, _)| self.flags & bit != 0).map(|(_, name)| *name).collect()
    }

    /// Whether the END_STREAM flag is set (DATA and HEADERS only).
    pub fn is_end_stream(&self) -> bool {
        matches!(self.kind, 0 | 1) && self.flags & 0x1 != 0 && self.payload != FramePayload::Preface
    }
}

impl fmt::Display for Frame {
    /// A first line `HEADERS stream 1, flags END_HEADERS, length 58`, then the payload's
    /// details indented by four spaces.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.payload == FramePayload::Preface {
            return f.write_str("PREFACE \"PRI * HTTP/2.0\\r\\n\\r\\nSM\\r\\n\\r\\n\"");
        }
        write!(f, "{} stream {}", self.type_name(), self.stream_id)?;
        let flags = self.flag_names();
        if !flags.is_empty() {
            write!(f, ", flags {}", flags.join(" | "))?;
        }
        write!(f, ", length {}", self.len)?;
        match &self.payload {
            FramePayload::Data { messages, pending, .. } => {
                for message in messages {
                    write!(f, "\n    gRPC message {message}")?;
                }
                if *pending > 0 {
                    write!(f, "\n    ({pending} bytes of a message so far)")?;
                }
            }
            FramePayload::Headers { block, .. }
            | FramePayload::Continuation { block }
            | FramePayload::PushPromise { block, .. } => {
                write!(f, "\n    header block: {} bytes of HPACK", block.len())?;
            }
            FramePayload::RstStream { code } => {
                write!(f, "\n    error code {} (0x{code:x})", error_code_name(*code))?;
            }
            FramePayload::Settings { params } => {
                for Setting { id, value } in params {
                    match settings_name(*id) {
                        Some(name) => write!(f, "\n    {name} = {value}")?,
                        None => write!(f, "\n    0x{id:x} = {value}")?,
                    }
                }
            }
            FramePayload::Ping { opaque } => {
                f.write_str("\n    opaque data ")?;
                hex_head(f, opaque, 8)?;
            }
            FramePayload::GoAway { last_stream_id, code, debug } => {
                write!(
                    f,
                    "\n    last stream {last_stream_id}, error code {}",
                    error_code_name(*code)
                )?;
                write!(f, " (0x{code:x})")?;
                if !debug.is_empty() {
                    write!(f, ", debug data {:?}", String::from_utf8_lossy(debug))?;
                }
            }
            FramePayload::WindowUpdate { increment } => write!(f, "\n    increment {increment}")?,
            FramePayload::Malformed { reason } => write!(f, "\n    malformed: {reason}")?,
            FramePayload::Preface | FramePayload::Priority | FramePayload::Unknown => {}
        }
        Ok(())
    }
}

/// Decodes every whole frame in `bytes`, the bytes of one direction of a connection from its
/// start. Trailing bytes that do not make a whole frame are left out.
///
/// ```
/// use h2grpc::trace::{frames, FramePayload, CLIENT_PREFACE};
///
/// let mut wire = CLIENT_PREFACE.to_vec();
/// wire.extend([0, 0, 6, 4, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0x80, 0]); // SETTINGS
/// wire.extend([0, 0, 8, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 3, 8, 150, 1]); // DATA, END_STREAM
/// let decoded = frames(&wire);
/// assert_eq!(decoded[0].payload, FramePayload::Preface);
/// assert_eq!(decoded[1].to_string(), "SETTINGS stream 0, length 6\n    INITIAL_WINDOW_SIZE = 32768");
/// assert_eq!(
///     decoded[2].to_string(),
///     "DATA stream 1, flags END_STREAM, length 8\n    gRPC message flag 0, length 3: 08 96 01"
/// );
/// ```
pub fn frames(bytes: &[u8]) -> Vec<Frame> {
    let mut reader = FrameReader::new();
    reader.push(bytes);
    std::iter::from_fn(|| reader.next_frame()).collect()
}

/// A resumable frame decoder for one direction of a connection: [`push`](Self::push) bytes
/// as they come, [`next_frame`](Self::next_frame) until `None` ("need more bytes").
#[derive(Debug, Default)]
pub struct FrameReader {
    /// Pushed bytes; those before `start` are decoded already.
    buf: Vec<u8>,
    start: usize,
    /// Whether the start (preface or not) has been decided.
    started: bool,
    /// Per stream, the bytes of a gRPC message not complete yet.
    partial: HashMap<u32, Vec<u8>>,
}

impl FrameReader {
    /// A reader at the start of a connection.
    pub fn new() -> FrameReader {
        FrameReader::default()
    }

    /// Appends bytes.
    pub fn push(&mut self, bytes: &[u8]) {
        // Decoded bytes are dropped in bulk, not frame by frame: a long capture stays linear.
        if self.start > 0 && self.start >= self.buf.len() / 2 {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        self.buf.extend_from_slice(bytes);
    }

    /// How many pushed bytes wait for the rest of their frame.
    pub fn buffered_len(&self) -> usize {
        self.buf.len() - self.start
    }

    /// The next whole frame, or `None` until more bytes arrive.
    pub fn next_frame(&mut self) -> Option<Frame> {
        let buf = &self.buf[self.start..];
        if !self.started {
            let n = buf.len().min(CLIENT_PREFACE.len());
            if buf[..n] != CLIENT_PREFACE[..n] {
                self.started = true; // not a client: frames from the first byte
            } else if n < CLIENT_PREFACE.len() {
                return None;
            } else {
                self.started = true;
                self.start += CLIENT_PREFACE.len();
                let len = CLIENT_PREFACE.len() as u32;
                let payload = FramePayload::Preface;
                return Some(Frame { len, kind: 0, flags: 0, stream_id: 0, head: vec![], payload });
            }
        }
        let head: [u8; FRAME_HEADER_LEN] = buf.get(..FRAME_HEADER_LEN)?.try_into().ok()?;
        let len = u32::from_be_bytes([0, head[0], head[1], head[2]]);
        let total = FRAME_HEADER_LEN + len as usize;
        if buf.len() < total {
            return None;
        }
        let payload: Vec<u8> = buf[FRAME_HEADER_LEN..total].to_vec();
        self.start += total;
        let (kind, flags) = (head[3], head[4]);
        let stream_id = u32::from_be_bytes([head[5], head[6], head[7], head[8]]) & 0x7fff_ffff;
        let payload = self.payload(kind, flags, stream_id, &payload);
        Some(Frame { len, kind, flags, stream_id, head: head.to_vec(), payload })
    }

    fn payload(&mut self, kind: u8, flags: u8, stream_id: u32, p: &[u8]) -> FramePayload {
        let malformed = |reason| FramePayload::Malformed { reason };
        match kind {
            0 => match unpad(flags, p) {
                Some((data, padding)) => {
                    let (messages, pending) = self.split_messages(stream_id, data);
                    FramePayload::Data { data_len: data.len(), padding, messages, pending }
                }
                None => malformed("padding longer than the payload"),
            },
            1 => match unpad(flags, p) {
                Some((rest, padding)) => {
                    let block = if flags & 0x20 != 0 { rest.get(5..) } else { Some(rest) };
                    match block {
                        Some(block) => FramePayload::Headers { block: block.to_vec(), padding },
                        None => malformed("PRIORITY flag without its 5 bytes"),
                    }
                }
                None => malformed("padding longer than the payload"),
            },
            2 if p.len() == 5 => FramePayload::Priority,
            3 => match u32_at(p, 0) {
                Some(code) if p.len() == 4 => FramePayload::RstStream { code },
                _ => malformed("RST_STREAM payload is not 4 bytes"),
            },
            // An ACK carries nothing (RFC 9113 §6.5: FRAME_SIZE_ERROR otherwise).
            4 if flags & 0x1 != 0 && !p.is_empty() => malformed("SETTINGS ACK with parameters"),
            4 if p.len() % 6 == 0 => FramePayload::Settings {
                params: p
                    .chunks_exact(6)
                    .map(|c| Setting {
                        id: u16::from_be_bytes([c[0], c[1]]),
                        value: u32::from_be_bytes([c[2], c[3], c[4], c[5]]),
                    })
                    .collect(),
            },
            4 => malformed("SETTINGS payload is not a multiple of 6 bytes"),
            5 => match unpad(flags, p) {
                Some((rest, _)) => match (u32_at(rest, 0), rest.get(4..)) {
                    (Some(id), Some(block)) => FramePayload::PushPromise {
                        promised_stream_id: id & 0x7fff_ffff,
                        block: block.to_vec(),
                    },
                    _ => malformed("PUSH_PROMISE without a promised stream id"),
                },
                None => malformed("padding longer than the payload"),
            },
            6 => match <[u8; 8]>::try_from(p) {
                Ok(opaque) => FramePayload::Ping { opaque },
                Err(_) => malformed("PING payload is not 8 bytes"),
            },
            7 => match (u32_at(p, 0), u32_at(p, 4)) {
                (Some(last), Some(code)) => FramePayload::GoAway {
                    last_stream_id: last & 0x7fff_ffff,
                    code,
                    debug: p[8..].to_vec(),
                },
                _ => malformed("GOAWAY payload shorter than 8 bytes"),
            },
            8 => match u32_at(p, 0) {
                Some(inc) if p.len() == 4 => {
                    FramePayload::WindowUpdate { increment: inc & 0x7fff_ffff }
                }
                _ => malformed("WINDOW_UPDATE payload is not 4 bytes"),
            },
            9 => FramePayload::Continuation { block: p.to_vec() },
            2 => malformed("PRIORITY payload is not 5 bytes"),
            _ => FramePayload::Unknown,
        }
    }

    /// Appends DATA bytes to the stream's pending message bytes and takes out every whole
    /// Length-Prefixed-Message.
    fn split_messages(&mut self, stream_id: u32, data: &[u8]) -> (Vec<GrpcMessage>, usize) {
        let buf = self.partial.entry(stream_id).or_default();
        buf.extend_from_slice(data);
        let mut messages = Vec::new();
        let mut at = 0;
        while let Some(prefix) = buf.get(at..at + HEADER_LEN) {
            let len = u32::from_be_bytes([prefix[1], prefix[2], prefix[3], prefix[4]]) as usize;
            let Some(body) = buf.get(at + HEADER_LEN..at + HEADER_LEN + len) else { break };
            messages.push(GrpcMessage { flag: prefix[0], body: body.to_vec() });
            at += HEADER_LEN + len;
        }
        buf.drain(..at);
        let pending = buf.len();
        if pending == 0 {
            self.partial.remove(&stream_id);
        }
        (messages, pending)
    }
}

/// Strips the Pad Length byte and the padding when the PADDED flag (0x8) is set.
fn unpad(flags: u8, p: &[u8]) -> Option<(&[u8], Option<u8>)> {
    if flags & 0x8 == 0 {
        return Some((p, None));
    }
    let (&pad, rest) = p.split_first()?;
    let end = rest.len().checked_sub(usize::from(pad))?;
    Some((&rest[..end], Some(pad)))
}

fn u32_at(p: &[u8], at: usize) -> Option<u32> {
    let b: [u8; 4] = p.get(at..at + 4)?.try_into().ok()?;
    Some(u32::from_be_bytes(b))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
        let len = (payload.len() as u32).to_be_bytes();
        let mut out = vec![len[1], len[2], len[3], kind, flags];
        out.extend(stream.to_be_bytes());
        out.extend(payload);
        out
    }

    #[test]
    fn the_client_preface_comes_first_and_only_at_the_start() {
        let mut wire = CLIENT_PREFACE.to_vec();
        wire.extend(frame(4, 1, 0, &[]));
        let decoded = frames(&wire);
        assert_eq!(decoded.len(), 2);
        assert_eq!(decoded[0].type_name(), "PREFACE");
        assert_eq!(decoded[1].to_string(), "SETTINGS stream 0, flags ACK, length 0");
        // A server's bytes start with a frame.
        assert_eq!(frames(&frame(4, 1, 0, &[]))[0].type_name(), "SETTINGS");
    }

    #[test]
    fn a_message_split_over_frames_is_reported_by_the_frame_that_completes_it() {
        let message = [0, 0, 0, 0, 3, b'a', b'b', b'c', 0, 0, 0, 0, 0];
        let mut wire = frame(0, 0, 1, &message[..2]);
        wire.extend(frame(0, 0, 3, &[0, 0, 0, 0, 1, b'z']));
        wire.extend(frame(0, 0, 1, &message[2..7]));
        wire.extend(frame(0, 1, 1, &message[7..]));
        let decoded = frames(&wire);
        let data: Vec<_> = decoded
            .iter()
            .map(|f| match &f.payload {
                FramePayload::Data { messages, pending, .. } => {
                    (f.stream_id, messages.len(), *pending)
                }
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(data, [(1, 0, 2), (3, 1, 0), (1, 0, 7), (1, 2, 0)]);
        assert_eq!(
            decoded[3].to_string(),
            "DATA stream 1, flags END_STREAM, length 6\n    gRPC message flag 0, length 3: 61 62 63\n    \
             gRPC message flag 0, length 0"
        );
    }

    #[test]
    fn padding_is_stripped_and_a_bad_pad_length_is_malformed() {
        let decoded = frames(&frame(0, 0x8, 1, &[2, 0, 0, 0, 0, 0, 9, 9]));
        match &decoded[0].payload {
            FramePayload::Data { data_len, padding, messages, .. } => {
                assert_eq!((*data_len, *padding, messages.len()), (5, Some(2), 1));
            }
            other => panic!("{other:?}"),
        }
        let bad = frames(&frame(0, 0x8, 1, &[9, 0]));
        assert_eq!(
            bad[0].payload,
            FramePayload::Malformed { reason: "padding longer than the payload" }
        );
    }

    #[test]
    fn settings_goaway_rst_stream_ping_and_window_update_are_named() {
        let mut wire = frame(4, 0, 0, &[0, 3, 0, 0, 4, 0, 0, 9, 0, 0, 0, 1]);
        wire.extend(frame(7, 0, 0, &[0x80, 0, 0, 5, 0, 0, 0, 0, b'b', b'y', b'e']));
        wire.extend(frame(3, 0, 5, &[0, 0, 0, 8]));
        wire.extend(frame(6, 1, 0, &[1, 2, 3, 4, 5, 6, 7, 8]));
        wire.extend(frame(8, 0, 0, &[0x80, 0, 1, 0]));
        let text: Vec<String> = frames(&wire).iter().map(|f| f.to_string()).collect();
        assert_eq!(
            text,
            [
                "SETTINGS stream 0, length 12\n    MAX_CONCURRENT_STREAMS = 1024\n    0x9 = 1",
                "GOAWAY stream 0, length 11\n    last stream 5, error code NO_ERROR (0x0), debug data \"bye\"",
                "RST_STREAM stream 5, length 4\n    error code CANCEL (0x8)",
                "PING stream 0, flags ACK, length 8\n    opaque data 01 02 03 04 05 06 07 08",
                "WINDOW_UPDATE stream 0, length 4\n    increment 256",
            ]
        );
    }

    #[test]
    fn wrong_sizes_are_malformed_and_decoding_goes_on() {
        let mut wire = frame(3, 0, 1, &[0, 0, 8]);
        wire.extend(frame(4, 0, 0, &[0; 5]));
        wire.extend(frame(6, 0, 0, &[0; 7]));
        wire.extend(frame(8, 0, 0, &[0; 5]));
        wire.extend(frame(7, 0, 0, &[0; 7]));
        wire.extend(frame(1, 0x20, 1, &[0; 4]));
        // A SETTINGS ACK with a parameter (found by the frames_h2 fuzz target: h2 refuses it).
        wire.extend(frame(4, 0x1, 0, &[0; 6]));
        wire.extend(frame(0xfa, 0, 0, &[1]));
        let decoded = frames(&wire);
        assert_eq!(decoded.len(), 8);
        assert!(decoded[..7].iter().all(|f| matches!(f.payload, FramePayload::Malformed { .. })));
        assert_eq!(decoded[7].payload, FramePayload::Unknown);
    }

    #[test]
    fn an_incomplete_frame_waits_for_its_bytes() {
        let mut reader = FrameReader::new();
        let wire = frame(0, 0, 1, &[0, 0, 0, 0, 0]);
        reader.push(&wire[..10]);
        assert_eq!(reader.next_frame(), None);
        assert_eq!(reader.buffered_len(), 10);
        reader.push(&wire[10..]);
        assert!(reader.next_frame().is_some());
        assert_eq!(reader.buffered_len(), 0);
    }

    proptest! {
        #[test]
        fn pushing_in_pieces_gives_the_frames_of_pushing_at_once(
            bytes in prop::collection::vec(any::<u8>(), 0..300),
            preface in any::<bool>(),
            cuts in prop::collection::vec(any::<usize>(), 0..10),
        ) {
            let mut wire = if preface { CLIENT_PREFACE.to_vec() } else { vec![] };
            wire.extend(bytes);
            let whole = frames(&wire);
            let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (wire.len() + 1)).collect();
            cuts.push(0);
            cuts.push(wire.len());
            cuts.sort_unstable();
            let mut reader = FrameReader::new();
            let mut pieces = Vec::new();
            for w in cuts.windows(2) {
                reader.push(&wire[w[0]..w[1]]);
                pieces.extend(std::iter::from_fn(|| reader.next_frame()));
            }
            prop_assert_eq!(pieces, whole);
        }
    }
}
