//! A [`Script`]'s byte form: read from any bytes ([`FuzzInput::from_bytes`]) and written back
//! ([`Script::to_bytes`]), the form corpus files and seeds are in.

use super::{Action, Script};
use crate::fuzzing::frames::FieldMode;
use crate::fuzzing::input::{Cursor, FuzzInput};

/// At most this many actions are read from one input.
const MAX_ACTIONS: usize = 512;

pub(super) fn clip8(b: &[u8]) -> Vec<u8> {
    b[..b.len().min(0xff)].to_vec()
}

pub(super) fn clip16(b: &[u8]) -> Vec<u8> {
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
        6 => {
            let (stream, end_stream, pad) = (input.u32(), input.bool(), input.u8());
            Action::Data { stream, end_stream, pad, data: input.bytes16().to_vec() }
        }
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
}
