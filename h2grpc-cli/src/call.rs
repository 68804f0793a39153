//! `call`: one call of any of the four kinds, requests from JSON, responses printed as JSON as
//! they come, the status last; the exit code is the status code.

use std::cell::Cell;
use std::pin::pin;

use clap::Args;
use h2grpc::client::{Response, ResponseStream};
use h2grpc::{Code, Metadata, Status};
use prost_reflect::{DynamicMessage, MessageDescriptor, MethodDescriptor};
use serde_json::{json, Value};
use tokio::sync::mpsc;

use crate::error::CliError;
use crate::input::Input;
use crate::output::Out;
use crate::raw::Raw;
use crate::source::Session;
use crate::{describe, status, Global};

#[derive(Args, Debug)]
pub(crate) struct CallArgs {
    /// unix:/path.sock, unix:///abs/path.sock, unix-abstract:name, host:port or https://host:port.
    target: String,
    /// The method: `pkg.Service/Method` (or `pkg.Service.Method`).
    method: String,
    /// The request as JSON; several objects for a client stream. Default: -d, else stdin,
    /// else `{}`.
    json: Option<String>,
    /// The request: JSON, `@file` to read it from a file, `@-` from stdin.
    #[arg(short = 'd', long = "data", value_name = "JSON|@FILE")]
    data: Option<String>,
    /// Print the response headers and trailers too (the metadata; --wire shows every field).
    #[arg(short = 'v', long)]
    verbose: bool,
}

pub(crate) async fn run(args: CallArgs, global: &Global, out: &Out) -> Result<u8, CliError> {
    let input = Input::choose(args.json.as_deref(), args.data.as_deref())?;
    let mut session = Session::open(&args.target, global, out).await?;
    let verbose = args.verbose;
    let result = call(&mut session, &args.method, input, verbose, out).await;
    session.close(out).await;
    result
}

async fn call(
    session: &mut Session,
    name: &str,
    input: Input,
    verbose: bool,
    out: &Out,
) -> Result<u8, CliError> {
    let method = resolve(session, name, out).await?;
    session.schema_done(out).await;
    let path = format!("/{}/{}", method.parent_service().full_name(), method.name());
    let output = method.output();
    let options = session.call_options();
    let channel = session.channel().clone();
    let (tx, mut rx) = mpsc::channel(16);
    let desc = method.input();
    let input = match input {
        // Nothing given at a terminal: one request is `{}`; a stream is typed.
        Input::Terminal if !method.is_client_streaming() => {
            Input::Text(String::new(), String::new())
        }
        input => input,
    };
    // Set when the requests turn out to be bad: the call is then cancelled, not half-closed as
    // if the requests were all sent.
    let failed = Cell::new(None);
    let producing = async {
        if let Err(err) = input.feed(&desc, tx).await {
            failed.set(Some(err));
        }
    };
    let result: Result<(), Status> = if !method.is_client_streaming() {
        let (_, request) = tokio::join!(producing, one_request(&mut rx, &method));
        if let Some(err) = failed.take() {
            return Err(err);
        }
        let request = request?;
        if method.is_server_streaming() {
            match channel.server_streaming::<Raw, Raw>(&path, &request, options).await {
                Ok(mut stream) => receive(session, out, &output, &mut stream, verbose).await,
                Err(status) => Err(status),
            }
        } else {
            let reply = channel.unary::<Raw, Raw>(&path, &request, options).await;
            reply.map(|response| print_response(session, out, &output, &response, verbose))
        }
    } else if !method.is_server_streaming() {
        match channel.client_streaming::<Raw, Raw>(&path, options).await {
            Ok(mut call) => {
                let sending = async {
                    while let Some(request) = rx.recv().await {
                        if call.send(&request).await.is_err() {
                            break; // the call is over: finish says how
                        }
                    }
                };
                tokio::join!(producing, sending);
                if let Some(err) = failed.take() {
                    call.cancel();
                    return Err(err);
                }
                let response = call.finish().await;
                response.map(|response| print_response(session, out, &output, &response, verbose))
            }
            Err(status) => Err(status),
        }
    } else {
        match channel.bidi_streaming::<Raw, Raw>(&path, options).await {
            Ok((mut sink, mut stream)) => {
                let sending = async {
                    while let Some(request) = rx.recv().await {
                        if sink.send(&request).await.is_err() {
                            break;
                        }
                    }
                    match failed.take() {
                        Some(err) => {
                            failed.set(Some(err));
                            sink.cancel();
                        }
                        None => {
                            let _ = sink.close().await;
                        }
                    }
                };
                let mut both = pin!(async { tokio::join!(producing, sending) });
                let mut receiving = pin!(receive(session, out, &output, &mut stream, verbose));
                let received = tokio::select! {
                    // The server ended the call: stop reading requests.
                    received = &mut receiving => received,
                    _ = &mut both => receiving.await,
                };
                if let Some(err) = failed.take() {
                    return Err(err);
                }
                received
            }
            Err(status) => Err(status),
        }
    };
    session.drain(out);
    let status = result.err().unwrap_or_else(Status::ok);
    if verbose && !status.is_ok() {
        print_metadata(out, "trailers", status.metadata());
    }
    status::print(out, &status, &session.pool);
    Ok(status.code() as u8)
}

/// The one request of a unary or server-streaming call: `{}` if none was given.
async fn one_request(
    rx: &mut mpsc::Receiver<Raw>,
    method: &MethodDescriptor,
) -> Result<Raw, CliError> {
    let first = rx.recv().await;
    let mut extra = 0;
    while rx.recv().await.is_some() {
        extra += 1;
    }
    if extra > 0 {
        return Err(CliError::invalid(format!(
            "{} takes one request, and {} more JSON objects came after it",
            method.full_name(),
            extra
        )));
    }
    Ok(first.unwrap_or_default())
}

/// Prints each response as it comes; the call's end.
async fn receive(
    session: &mut Session,
    out: &Out,
    output: &MessageDescriptor,
    stream: &mut ResponseStream<Raw>,
    verbose: bool,
) -> Result<(), Status> {
    if verbose {
        // A call that fails at once has no headers: the loop reads its status.
        if let Ok(headers) = stream.headers().await {
            session.drain(out);
            print_metadata(out, "headers", headers);
        }
    }
    loop {
        match stream.message().await {
            Ok(Some(message)) => print_message(session, out, output, &message),
            Ok(None) => break,
            Err(status) => return Err(status),
        }
    }
    if let (true, Some(trailers)) = (verbose, stream.trailers()) {
        print_metadata(out, "trailers", trailers);
    }
    Ok(())
}

/// The one response of a unary or client-streaming call, with its metadata if `verbose`.
fn print_response(
    session: &mut Session,
    out: &Out,
    desc: &MessageDescriptor,
    response: &Response<Raw>,
    verbose: bool,
) {
    if verbose {
        session.drain(out);
        print_metadata(out, "headers", response.headers());
    }
    print_message(session, out, desc, response.get_ref());
    if verbose {
        print_metadata(out, "trailers", response.trailers());
    }
}

/// Response headers or trailers: `{"headers": {"key": "value", ...}}` with `--format json`
/// (several values of a key in an array), else `response headers:` and a line per value, on
/// stderr with the status. Binary values are shown as sent: base64.
fn print_metadata(out: &Out, what: &str, metadata: &Metadata) {
    let mut map = serde_json::Map::new();
    for (key, value) in metadata.iter() {
        let value = Value::String(String::from_utf8_lossy(value.as_bytes()).into_owned());
        match map.get_mut(key) {
            Some(Value::Array(values)) => values.push(value),
            Some(first) => *first = Value::Array(vec![first.take(), value]),
            None => {
                map.insert(key.to_owned(), value);
            }
        }
    }
    if out.json() {
        out.value(&json!({ what: map }));
        return;
    }
    out.note(&format!("response {what}:"));
    for (key, value) in metadata.iter() {
        out.note(&format!("  {key}: {}", String::from_utf8_lossy(value.as_bytes())));
    }
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
