//! The status a call ends with, printed last: code name and number, message, and the
//! `grpc-status-details-bin` trailer decoded as `google.rpc.Status`, each detail (a
//! `google.protobuf.Any`) as JSON when its type is known.

use base64::Engine;
use h2grpc::Status;
use prost::Message;
use prost_reflect::prost_types::Any;
use prost_reflect::{DescriptorPool, DynamicMessage};
use serde_json::{json, Value};

use crate::output::{Out, Paint};

/// `google.rpc.Status` (google/rpc/status.proto).
#[derive(Clone, PartialEq, Message)]
pub(crate) struct RpcStatus {
    #[prost(int32, tag = "1")]
    pub(crate) code: i32,
    #[prost(string, tag = "2")]
    pub(crate) message: String,
    #[prost(message, repeated, tag = "3")]
    pub(crate) details: Vec<Any>,
}

/// The status as JSON: `{"code": 3, "name": "INVALID_ARGUMENT", "message": ..., "details": ...}`.
pub(crate) fn to_json(status: &Status, pool: &DescriptorPool) -> Value {
    let mut value = json!({
        "code": status.code() as i32,
        "name": status.code().name(),
        "message": status.message(),
    });
    if !status.details().is_empty() {
        let details = match RpcStatus::decode(&status.details()[..]) {
            Ok(rpc) => json!({
                "code": rpc.code,
                "message": rpc.message,
                "details": rpc.details.iter().map(|any| any_json(any, pool)).collect::<Vec<_>>(),
            }),
            Err(err) => json!({ "undecoded": format!("not a google.rpc.Status: {err}"),
                                "base64": base64::engine::general_purpose::STANDARD.encode(status.details()) }),
        };
        value.as_object_mut().expect("object").insert("details".into(), details);
    }
    value
}

/// An Any as JSON, protobuf style: `{"@type": url, ...fields}`; the bytes in base64 when the
/// type is unknown.
fn any_json(any: &Any, pool: &DescriptorPool) -> Value {
    let name = any.type_url.rsplit('/').next().unwrap_or_default();
    let desc = pool
        .get_message_by_name(name)
        .or_else(|| DescriptorPool::global().get_message_by_name(name));
    let decoded = desc.and_then(|desc| DynamicMessage::decode(desc, &any.value[..]).ok());
    let mut value = match decoded.and_then(|m| serde_json::to_value(&m).ok()) {
        Some(Value::Object(map)) => Value::Object(map),
        Some(other) => json!({ "value": other }),
        None => json!({ "base64": base64::engine::general_purpose::STANDARD.encode(&any.value) }),
    };
    let mut map = serde_json::Map::new();
    map.insert("@type".into(), json!(any.type_url));
    map.extend(value.as_object_mut().map(std::mem::take).unwrap_or_default());
    Value::Object(map)
}

/// Prints the status: a JSON line on stdout with `--format json`, else lines on stderr.
pub(crate) fn print(out: &Out, status: &Status, pool: &DescriptorPool) {
    let value = to_json(status, pool);
    if out.json() {
        out.value(&json!({ "status": value }));
        return;
    }
    let code = status.code() as i32;
    let name = out.paint(if code == 0 { Paint::Green } else { Paint::Red }, status.code().name());
    let mut line = format!("status: {name} ({code})");
    if !status.message().is_empty() {
        line.push_str(&format!(": {}", status.message()));
    }
    out.note(&line);
    if let Some(details) = value.get("details") {
        if let Some(list) = details.get("details").and_then(Value::as_array) {
            out.note(&format!(
                "  details (google.rpc.Status): code {}, message {}",
                details["code"], details["message"]
            ));
            for detail in list {
                out.note(&format!("  {}", out.paint(Paint::Yellow, &detail.to_string())));
            }
        } else {
            out.note(&format!("  details: {details}"));
        }
    }
}
