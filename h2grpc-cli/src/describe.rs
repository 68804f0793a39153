//! `list` and `describe`: a server's services and their types, as .proto-like text or JSON.

use prost_reflect::{
    Cardinality, DescriptorPool, EnumDescriptor, FieldDescriptor, Kind, MessageDescriptor,
    MethodDescriptor, ServiceDescriptor,
};
use serde_json::json;

use crate::error::CliError;
use crate::output::{Out, Paint};
use crate::source::Session;
use h2grpc::Code;

/// `list`: the services, or one service's methods (`pkg.Service.Method`, one per line).
pub(crate) async fn list(
    session: &mut Session,
    service: Option<&str>,
    out: &Out,
) -> Result<(), CliError> {
    let services = session.services(out).await?;
    let Some(service) = service else {
        if out.json() {
            out.value(&json!({ "services": services }));
        } else {
            for name in &services {
                out.line(name);
            }
        }
        return Ok(());
    };
    let descriptor = find_service(session, service, out).await?;
    let methods: Vec<String> = descriptor.methods().map(|m| m.full_name().to_owned()).collect();
    if out.json() {
        let methods: Vec<_> = descriptor.methods().map(|m| method_json(&m)).collect();
        out.value(&json!({ "service": descriptor.full_name(), "methods": methods }));
    } else {
        for name in methods {
            out.line(&name);
        }
    }
    Ok(())
}

async fn find_service(
    session: &mut Session,
    service: &str,
    out: &Out,
) -> Result<ServiceDescriptor, CliError> {
    let service = service.trim_start_matches('.');
    if session.learn(service, out).await? {
        if let Some(found) = session.pool.get_service_by_name(service) {
            return Ok(found);
        }
    }
    Err(not_found(session, "service", service, out).await)
}

/// "service x not found in unix:/a.sock's reflection: it serves a, b".
pub(crate) async fn not_found(
    session: &mut Session,
    what: &str,
    name: &str,
    out: &Out,
) -> CliError {
    let services = session.services(out).await.unwrap_or_default();
    let known = if services.is_empty() { "none".to_owned() } else { services.join(", ") };
    CliError::usage(
        Code::NotFound,
        format!("{what} {name} not found {} — services there: {known}", session.where_from()),
    )
}

/// `describe`: a symbol's definition.
pub(crate) async fn describe(
    session: &mut Session,
    symbol: &str,
    out: &Out,
) -> Result<(), CliError> {
    let symbol = symbol.trim_start_matches('.').replace('/', ".");
    if !session.learn(&symbol, out).await? {
        return Err(not_found(session, "symbol", &symbol, out).await);
    }
    let pool = session.pool.clone();
    let (kind, text, extra) = definition(&pool, &symbol).ok_or_else(|| {
        CliError::usage(
            Code::NotFound,
            format!("{symbol} is not a service, method, message or enum"),
        )
    })?;
    if out.json() {
        let mut value = json!({ "symbol": symbol, "kind": kind, "definition": text });
        if let Some(extra) = extra {
            value
                .as_object_mut()
                .expect("object")
                .extend(extra.as_object().cloned().unwrap_or_default());
        }
        out.value(&value);
    } else {
        out.line(&format!("{} is a {kind}:", out.paint(Paint::Bold, &symbol)));
        out.line(&text);
    }
    Ok(())
}

fn definition(
    pool: &DescriptorPool,
    symbol: &str,
) -> Option<(&'static str, String, Option<serde_json::Value>)> {
    if let Some(service) = pool.get_service_by_name(symbol) {
        let methods: Vec<_> = service.methods().map(|m| method_json(&m)).collect();
        let extra = json!({ "file": service.parent_file().name(), "methods": methods });
        return Some(("service", service_text(&service), Some(extra)));
    }
    if let Some(message) = pool.get_message_by_name(symbol) {
        let extra = json!({ "file": message.parent_file().name() });
        return Some(("message", message_text(&message, ""), Some(extra)));
    }
    if let Some(enumeration) = pool.get_enum_by_name(symbol) {
        return Some(("enum", enum_text(&enumeration, ""), None));
    }
    let (service, name) = symbol.rsplit_once('.')?;
    let method = pool.get_service_by_name(service)?.methods().find(|m| m.name() == name)?;
    Some(("method", method_text(&method), Some(method_json(&method))))
}

fn method_json(method: &MethodDescriptor) -> serde_json::Value {
    json!({
        "name": method.full_name(),
        "input": method.input().full_name(),
        "output": method.output().full_name(),
        "clientStreaming": method.is_client_streaming(),
        "serverStreaming": method.is_server_streaming(),
    })
}

fn method_text(method: &MethodDescriptor) -> String {
    let stream = |yes: bool| if yes { "stream " } else { "" };
    format!(
        "rpc {} ( {}.{} ) returns ( {}.{} );",
        method.name(),
        stream(method.is_client_streaming()),
        method.input().full_name(),
        stream(method.is_server_streaming()),
        method.output().full_name()
    )
}

fn service_text(service: &ServiceDescriptor) -> String {
    let mut text = format!("service {} {{\n", service.name());
    for method in service.methods() {
        text.push_str(&format!("  {}\n", method_text(&method)));
    }
    text.push('}');
    text
}

fn field_type(field: &FieldDescriptor) -> String {
    match field.kind() {
        Kind::Message(m) if field.is_map() => {
            let key = field_type(&m.map_entry_key_field());
            let value = field_type(&m.map_entry_value_field());
            format!("map<{key}, {value}>")
        }
        Kind::Message(m) => format!(".{}", m.full_name()),
        Kind::Enum(e) => format!(".{}", e.full_name()),
        Kind::Double => "double".into(),
        Kind::Float => "float".into(),
        Kind::Int32 => "int32".into(),
        Kind::Int64 => "int64".into(),
        Kind::Uint32 => "uint32".into(),
        Kind::Uint64 => "uint64".into(),
        Kind::Sint32 => "sint32".into(),
        Kind::Sint64 => "sint64".into(),
        Kind::Fixed32 => "fixed32".into(),
        Kind::Fixed64 => "fixed64".into(),
        Kind::Sfixed32 => "sfixed32".into(),
        Kind::Sfixed64 => "sfixed64".into(),
        Kind::Bool => "bool".into(),
        Kind::String => "string".into(),
        Kind::Bytes => "bytes".into(),
    }
}

fn field_text(field: &FieldDescriptor) -> String {
    let label = match field.cardinality() {
        _ if field.is_map() => "",
        Cardinality::Repeated => "repeated ",
        Cardinality::Required => "required ",
        Cardinality::Optional
            if field.supports_presence()
                && field.containing_oneof().is_none_or(|o| o.is_synthetic())
                && field.kind().as_message().is_none() =>
        {
            "optional "
        }
        Cardinality::Optional => "",
    };
    format!("{label}{} {} = {};", field_type(field), field.name(), field.number())
}

fn message_text(message: &MessageDescriptor, indent: &str) -> String {
    let mut text = format!("{indent}message {} {{\n", message.name());
    let mut oneofs_done = Vec::new();
    for field in message.fields() {
        match field.containing_oneof().filter(|o| !o.is_synthetic()) {
            Some(oneof) => {
                if oneofs_done.contains(&oneof.name().to_owned()) {
                    continue;
                }
                oneofs_done.push(oneof.name().to_owned());
                text.push_str(&format!("{indent}  oneof {} {{\n", oneof.name()));
                for f in oneof.fields() {
                    text.push_str(&format!("{indent}    {}\n", field_text(&f)));
                }
                text.push_str(&format!("{indent}  }}\n"));
            }
            None => text.push_str(&format!("{indent}  {}\n", field_text(&field))),
        }
    }
    let inner = format!("{indent}  ");
    for child in message.child_messages().filter(|m| !m.is_map_entry()) {
        text.push_str(&message_text(&child, &inner));
        text.push('\n');
    }
    for child in message.child_enums() {
        text.push_str(&enum_text(&child, &inner));
        text.push('\n');
    }
    text.push_str(&format!("{indent}}}"));
    text
}

fn enum_text(enumeration: &EnumDescriptor, indent: &str) -> String {
    let mut text = format!("{indent}enum {} {{\n", enumeration.name());
    for value in enumeration.values() {
        text.push_str(&format!("{indent}  {} = {};\n", value.name(), value.number()));
    }
    text.push_str(&format!("{indent}}}"));
    text
}
