//! A [`Script`]'s `Debug`: the builder calls that rebuild it, a Rust repro.

use std::fmt;

use super::{Action, Script};
use crate::fuzzing::frames::FieldMode;

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
