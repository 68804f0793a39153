//! The server reflection client: `grpc.reflection.v1`, falling back to `v1alpha` (older
//! grpcio and grpc-js servers serve only that), on one bidirectional stream, one request at a
//! time. The messages of both versions are the same on the wire, so the library's v1 types
//! serve both.

use h2grpc::client::{RequestSink, ResponseStream};
use h2grpc::reflection::{
    MessageRequest, MessageResponse, ServerReflectionRequest, ServerReflectionResponse,
};
use h2grpc::{CallOptions, Channel, Code, Status};

use crate::error::CliError;

const V1: &str = "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo";
const V1ALPHA: &str = "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo";

/// An open reflection stream.
#[derive(Debug)]
pub(crate) struct Reflection {
    sink: RequestSink<ServerReflectionRequest>,
    stream: ResponseStream<ServerReflectionResponse>,
    /// The services the server listed when the stream opened.
    pub(crate) services: Vec<String>,
}

/// What went wrong with a reflection request.
#[derive(Debug)]
pub(crate) enum Failure {
    /// The server answered with an error_response (e.g. NOT_FOUND for an unknown symbol).
    Answer(Code, String),
    /// The call failed.
    Call(CliError),
}

impl Reflection {
    /// Opens the stream (v1, then v1alpha) and lists the services, which also tells whether
    /// the server serves reflection at all.
    pub(crate) async fn open(
        channel: &Channel,
        options: &CallOptions,
    ) -> Result<Reflection, CliError> {
        let mut last = None;
        for path in [V1, V1ALPHA] {
            let (sink, stream) = channel
                .bidi_streaming(path, options.clone())
                .await
                .map_err(|status| CliError::rpc("reflection", status))?;
            let mut reflection = Reflection { sink, stream, services: Vec::new() };
            match reflection.ask(MessageRequest::ListServices(String::new())).await {
                Ok(MessageResponse::ListServicesResponse(list)) => {
                    reflection.services = list.service.into_iter().map(|s| s.name).collect();
                    reflection.services.sort();
                    return Ok(reflection);
                }
                Ok(_) => {
                    return Err(CliError::rpc(
                        "reflection",
                        Status::internal("the server answered list_services with something else"),
                    ))
                }
                Err(Failure::Call(err)) if err.code == Code::Unimplemented => last = Some(err),
                Err(Failure::Call(err)) => return Err(err),
                Err(Failure::Answer(code, message)) => {
                    return Err(CliError::rpc("reflection", Status::new(code, message)))
                }
            }
        }
        let mut err = last.expect("both versions were tried");
        err.kind = crate::error::Kind::Usage;
        err.message = "the server does not serve reflection (grpc.reflection.v1 nor v1alpha: \
                       UNIMPLEMENTED) — pass --proto FILE.proto (with -I DIR for its imports) or \
                       --protoset FILE"
            .to_owned();
        Err(err)
    }

    /// One request, its response.
    pub(crate) async fn ask(
        &mut self,
        request: MessageRequest,
    ) -> Result<MessageResponse, Failure> {
        let request =
            ServerReflectionRequest { host: String::new(), message_request: Some(request) };
        let call_failed = |status| Failure::Call(CliError::rpc("reflection", status));
        if let Err(status) = self.sink.send(&request).await {
            // The call is over; its status says why.
            let status = match self.stream.message().await {
                Err(real) => real,
                Ok(_) => status,
            };
            return Err(call_failed(status));
        }
        match self.stream.message().await {
            Ok(Some(response)) => match response.message_response {
                Some(MessageResponse::ErrorResponse(err)) => {
                    Err(Failure::Answer(Code::from_i32(err.error_code), err.error_message))
                }
                Some(other) => Ok(other),
                None => Err(call_failed(Status::internal("an empty reflection response"))),
            },
            Ok(None) => {
                Err(call_failed(Status::internal("the server ended the reflection stream")))
            }
            Err(status) => Err(call_failed(status)),
        }
    }

    /// Half-closes the stream and reads it to its end, so the connection closes cleanly.
    pub(crate) async fn close(mut self) {
        let _ = self.sink.close().await;
        while let Ok(Some(_)) = self.stream.message().await {}
    }
}
