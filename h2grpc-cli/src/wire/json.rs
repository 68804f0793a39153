//! `--wire --format json`: each frame as one JSON object.

use h2grpc::trace::{Frame, FramePayload};
use serde_json::{json, Value};

use super::{hex, Detail};

/// `{"from": "client", "type": "HEADERS", "stream": 1, "flags": [...], "length": 95, ...}`,
/// with what the frame type carries.
pub(super) fn frame_json(sent: bool, frame: &Frame, detail: &Detail, raw: Option<&[u8]>) -> Value {
    let mut value = json!({
        "from": if sent { "client" } else { "server" },
        "type": frame.type_name(),
        "stream": frame.stream_id,
        "flags": frame.flag_names(),
        "length": frame.len,
    });
    let map = value.as_object_mut().expect("an object");
    match (&frame.payload, detail) {
        (_, Detail::Headers(fields)) => {
            map.insert(
                "headers".into(),
                json!(fields.iter().map(|(k, v)| [k, v]).collect::<Vec<_>>()),
            );
        }
        (_, Detail::HeadersFailed(reason)) => {
            map.insert("error".into(), json!(reason));
        }
        (_, Detail::Data(messages, pending)) => {
            let messages: Vec<Value> = messages
                .iter()
                .map(|(flag, len, message)| json!({ "flag": flag, "length": len, "message": message }))
                .collect();
            map.insert("messages".into(), json!(messages));
            map.insert("pending".into(), json!(pending));
        }
        (FramePayload::Settings { params }, _) => {
            let params: Vec<Value> = params
                .iter()
                .map(|p| {
                    json!([
                        h2grpc::trace::settings_name(p.id)
                            .map_or_else(|| format!("0x{:x}", p.id), str::to_owned),
                        p.value
                    ])
                })
                .collect();
            map.insert("settings".into(), json!(params));
        }
        (FramePayload::Ping { opaque }, _) => {
            map.insert("opaque".into(), json!(hex(opaque)));
        }
        (FramePayload::GoAway { last_stream_id, code, debug }, _) => {
            map.insert("lastStream".into(), json!(last_stream_id));
            map.insert("errorCode".into(), json!(h2grpc::trace::error_code_name(*code)));
            map.insert("debug".into(), json!(String::from_utf8_lossy(debug)));
        }
        (FramePayload::RstStream { code }, _) => {
            map.insert("errorCode".into(), json!(h2grpc::trace::error_code_name(*code)));
        }
        (FramePayload::WindowUpdate { increment }, _) => {
            map.insert("increment".into(), json!(increment));
        }
        (FramePayload::Malformed { reason }, _) => {
            map.insert("malformed".into(), json!(reason));
        }
        _ => {}
    }
    if let Some(raw) = raw {
        map.insert("bytes".into(), json!(hex(raw)));
    }
    value
}
