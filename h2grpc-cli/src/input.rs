//! Requests as JSON: one object per message (several for client streams), in the protobuf JSON
//! mapping. A mistake is reported with the request's number, the line and column, and the field.

use prost_reflect::{DynamicMessage, MessageDescriptor};
use serde::de::DeserializeSeed;
use serde_json::value::RawValue;

use crate::error::CliError;

/// Parses every JSON object in `text` as a `desc` message.
pub(crate) fn parse(
    text: &str,
    desc: &MessageDescriptor,
    source: &str,
) -> Result<Vec<DynamicMessage>, CliError> {
    let mut messages = Vec::new();
    let mut stream = serde_json::Deserializer::from_str(text).into_iter::<&RawValue>();
    loop {
        let raw = match stream.next() {
            None => break,
            Some(Ok(raw)) => raw,
            Some(Err(err)) => {
                return Err(CliError::invalid(format!(
                    "{source}: request {}: malformed JSON at line {}, column {}: {}",
                    messages.len() + 1,
                    err.line(),
                    err.column(),
                    strip_position(&err.to_string())
                )))
            }
        };
        let end = stream.byte_offset();
        let start = end - raw.get().len();
        let mut de = serde_json::Deserializer::from_str(raw.get());
        let mut track = serde_path_to_error::Track::new();
        let seed = Seed(desc.clone());
        let result = seed.deserialize(serde_path_to_error::Deserializer::new(&mut de, &mut track));
        match result {
            Ok(message) => messages.push(message),
            Err(err) => {
                let path = track.path().to_string();
                let (line, column) = absolute(text, start, err.line(), err.column());
                let field = if path.is_empty() || path == "." {
                    String::new()
                } else {
                    format!(", field `{path}`")
                };
                return Err(CliError::invalid(format!(
                    "{source}: request {} ({}){field} at line {line}, column {column}: {}",
                    messages.len() + 1,
                    desc.full_name(),
                    strip_position(&err.to_string())
                )));
            }
        }
    }
    Ok(messages)
}

/// Deserializes a `DynamicMessage` of one type.
struct Seed(MessageDescriptor);

impl<'de> DeserializeSeed<'de> for Seed {
    type Value = DynamicMessage;

    fn deserialize<D: serde::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<DynamicMessage, D::Error> {
        DynamicMessage::deserialize(self.0, deserializer)
    }
}

/// A line and column inside the value that starts at byte `start` of `text`, as a line and
/// column of `text`.
fn absolute(text: &str, start: usize, line: usize, column: usize) -> (usize, usize) {
    let before = &text[..start];
    let base_line = before.matches('\n').count() + 1;
    let base_column = before.len() - before.rfind('\n').map_or(0, |at| at + 1);
    if line <= 1 {
        (base_line, base_column + column)
    } else {
        (base_line + line - 1, column)
    }
}

/// serde_json's message without its own " at line L column C" (we give ours).
fn strip_position(message: &str) -> &str {
    match message.rfind(" at line ") {
        Some(at) => &message[..at],
        None => message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn desc() -> MessageDescriptor {
        let pool = prost_reflect::DescriptorPool::global();
        pool.get_message_by_name("google.protobuf.Duration").expect("a well-known type")
    }

    #[test]
    fn several_objects_are_several_messages() {
        let messages = parse("\"1s\"\n\"2.5s\" ", &desc(), "stdin").unwrap();
        assert_eq!(messages.len(), 2);
    }

    #[test]
    fn a_mistake_names_the_request_line_and_column() {
        let err = parse("\"1s\"\n  {", &desc(), "stdin").unwrap_err();
        assert!(err.message.contains("request 2"), "{}", err.message);
        assert!(err.message.contains("line 2"), "{}", err.message);
    }

    #[test]
    fn positions_inside_a_later_value_are_made_absolute() {
        assert_eq!(absolute("{}\n  {\"a\": 1}", 5, 1, 7), (2, 9));
        assert_eq!(absolute("{}\n{\n\"a\"}", 3, 2, 3), (3, 3));
    }
}
