//! HTTP/2 frames out of raw connection bytes (RFC 9113 §4.1: a 9-byte head, then the
//! payload), with the gRPC messages inside DATA frames split out.
//!
//! ```text
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

use std::fmt;

use super::event::hex_head;
use crate::h2wire::{self, flag};
use crate::h2wire::{
    CONTINUATION, DATA, GOAWAY, HEADERS, PING, PRIORITY, PUSH_PROMISE, RST_STREAM, SETTINGS,
    WINDOW_UPDATE,
};

mod reader;

pub use reader::FrameReader;

/// The client connection preface (RFC 9113 §3.4).
pub const CLIENT_PREFACE: &[u8; 24] = h2wire::PREFACE;

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
            DATA => "DATA",
            HEADERS => "HEADERS",
            PRIORITY => "PRIORITY",
            RST_STREAM => "RST_STREAM",
            SETTINGS => "SETTINGS",
            PUSH_PROMISE => "PUSH_PROMISE",
            PING => "PING",
            GOAWAY => "GOAWAY",
            WINDOW_UPDATE => "WINDOW_UPDATE",
            CONTINUATION => "CONTINUATION",
            _ => "UNKNOWN",
        }
    }

    /// The names of the flags set that this frame type defines, e.g. `["END_STREAM"]`.
    pub fn flag_names(&self) -> Vec<&'static str> {
        const END_STREAM: (u8, &str) = (flag::END_STREAM, "END_STREAM");
        const END_HEADERS: (u8, &str) = (flag::END_HEADERS, "END_HEADERS");
        const PADDED: (u8, &str) = (flag::PADDED, "PADDED");
        let defined: &[(u8, &str)] = match self.kind {
            DATA => &[END_STREAM, PADDED],
            HEADERS => &[END_STREAM, END_HEADERS, PADDED, (flag::PRIORITY, "PRIORITY")],
            SETTINGS | PING => &[(flag::ACK, "ACK")],
            PUSH_PROMISE => &[END_HEADERS, PADDED],
            CONTINUATION => &[END_HEADERS],
            _ => &[],
        };
        defined.iter().filter(|(bit, _)| self.flags & bit != 0).map(|(_, name)| *name).collect()
    }

    /// Whether the END_STREAM flag is set (DATA and HEADERS only).
    pub fn is_end_stream(&self) -> bool {
        matches!(self.kind, DATA | HEADERS)
            && self.flags & flag::END_STREAM != 0
            && self.payload != FramePayload::Preface
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

#[cfg(test)]
mod tests;
