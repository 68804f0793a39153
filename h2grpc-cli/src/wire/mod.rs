//! `--wire`: the connection's HTTP/2 frames, both ways, decoded as they go, in the style of
//! WIRE.md. The library's [`Tap`](h2grpc::trace::Tap) records the bytes and its
//! [`FrameReader`] cuts them into frames; here header blocks are HPACK-decoded (with the
//! connection's dynamic tables, one per direction) and each gRPC message in DATA frames is
//! decoded with the method's types when the schema knows them.

use std::collections::HashMap;

use h2grpc::trace::{Direction, Frame, FramePayload, FrameReader, TapLog};
use h2grpc::Code;
use prost_reflect::{DescriptorPool, DynamicMessage, MethodDescriptor};
use serde_json::{json, Value};

use crate::output::{Out, Paint};

mod json;
use self::json::frame_json;

/// What the reflection and health calls themselves carry, so that their messages decode too.
const BUILTIN: [&[u8]; 3] = [
    include_bytes!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../src/reflection/grpc.reflection.v1.bin"
    )),
    include_bytes!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../src/reflection/grpc.reflection.v1alpha.bin"
    )),
    include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/../src/health/grpc.health.v1.bin")),
];

/// The width of a frame's first line before its header bytes, as in WIRE.md.
const HEAD_COLUMN: usize = 61;

/// One direction of the connection.
struct Side {
    reader: FrameReader,
    /// The bytes not yet cut into frames, for `--wire=hex`.
    raw: Vec<u8>,
    hpack: loona_hpack::Decoder<'static>,
    /// A header block waiting for its CONTINUATION frames: stream, bytes so far.
    block: Option<(u32, Vec<u8>)>,
}

impl Side {
    fn new() -> Side {
        Side {
            reader: FrameReader::new(),
            raw: Vec::new(),
            hpack: loona_hpack::Decoder::new(),
            block: None,
        }
    }
}

/// The printer; [`drain`](Wire::drain) prints what the tap logged since last time.
pub(crate) struct Wire {
    log: TapLog,
    hex: bool,
    /// Send (client to server), then Recv.
    sides: [Side; 2],
    /// Each stream's `:path`, from the request headers.
    paths: HashMap<u32, String>,
    builtin: DescriptorPool,
}

impl std::fmt::Debug for Wire {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Wire").field("hex", &self.hex).finish_non_exhaustive()
    }
}

/// A decoded frame's details.
pub(super) enum Detail {
    Headers(Vec<(String, String)>),
    HeadersFailed(String),
    /// A fragment; the block is decoded with its last CONTINUATION.
    HeadersPart,
    Data(Vec<(u8, usize, Value)>, usize),
    Other,
}

impl Wire {
    pub(crate) fn new(log: TapLog, hex: bool) -> Wire {
        let mut builtin = DescriptorPool::new();
        for set in BUILTIN {
            // Checked by the library's tests; a failure only means less decoding.
            let _ = builtin.decode_file_descriptor_set(set);
        }
        Wire { log, hex, sides: [Side::new(), Side::new()], paths: HashMap::new(), builtin }
    }

    /// Prints every frame logged since the last call; `pool` decodes the messages.
    pub(crate) fn drain(&mut self, out: &Out, pool: &DescriptorPool) {
        for chunk in self.log.take() {
            for text in self.feed(chunk.direction, &chunk.bytes, out, pool) {
                out.line(&text);
            }
        }
    }

    /// The frames that `bytes`, going `direction`, complete: each rendered for `out`.
    fn feed(
        &mut self,
        direction: Direction,
        bytes: &[u8],
        out: &Out,
        pool: &DescriptorPool,
    ) -> Vec<String> {
        let index = usize::from(direction != Direction::Send);
        let side = &mut self.sides[index];
        side.reader.push(bytes);
        side.raw.extend_from_slice(bytes);
        let mut rendered = Vec::new();
        while let Some(frame) = self.sides[index].reader.next_frame() {
            let side = &mut self.sides[index];
            let total =
                if frame.payload == FramePayload::Preface { 24 } else { 9 + frame.len as usize };
            let raw: Vec<u8> = side.raw.drain(..total.min(side.raw.len())).collect();
            let detail = self.detail(index, &frame, pool);
            rendered.push(self.render(out, index == 0, &frame, &detail, &raw));
        }
        rendered
    }

    fn detail(&mut self, index: usize, frame: &Frame, pool: &DescriptorPool) -> Detail {
        match &frame.payload {
            FramePayload::Headers { block, .. } => self.headers(index, frame, block.clone()),
            FramePayload::Continuation { block } => {
                let Some((_, mut so_far)) = self.sides[index].block.take() else {
                    return Detail::HeadersFailed("a CONTINUATION without HEADERS".to_owned());
                };
                so_far.extend_from_slice(block);
                self.headers(index, frame, so_far)
            }
            FramePayload::Settings { params } => {
                // The peer's HEADER_TABLE_SIZE bounds the table of the other direction's encoder.
                for p in params.iter().filter(|p| p.id == 1) {
                    self.sides[1 - index].hpack.set_max_allowed_table_size(p.value as usize);
                }
                Detail::Other
            }
            FramePayload::Data { messages, pending, .. } => {
                let method = self
                    .paths
                    .get(&frame.stream_id)
                    .and_then(|path| method(pool, &self.builtin, path));
                let decoded = messages
                    .iter()
                    .map(|m| {
                        (m.flag, m.body.len(), decode(method.as_ref(), index == 0, m.flag, &m.body))
                    })
                    .collect();
                Detail::Data(decoded, *pending)
            }
            _ => Detail::Other,
        }
    }

    fn headers(&mut self, index: usize, frame: &Frame, block: Vec<u8>) -> Detail {
        if frame.flags & 0x4 == 0 {
            self.sides[index].block = Some((frame.stream_id, block));
            return Detail::HeadersPart;
        }
        match self.sides[index].hpack.decode(&block) {
            Ok(fields) => {
                let fields: Vec<(String, String)> = fields
                    .into_iter()
                    .map(|(k, v)| {
                        (
                            String::from_utf8_lossy(&k).into_owned(),
                            String::from_utf8_lossy(&v).into_owned(),
                        )
                    })
                    .collect();
                if index == 0 {
                    if let Some((_, path)) = fields.iter().find(|(k, _)| k == ":path") {
                        self.paths.insert(frame.stream_id, path.clone());
                    }
                }
                Detail::Headers(fields)
            }
            Err(err) => Detail::HeadersFailed(format!("HPACK decoding failed: {err}")),
        }
    }

    fn render(&self, out: &Out, sent: bool, frame: &Frame, detail: &Detail, raw: &[u8]) -> String {
        if out.json() {
            let frame = frame_json(sent, frame, detail, self.hex.then_some(raw));
            return json!({ "frame": frame }).to_string();
        }
        let arrow =
            if sent { out.paint(Paint::Cyan, "C→S") } else { out.paint(Paint::Magenta, "S→C") };
        let text = frame.to_string();
        let mut lines = text.lines();
        let first = lines.next().unwrap_or_default();
        let head = hex(&frame.head);
        let (name, rest) = first.split_once(' ').unwrap_or((first, ""));
        let pad = HEAD_COLUMN.saturating_sub(first.chars().count());
        let mut printed = format!("{arrow}  {} {rest}", out.paint(Paint::Bold, name));
        if !head.is_empty() {
            printed.push_str(&format!("{:pad$}{}", "", out.paint(Paint::Dim, &head)));
        }
        let indent = "         ";
        match detail {
            Detail::Headers(fields) => {
                let what =
                    frame.flags & 0x1 != 0 && !sent && !fields.iter().any(|(k, _)| k == ":status");
                let kind = if sent {
                    "request headers"
                } else if what {
                    "trailers"
                } else {
                    "response headers"
                };
                let size = block_len(frame);
                printed.push_str(&format!(
                    "\n{indent}header block: {size} bytes of HPACK, the {kind}:"
                ));
                for (key, value) in fields {
                    printed
                        .push_str(&format!("\n{indent}  {}: {value}", out.paint(Paint::Blue, key)));
                }
                if let Some((_, code)) = fields.iter().find(|(k, _)| k == "grpc-status") {
                    if let Ok(n) = code.parse::<i32>() {
                        let name = Code::from_i32(n).name();
                        printed
                            .push_str(&format!("\n{indent}  = {} ({n})", paint_code(out, n, name)));
                    }
                }
            }
            Detail::HeadersFailed(reason) => printed.push_str(&format!("\n{indent}{reason}")),
            Detail::HeadersPart => {
                printed.push_str(&format!(
                    "\n{indent}header block: {} bytes of HPACK, continued",
                    block_len(frame)
                ));
            }
            Detail::Data(messages, _) => {
                // The library's own lines for the prefixes, then each message decoded.
                let mut decoded = messages.iter();
                for line in lines.by_ref() {
                    printed.push_str(&format!("\n{indent}{}", line.trim_start()));
                    if line.trim_start().starts_with("gRPC message") {
                        if let Some((_, _, value)) = decoded.next() {
                            printed.push_str(&format!("\n{indent}  = {}", shown(value)));
                        }
                    }
                }
            }
            Detail::Other => {
                for line in lines {
                    printed.push_str(&format!("\n{indent}{}", line.trim_start()));
                }
            }
        }
        if self.hex {
            for row in raw.chunks(16) {
                printed.push_str(&format!("\n{indent}{} {}", out.paint(Paint::Dim, "|"), hex(row)));
            }
        }
        printed
    }
}

fn paint_code(out: &Out, code: i32, name: &str) -> String {
    out.paint(if code == 0 { Paint::Green } else { Paint::Red }, name)
}

fn block_len(frame: &Frame) -> usize {
    match &frame.payload {
        FramePayload::Headers { block, .. } | FramePayload::Continuation { block } => block.len(),
        _ => 0,
    }
}

/// The method at `/pkg.Service/Method`, in the schema or the built-in services.
fn method(pool: &DescriptorPool, builtin: &DescriptorPool, path: &str) -> Option<MethodDescriptor> {
    let (service, name) = path.strip_prefix('/')?.split_once('/')?;
    [pool, builtin]
        .into_iter()
        .find_map(|pool| pool.get_service_by_name(service)?.methods().find(|m| m.name() == name))
}

/// A message as JSON when its type is known; else `null`, or why not.
fn decode(method: Option<&MethodDescriptor>, request: bool, flag: u8, body: &[u8]) -> Value {
    if flag != 0 {
        return json!({ "undecoded": "compressed" });
    }
    let Some(method) = method else { return Value::Null };
    let desc = if request { method.input() } else { method.output() };
    match DynamicMessage::decode(desc, body) {
        Ok(message) => serde_json::to_value(&message).unwrap_or(Value::Null),
        Err(err) => json!({ "undecoded": err.to_string() }),
    }
}

/// How a decoded message reads in text: its JSON, or a note.
fn shown(value: &Value) -> String {
    match value {
        Value::Null => "(type unknown: no schema for this method)".to_owned(),
        Value::Object(map) if map.len() == 1 && map.contains_key("undecoded") => {
            format!("({})", map["undecoded"].as_str().unwrap_or_default())
        }
        other => other.to_string(),
    }
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Format;

    fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
        let len = (payload.len() as u32).to_be_bytes();
        let mut out = vec![len[1], len[2], len[3], kind, flags];
        out.extend(stream.to_be_bytes());
        out.extend(payload);
        out
    }

    fn wire() -> Wire {
        Wire::new(TapLog::new(), false)
    }

    #[test]
    fn a_header_block_split_over_continuation_is_decoded_whole() {
        // HPACK, static table: :method POST (0x83), :scheme http (0x86), :path literal.
        let mut block = vec![0x83, 0x86, 0x44, 0x0a];
        block.extend(b"/a.B/Check");
        let (head, tail) = block.split_at(3);
        let mut bytes = frame(1, 0, 1, head); // HEADERS without END_HEADERS
        bytes.extend(frame(9, 0x4, 1, tail)); // CONTINUATION with it
        let out = Out::new(Format::Text, false);
        let text = wire().feed(Direction::Send, &bytes, &out, &DescriptorPool::new());
        assert_eq!(text.len(), 2);
        assert!(text[0].ends_with("header block: 3 bytes of HPACK, continued"), "{}", text[0]);
        assert!(
            text[1].starts_with("C→S  CONTINUATION stream 1, flags END_HEADERS"),
            "{}",
            text[1]
        );
        for field in [":method: POST", ":scheme: http", ":path: /a.B/Check"] {
            assert!(text[1].contains(&format!("\n           {field}")), "{}", text[1]);
        }
    }

    #[test]
    fn messages_of_known_methods_are_decoded_and_frames_come_whole() {
        // The health check's request, split over two reads.
        let mut block = vec![0x83, 0x44, 0x1c];
        block.extend(b"/grpc.health.v1.Health/Check");
        let mut bytes = frame(1, 0x4, 1, &block);
        bytes.extend(frame(0, 0x1, 1, &[0, 0, 0, 0, 3, 0x0a, 0x01, b'x']));
        let out = Out::new(Format::Json, false);
        let mut wire = wire();
        let pool = DescriptorPool::new();
        let first = wire.feed(Direction::Send, &bytes[..bytes.len() - 2], &out, &pool);
        assert_eq!(first.len(), 1, "the DATA frame is not whole yet: {first:?}");
        let rest = wire.feed(Direction::Send, &bytes[bytes.len() - 2..], &out, &pool);
        let data: Value = serde_json::from_str(&rest[0]).unwrap();
        assert_eq!(data["frame"]["type"], "DATA");
        assert_eq!(data["frame"]["flags"], json!(["END_STREAM"]));
        assert_eq!(
            data["frame"]["messages"],
            json!([{"flag": 0, "length": 3, "message": {"service": "x"}}])
        );
    }

    #[test]
    fn a_bad_header_block_is_reported_not_fatal() {
        let bytes = frame(1, 0x4, 1, &[0xff, 0xff, 0xff, 0xff, 0x0f]); // index out of any table
        let out = Out::new(Format::Text, false);
        let text = wire().feed(Direction::Recv, &bytes, &out, &DescriptorPool::new());
        assert!(text[0].starts_with("S→C  HEADERS stream 1"), "{}", text[0]);
        assert!(text[0].contains("HPACK decoding failed"), "{}", text[0]);
    }
}
