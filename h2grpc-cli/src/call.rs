//! `call`: one call of any of the four kinds, requests from JSON, responses printed as JSON as
//! they come, the status last; the exit code is the status code.

use std::io::{IsTerminal, Read};

use bytes::Bytes;
use clap::Args;
use h2grpc::{Code, Status};
use prost::Message;
use prost_reflect::{DynamicMessage, MessageDescriptor, MethodDescriptor};
use serde_json::{json, Value};

use crate::error::CliError;
use crate::output::Out;
use crate::raw::Raw;
use crate::source::Session;
use crate::{describe, status, Global};

#[derive(Args, Debug)]
pub(crate) struct CallArgs {
    /// unix:/path.sock, unix:///abs/path.sock, unix-abstract:name or host:port.
    target: String,
    /// The method: `pkg.Service/Method` (or `pkg.Service.Method`).
    method: String,
    /// The request as JSON; several objects for a client stream. Default: -d, else stdin,
    /// else `{}`.
    json: Option<String>,
    /// The request: JSON, `@file` to read it from a file, `@-` from stdin.
    #[arg(short = 'd', long = "data", value_name = "JSON|@FILE")]
    data: Option<String>,
}

pub(crate) async fn run(args: CallArgs, global: &Global, out: &Out) -> Result<u8, CliError> {
    let (input, source) = read_input(&args)?;
    let mut session = Session::open(&args.target, global, out).await?;
    let result = call(&mut session, &args.method, input.as_deref(), &source, out).await;
    session.close(out).await;
    result
}

async fn call(
    session: &mut Session,
    name: &str,
    input: Option<&str>,
    source: &str,
    out: &Out,
) -> Result<u8, CliError> {
    let method = resolve(session, name, out).await?;
    session.schema_done(out).await;
    let mut requests = match input {
        Some(text) => crate::input::parse(text, &method.input(), source)?,
        None => Vec::new(),
    };
    let streaming_in = method.is_client_streaming();
    if !streaming_in {
        match requests.len() {
            0 => requests.push(DynamicMessage::new(method.input())),
            1 => {}
            n => {
                return Err(CliError::invalid(format!(
                    "{} takes one request, and {source} holds {n} JSON objects",
                    method.full_name()
                )))
            }
        }
    }
    let path = format!("/{}/{}", method.parent_service().full_name(), method.name());
    let requests: Vec<Raw> = requests.iter().map(|m| Raw(Bytes::from(m.encode_to_vec()))).collect();
    let output = method.output();
    let options = session.options.clone();
    let channel = session.channel().clone();
    let result: Result<(), Status> = match (streaming_in, method.is_server_streaming()) {
        (false, false) => {
            let reply = channel.unary::<Raw, Raw>(&path, &requests[0], options).await;
            reply.map(|response| print_message(session, out, &output, response.get_ref()))
        }
        (false, true) => {
            match channel.server_streaming::<Raw, Raw>(&path, &requests[0], options).await {
                Ok(mut stream) => loop {
                    match stream.message().await {
                        Ok(Some(message)) => print_message(session, out, &output, &message),
                        Ok(None) => break Ok(()),
                        Err(status) => break Err(status),
                    }
                },
                Err(status) => Err(status),
            }
        }
        (true, false) => match channel.client_streaming::<Raw, Raw>(&path, options).await {
            Ok(mut call) => {
                for request in &requests {
                    if call.send(request).await.is_err() {
                        break; // the call is over: finish says how
                    }
                }
                call.finish()
                    .await
                    .map(|response| print_message(session, out, &output, response.get_ref()))
            }
            Err(status) => Err(status),
        },
        (true, true) => match channel.bidi_streaming::<Raw, Raw>(&path, options).await {
            Ok((mut sink, mut stream)) => {
                let sending = async move {
                    for request in &requests {
                        if sink.send(request).await.is_err() {
                            break;
                        }
                    }
                    let _ = sink.close().await;
                };
                let receiving = async {
                    loop {
                        match stream.message().await {
                            Ok(Some(message)) => print_message(session, out, &output, &message),
                            Ok(None) => break Ok(()),
                            Err(status) => break Err(status),
                        }
                    }
                };
                tokio::join!(sending, receiving).1
            }
            Err(status) => Err(status),
        },
    };
    session.drain(out);
    let status = result.err().unwrap_or_else(Status::ok);
    status::print(out, &status, &session.pool);
    Ok(status.code() as u8)
}

/// The method named `pkg.Service/Method`, `pkg.Service.Method` or `/pkg.Service/Method`.
async fn resolve(
    session: &mut Session,
    name: &str,
    out: &Out,
) -> Result<MethodDescriptor, CliError> {
    let trimmed = name.trim_start_matches('/');
    let split = trimmed.rsplit_once('/').or_else(|| trimmed.rsplit_once('.'));
    let Some((service, method)) = split.filter(|(s, m)| !s.is_empty() && !m.is_empty()) else {
        return Err(CliError::invalid(format!("{name:?}: name the method as pkg.Service/Method")));
    };
    if session.learn(service, out).await? {
        if let Some(found) = session.pool.get_service_by_name(service) {
            if let Some(m) = found.methods().find(|m| m.name() == method) {
                return Ok(m);
            }
            let methods: Vec<String> = found.methods().map(|m| m.name().to_owned()).collect();
            return Err(CliError::usage(
                Code::NotFound,
                format!(
                    "method {method} not found in service {service} {} — it has {}",
                    session.where_from(),
                    methods.join(", ")
                ),
            ));
        }
    }
    Err(describe::not_found(session, "service", service, out).await)
}

/// Prints a response message (after the frames that carried it, with `--wire`).
fn print_message(session: &mut Session, out: &Out, desc: &MessageDescriptor, message: &Raw) {
    session.drain(out);
    let value = match DynamicMessage::decode(desc.clone(), message.0.clone()) {
        Ok(decoded) => serde_json::to_value(&decoded).unwrap_or(Value::Null),
        Err(err) => json!({ "undecoded": format!("not a {}: {err}", desc.full_name()) }),
    };
    if out.json() {
        out.value(&json!({ "message": value }));
    } else {
        out.line(&serde_json::to_string_pretty(&value).unwrap_or_default());
    }
}

/// The request text and where it came from: the argument, `-d`, or stdin when it is not a
/// terminal. `None`: no input at all.
fn read_input(args: &CallArgs) -> Result<(Option<String>, String), CliError> {
    let stdin = || {
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text).map_err(|err| {
            CliError::invalid(format!("cannot read the request from stdin: {err}"))
        })?;
        Ok::<_, CliError>(text)
    };
    match (&args.json, &args.data) {
        (Some(_), Some(_)) => {
            Err(CliError::invalid("give the request as an argument or with -d, not both"))
        }
        (Some(json), None) => Ok((Some(json.clone()), "the request argument".to_owned())),
        (None, Some(data)) => match data.strip_prefix('@') {
            Some("-") => Ok((Some(stdin()?), "stdin".to_owned())),
            Some(file) => match std::fs::read_to_string(file) {
                Ok(text) => Ok((Some(text), file.to_owned())),
                Err(err) => Err(CliError::invalid(format!("-d @{file}: cannot read it: {err}"))),
            },
            None => Ok((Some(data.clone()), "-d".to_owned())),
        },
        (None, None) if !std::io::stdin().is_terminal() => Ok((Some(stdin()?), "stdin".to_owned())),
        (None, None) => Ok((None, String::new())),
    }
}
