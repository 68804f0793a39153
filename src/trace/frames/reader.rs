//! [`FrameReader`]: frames out of bytes as they come, each payload decoded by its type, gRPC
//! messages split out of DATA.

use std::collections::HashMap;

use super::{Frame, FramePayload, GrpcMessage, Setting, CLIENT_PREFACE};
use crate::codec::{FrameHeader, HEADER_LEN};
use crate::h2wire::{self, flag, Head, HEAD_LEN};

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
        let Head { len, kind, flags, stream_id } = Head::parse(buf)?;
        let total = HEAD_LEN + len as usize;
        if buf.len() < total {
            return None;
        }
        let head = buf[..HEAD_LEN].to_vec();
        let payload: Vec<u8> = buf[HEAD_LEN..total].to_vec();
        self.start += total;
        let payload = self.payload(kind, flags, stream_id, &payload);
        Some(Frame { len, kind, flags, stream_id, head, payload })
    }

    fn payload(&mut self, kind: u8, flags: u8, stream_id: u32, p: &[u8]) -> FramePayload {
        let malformed = |reason| FramePayload::Malformed { reason };
        match kind {
            h2wire::DATA => match unpad(flags, p) {
                Some((data, padding)) => {
                    let (messages, pending) = self.split_messages(stream_id, data);
                    FramePayload::Data { data_len: data.len(), padding, messages, pending }
                }
                None => malformed("padding longer than the payload"),
            },
            h2wire::HEADERS => match unpad(flags, p) {
                Some((rest, padding)) => {
                    let block =
                        if flags & flag::PRIORITY != 0 { rest.get(5..) } else { Some(rest) };
                    match block {
                        Some(block) => FramePayload::Headers { block: block.to_vec(), padding },
                        None => malformed("PRIORITY flag without its 5 bytes"),
                    }
                }
                None => malformed("padding longer than the payload"),
            },
            h2wire::PRIORITY if p.len() == 5 => FramePayload::Priority,
            h2wire::RST_STREAM => match u32_at(p, 0) {
                Some(code) if p.len() == 4 => FramePayload::RstStream { code },
                _ => malformed("RST_STREAM payload is not 4 bytes"),
            },
            // An ACK carries nothing (RFC 9113 §6.5: FRAME_SIZE_ERROR otherwise).
            h2wire::SETTINGS if flags & flag::ACK != 0 && !p.is_empty() => {
                malformed("SETTINGS ACK with parameters")
            }
            h2wire::SETTINGS if p.len() % 6 == 0 => FramePayload::Settings {
                params: p
                    .chunks_exact(6)
                    .map(|c| Setting {
                        id: u16::from_be_bytes([c[0], c[1]]),
                        value: u32::from_be_bytes([c[2], c[3], c[4], c[5]]),
                    })
                    .collect(),
            },
            h2wire::SETTINGS => malformed("SETTINGS payload is not a multiple of 6 bytes"),
            h2wire::PUSH_PROMISE => match unpad(flags, p) {
                Some((rest, _)) => match (u32_at(rest, 0), rest.get(4..)) {
                    (Some(id), Some(block)) => FramePayload::PushPromise {
                        promised_stream_id: id & 0x7fff_ffff,
                        block: block.to_vec(),
                    },
                    _ => malformed("PUSH_PROMISE without a promised stream id"),
                },
                None => malformed("padding longer than the payload"),
            },
            h2wire::PING => match <[u8; 8]>::try_from(p) {
                Ok(opaque) => FramePayload::Ping { opaque },
                Err(_) => malformed("PING payload is not 8 bytes"),
            },
            h2wire::GOAWAY => match (u32_at(p, 0), u32_at(p, 4)) {
                (Some(last), Some(code)) => FramePayload::GoAway {
                    last_stream_id: last & 0x7fff_ffff,
                    code,
                    debug: p[8..].to_vec(),
                },
                _ => malformed("GOAWAY payload shorter than 8 bytes"),
            },
            h2wire::WINDOW_UPDATE => match u32_at(p, 0) {
                Some(inc) if p.len() == 4 => {
                    FramePayload::WindowUpdate { increment: inc & 0x7fff_ffff }
                }
                _ => malformed("WINDOW_UPDATE payload is not 4 bytes"),
            },
            h2wire::CONTINUATION => FramePayload::Continuation { block: p.to_vec() },
            h2wire::PRIORITY => malformed("PRIORITY payload is not 5 bytes"),
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
        while let Some(&prefix) = buf.get(at..).and_then(|b| b.first_chunk::<HEADER_LEN>()) {
            let (flag, len) = read_prefix(prefix);
            let Some(body) = buf.get(at + HEADER_LEN..at + HEADER_LEN + len) else { break };
            messages.push(GrpcMessage { flag, body: body.to_vec() });
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

/// The Compressed-Flag byte as sent and the Message-Length of a message prefix, read by
/// `codec`'s [`FrameHeader`]: the trace shows a flag `codec` refuses (anything but 0 and 1)
/// as it came, so the length is read with the flag set aside.
fn read_prefix(prefix: [u8; HEADER_LEN]) -> (u8, usize) {
    let flag = prefix[0];
    let mut plain = prefix;
    plain[0] = u8::from(false);
    let len = FrameHeader::parse(plain).map_or(0, |header| header.len as usize);
    (flag, len)
}

/// Strips the Pad Length byte and the padding when the PADDED flag (0x8) is set.
fn unpad(flags: u8, p: &[u8]) -> Option<(&[u8], Option<u8>)> {
    if flags & flag::PADDED == 0 {
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
