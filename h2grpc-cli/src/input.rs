//! Requests as JSON: one object per message (several for client streams), in the protobuf JSON
//! mapping. A mistake is reported with the request's number, the line and column, and the field.

use std::io::{BufRead, IsTerminal};

use bytes::Bytes;
use prost::Message;
use prost_reflect::{DynamicMessage, MessageDescriptor};
use serde::de::DeserializeSeed;
use serde_json::value::RawValue;
use tokio::sync::mpsc;

use crate::error::CliError;
use crate::raw::Raw;

/// Where the requests come from.
#[derive(Debug)]
pub(crate) enum Input {
    /// The argument, `-d JSON` or `-d @file`: the text, and what to call it in errors.
    Text(String, String),
    /// Standard input (`-d @-`, or not a terminal), read as it comes.
    Stdin,
    /// Nothing given, and stdin is a terminal: `{}` for one request; typed requests for a
    /// client stream.
    Terminal,
}

impl Input {
    /// From the argument and `-d`.
    pub(crate) fn choose(json: Option<&str>, data: Option<&str>) -> Result<Input, CliError> {
        match (json, data) {
            (Some(_), Some(_)) => {
                Err(CliError::invalid("give the request as an argument or with -d, not both"))
            }
            (Some(json), None) => Ok(Input::Text(json.to_owned(), "the request argument".into())),
            (None, Some(data)) => match data.strip_prefix('@') {
                Some("-") => Ok(Input::Stdin),
                Some(file) => match std::fs::read_to_string(file) {
                    Ok(text) => Ok(Input::Text(text, file.to_owned())),
                    Err(err) => {
                        Err(CliError::invalid(format!("-d @{file}: cannot read it: {err}")))
                    }
                },
                None => Ok(Input::Text(data.to_owned(), "-d".into())),
            },
            (None, None) if std::io::stdin().is_terminal() => Ok(Input::Terminal),
            (None, None) => Ok(Input::Stdin),
        }
    }

    /// Parses the requests into `tx` as their JSON completes (stdin is read line by line, so a
    /// stream typed at a terminal goes out message by message).
    pub(crate) async fn feed(
        self,
        desc: &MessageDescriptor,
        tx: mpsc::Sender<Raw>,
    ) -> Result<(), CliError> {
        let encode = |m: DynamicMessage| Raw(Bytes::from(m.encode_to_vec()));
        let mut requests = match &self {
            Input::Text(_, source) => Requests::new(desc, source),
            Input::Stdin | Input::Terminal => Requests::new(desc, "stdin"),
        };
        let mut lines = match self {
            Input::Text(text, _) => {
                for message in requests.push(&text)?.into_iter().chain(requests.finish()?) {
                    if tx.send(encode(message)).await.is_err() {
                        break; // the call is over
                    }
                }
                return Ok(());
            }
            Input::Stdin | Input::Terminal => stdin_lines(),
        };
        while let Some(line) = lines.recv().await {
            for message in requests.push(&line?)? {
                if tx.send(encode(message)).await.is_err() {
                    return Ok(());
                }
            }
        }
        for message in requests.finish()? {
            if tx.send(encode(message)).await.is_err() {
                break;
            }
        }
        Ok(())
    }
}

/// Standard input, line by line, from a thread (reading blocks).
fn stdin_lines() -> mpsc::Receiver<Result<String, CliError>> {
    let (tx, rx) = mpsc::channel(16);
    std::thread::spawn(move || {
        let mut stdin = std::io::stdin().lock();
        loop {
            let mut line = String::new();
            let read = match stdin.read_line(&mut line) {
                Ok(0) => break,
                Ok(_) => Ok(line),
                Err(err) => Err(CliError::invalid(format!("cannot read stdin: {err}"))),
            };
            let failed = read.is_err();
            if tx.blocking_send(read).is_err() || failed {
                break;
            }
        }
    });
    rx
}

/// Parses every JSON object in `text` as a `desc` message.
#[cfg(test)]
fn parse(
    text: &str,
    desc: &MessageDescriptor,
    source: &str,
) -> Result<Vec<DynamicMessage>, CliError> {
    let mut requests = Requests::new(desc, source);
    let mut messages = requests.push(text)?;
    messages.extend(requests.finish()?);
    Ok(messages)
}

/// Requests parsed as their text arrives (a client stream typed at a terminal): each object is
/// a message as soon as it is complete.
#[derive(Debug)]
pub(crate) struct Requests {
    desc: MessageDescriptor,
    source: String,
    /// Everything pushed, for absolute line and column numbers.
    text: String,
    /// Bytes of `text` parsed into messages.
    consumed: usize,
    count: usize,
}

impl Requests {
    pub(crate) fn new(desc: &MessageDescriptor, source: &str) -> Requests {
        Requests {
            desc: desc.clone(),
            source: source.to_owned(),
            text: String::new(),
            consumed: 0,
            count: 0,
        }
    }

    /// Adds text; the messages it completes.
    pub(crate) fn push(&mut self, more: &str) -> Result<Vec<DynamicMessage>, CliError> {
        self.text.push_str(more);
        self.take(false)
    }

    /// The end of the text: what is left must be whole messages.
    pub(crate) fn finish(&mut self) -> Result<Vec<DynamicMessage>, CliError> {
        self.take(true)
    }

    fn take(&mut self, at_end: bool) -> Result<Vec<DynamicMessage>, CliError> {
        let mut messages = Vec::new();
        let rest = &self.text[self.consumed..];
        let mut stream = serde_json::Deserializer::from_str(rest).into_iter::<&RawValue>();
        let mut parsed = 0;
        loop {
            let raw = match stream.next() {
                None => break,
                Some(Ok(raw)) => raw,
                Some(Err(err)) if err.is_eof() && !at_end => break, // the rest is still coming
                Some(Err(err)) => {
                    let (line, column) =
                        absolute(&self.text, self.consumed, err.line(), err.column());
                    return Err(CliError::invalid(format!(
                        "{}: request {}: malformed JSON at line {line}, column {column}: {}",
                        self.source,
                        self.count + 1,
                        strip_position(&err.to_string())
                    )));
                }
            };
            let end = stream.byte_offset();
            let start = self.consumed + end - raw.get().len();
            let message = self.message(raw.get(), start)?;
            messages.push(message);
            self.count += 1;
            parsed = end;
        }
        self.consumed += parsed;
        Ok(messages)
    }

    /// One JSON value, starting at byte `start` of the text, as a message.
    fn message(&self, json: &str, start: usize) -> Result<DynamicMessage, CliError> {
        let mut de = serde_json::Deserializer::from_str(json);
        let mut track = serde_path_to_error::Track::new();
        let seed = Seed(self.desc.clone());
        let result = seed.deserialize(serde_path_to_error::Deserializer::new(&mut de, &mut track));
        result.map_err(|err| {
            let path = track.path().to_string();
            let (line, column) = absolute(&self.text, start, err.line(), err.column());
            let field = if path.is_empty() || path == "." {
                String::new()
            } else {
                format!(", field `{path}`")
            };
            CliError::invalid(format!(
                "{}: request {} ({}){field} at line {line}, column {column}: {}",
                self.source,
                self.count + 1,
                self.desc.full_name(),
                strip_position(&err.to_string())
            ))
        })
    }
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
    fn objects_are_messages_as_soon_as_they_are_complete() {
        let mut requests = Requests::new(&desc(), "stdin");
        assert_eq!(requests.push("\"1s\" \"2").unwrap().len(), 1);
        assert_eq!(requests.push("s\"\n").unwrap().len(), 1);
        assert_eq!(requests.push("\"3").unwrap().len(), 0);
        let err = requests.finish().unwrap_err();
        assert!(
            err.message.starts_with("stdin: request 3: malformed JSON at line 2"),
            "{}",
            err.message
        );
    }

    #[test]
    fn positions_inside_a_later_value_are_made_absolute() {
        assert_eq!(absolute("{}\n  {\"a\": 1}", 5, 1, 7), (2, 9));
        assert_eq!(absolute("{}\n{\n\"a\"}", 3, 2, 3), (3, 3));
    }
}
