//! gRPC server reflection (grpc/grpc `doc/server-reflection.md`), `grpc.reflection.v1` and
//! `grpc.reflection.v1alpha`: tools like `grpcurl`, Postman or Python's `grpcio-reflection`
//! list an h2grpc server's services and learn their types from the server itself, with no
//! `.proto` at hand. Behind the `reflection` feature.
//!
//! Generate the descriptors with `h2grpc_build::configure().file_descriptor_set(true)`, then
//! serve them in one line with [`Builder::add_reflection`](crate::server::Builder::add_reflection):
//!
//! ```no_run
//! pub mod helloworld {
//!     h2grpc::include_proto!("helloworld"); // has FILE_DESCRIPTOR_SET
//! }
//! # struct MyGreeter;
//! # impl helloworld::greeter_server::Greeter for MyGreeter {}
//! # fn main() -> Result<(), h2grpc::Error> {
//! let server = h2grpc::Server::builder()
//!     .add_service(helloworld::greeter_server::service(MyGreeter))
//!     .add_reflection([helloworld::FILE_DESCRIPTOR_SET])
//!     .bind_unix("/tmp/greeter.sock")?;
//! # drop(server); Ok(()) }
//! ```
//!
//! ```sh
//! grpcurl -plaintext -unix /tmp/greeter.sock list
//! grpcurl -plaintext -unix /tmp/greeter.sock describe helloworld.Greeter
//! grpcurl -plaintext -unix -d '{"name": "you"}' /tmp/greeter.sock helloworld.Greeter/SayHello
//! ```
//!
//! What the service answers, on one stream, one response per request in order:
//!
//! | request | response |
//! |---|---|
//! | `list_services` | every service the server serves (reflection itself included), whether or not its descriptors were registered |
//! | `file_containing_symbol` | the file declaring a service, method (`pkg.Service.Method`), message, field, enum, enum value or extension, then the files it depends on (directly or not) that this stream has not sent yet |
//! | `file_by_filename` | that file (e.g. `google/protobuf/empty.proto`, if a registered set holds it), then its dependencies likewise |
//! | `file_containing_extension` | the file declaring that extension, then its dependencies |
//! | `all_extension_numbers_of_type` | the known extension numbers of a message |
//!
//! A name nobody declared gets an `error_response` with NOT_FOUND on the stream, which stays
//! open; a request with nothing asked ends it with INVALID_ARGUMENT, as grpc-go does. The
//! descriptors of reflection itself, and of [`health`](crate::health) when it is served, are
//! built in.

// Generated from proto/grpc/reflection/v1/reflection.proto; tests/generated.rs keeps it (and
// the .bin descriptor sets beside it) current, and rustfmt leaves it as the generator wrote it.
#[allow(clippy::all, unreachable_pub)]
#[rustfmt::skip]
mod generated;
mod index;

use std::collections::BTreeSet;
use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::Poll;

use bytes::Bytes;

pub use self::generated::server_reflection_client::ServerReflectionClient;
pub use self::generated::server_reflection_request::MessageRequest;
pub use self::generated::server_reflection_response::MessageResponse;
pub use self::generated::{
    server_reflection_server, ErrorResponse, ExtensionNumberResponse, ExtensionRequest,
    FileDescriptorResponse, ListServiceResponse, ServerReflectionRequest, ServerReflectionResponse,
    ServiceResponse,
};
use self::index::Index;
pub use self::index::InvalidDescriptorSet;
use crate::server::{Builder, CallContext, RequestStream, ResponseSink, Service};
use crate::status::{Code, Status};

/// The descriptors of `grpc/reflection/v1/reflection.proto`.
pub const FILE_DESCRIPTOR_SET: &[u8] = generated::FILE_DESCRIPTOR_SET;

/// The descriptors of `grpc/reflection/v1alpha/reflection.proto`.
const V1ALPHA_FILE_DESCRIPTOR_SET: &[u8] = include_bytes!("grpc.reflection.v1alpha.bin");

/// The v1alpha service's name; its messages are v1's, byte for byte.
const V1ALPHA_SERVICE_NAME: &str = "grpc.reflection.v1alpha.ServerReflection";

const HEALTH_SERVICE_NAME: &str = "grpc.health.v1.Health";

/// The reflection service's state: the descriptors and the names of the services served.
struct Reflection {
    index: Index,
    services: Vec<String>,
}

// Reflection adds itself to the server's builder: the server never names it, and hands it the
// names of the services it serves when it is built.
impl Builder {
    /// Serves gRPC server reflection, `grpc.reflection.v1` and `v1alpha`, describing this
    /// server's services from `file_descriptor_sets`: the `FILE_DESCRIPTOR_SET` constants
    /// generated with `h2grpc_build::configure().file_descriptor_set(true)`, or any encoded
    /// `google.protobuf.FileDescriptorSet` (`protoc --include_imports -o`). Calls add up.
    ///
    /// Reflection lists every service the server serves, and describes those whose
    /// descriptors it has: the sets given, its own, and health's when
    /// [`HealthReporter::service`](crate::health::HealthReporter::service) is served. See
    /// [`reflection`](crate::reflection). Requires the `reflection` feature.
    ///
    /// ```
    /// pub mod helloworld {
    ///     h2grpc::include_proto!("helloworld");
    /// }
    /// # struct MyGreeter;
    /// # impl helloworld::greeter_server::Greeter for MyGreeter {}
    /// let dir = tempfile::tempdir()?;
    /// let server = h2grpc::Server::builder()
    ///     .add_service(helloworld::greeter_server::service(MyGreeter))
    ///     .add_reflection([helloworld::FILE_DESCRIPTOR_SET])
    ///     .bind_unix(dir.path().join("greeter.sock"))?;
    /// # drop(server);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Panics
    ///
    /// If a set does not decode as a `FileDescriptorSet`: generated sets always do, so this is
    /// a build mistake, reported where it is made. Check sets read at run time with
    /// [`reflection::check`](crate::reflection::check) first.
    pub fn add_reflection<I>(&mut self, file_descriptor_sets: I) -> &mut Self
    where
        I: IntoIterator,
        I::Item: Into<Bytes>,
    {
        let sets = self.late_inputs(built_services);
        for set in file_descriptor_sets {
            let set = set.into();
            if let Err(err) = check_set(&set, sets.len()) {
                panic!("add_reflection: {err}");
            }
            sets.push(set);
        }
        self
    }
}

/// The reflection services for a server serving `served`, made when it is built.
fn built_services(sets: Vec<Bytes>, served: Vec<String>) -> Vec<Service> {
    // Every set was checked by add_reflection, and the built-in ones by the tests.
    services(sets, served).map(Vec::from).unwrap_or_default()
}

/// The two reflection services (v1, v1alpha) for a server serving `served` (the names of its
/// other services), answering from `sets` and the built-in descriptors.
fn services(
    sets: Vec<Bytes>,
    served: impl IntoIterator<Item = String>,
) -> Result<[Service; 2], InvalidDescriptorSet> {
    let mut services: BTreeSet<String> = served.into_iter().collect();
    services.insert(server_reflection_server::SERVICE_NAME.to_owned());
    services.insert(V1ALPHA_SERVICE_NAME.to_owned());
    let mut index = Index::default();
    let mut built_in = vec![FILE_DESCRIPTOR_SET, V1ALPHA_FILE_DESCRIPTOR_SET];
    if services.contains(HEALTH_SERVICE_NAME) {
        built_in.push(crate::health::FILE_DESCRIPTOR_SET);
    }
    for set in built_in {
        index.add_set(Bytes::from_static(set), usize::MAX)?;
    }
    for (position, set) in sets.into_iter().enumerate() {
        index.add_set(set, position)?;
    }
    let reflection = Arc::new(Reflection { index, services: services.into_iter().collect() });
    let v1alpha = {
        let reflection = reflection.clone();
        Service::new(V1ALPHA_SERVICE_NAME).bidi_streaming(
            "ServerReflectionInfo",
            move |ctx, requests, sink| {
                let reflection = reflection.clone();
                async move { reflection.info(ctx, requests, sink).await }
            },
        )
    };
    Ok([server_reflection_server::service(Shared(reflection)), v1alpha])
}

/// The generated trait's implementation, over the shared state.
struct Shared(Arc<Reflection>);

impl server_reflection_server::ServerReflection for Shared {
    async fn server_reflection_info(
        &self,
        ctx: CallContext,
        requests: RequestStream<ServerReflectionRequest>,
        sink: ResponseSink<ServerReflectionResponse>,
    ) -> Result<(), Status> {
        self.0.info(ctx, requests, sink).await
    }
}

impl Reflection {
    /// Answers each request as it comes, without waiting for the end of the requests. Clients
    /// keep the stream open for a whole session, so it ends when the server starts shutting
    /// down (UNAVAILABLE), not at the end of the shutdown grace period.
    async fn info(
        &self,
        ctx: CallContext,
        mut requests: RequestStream<ServerReflectionRequest>,
        mut sink: ResponseSink<ServerReflectionResponse>,
    ) -> Result<(), Status> {
        // The files this stream has sent: dependencies are sent once.
        let mut sent = BTreeSet::new();
        let mut shutting_down = pin!(ctx.server_shutting_down());
        loop {
            let request = {
                let mut next = pin!(requests.message());
                std::future::poll_fn(|cx| {
                    if shutting_down.as_mut().poll(cx).is_ready() {
                        return Poll::Ready(Err(Status::unavailable(
                            "the server is shutting down",
                        )));
                    }
                    next.as_mut().poll(cx)
                })
                .await?
            };
            let Some(request) = request else { return Ok(()) };
            let Some(asked) = &request.message_request else {
                return Err(Status::invalid_argument("the reflection request asks nothing"));
            };
            let answer = self.answer(asked, &mut sent);
            let response = ServerReflectionResponse {
                valid_host: request.host.clone(),
                message_response: Some(answer),
                original_request: Some(request),
            };
            sink.send(response).await?;
        }
    }

    fn answer(&self, asked: &MessageRequest, sent: &mut BTreeSet<String>) -> MessageResponse {
        let index = &self.index;
        let file = match asked {
            MessageRequest::ListServices(_) => {
                let service =
                    self.services.iter().map(|name| ServiceResponse { name: name.clone() });
                return MessageResponse::ListServicesResponse(ListServiceResponse {
                    service: service.collect(),
                });
            }
            MessageRequest::AllExtensionNumbersOfType(message) => {
                return match index.extension_numbers(message) {
                    Some(extension_number) => {
                        MessageResponse::AllExtensionNumbersResponse(ExtensionNumberResponse {
                            base_type_name: message.clone(),
                            extension_number,
                        })
                    }
                    None => not_found(format!("message type {message:?} not found")),
                };
            }
            MessageRequest::FileByFilename(name) => match index.has_file(name) {
                true => name.as_str(),
                false => return not_found(format!("file {name:?} not found")),
            },
            MessageRequest::FileContainingSymbol(symbol) => match index.file_of_symbol(symbol) {
                Some(file) => file,
                None => return not_found(format!("symbol {symbol:?} not found")),
            },
            MessageRequest::FileContainingExtension(ExtensionRequest {
                containing_type,
                extension_number,
            }) => match index.file_of_extension(containing_type, *extension_number) {
                Some(file) => file,
                None => {
                    return not_found(format!(
                        "extension {extension_number} of {containing_type:?} not found"
                    ))
                }
            },
        };
        let files = index.with_dependencies(file, sent);
        MessageResponse::FileDescriptorResponse(FileDescriptorResponse {
            file_descriptor_proto: files.into_iter().map(Vec::from).collect(),
        })
    }
}

/// Whether `file_descriptor_set` decodes as a `google.protobuf.FileDescriptorSet` that
/// reflection can serve, as [`Builder::add_reflection`](crate::server::Builder::add_reflection)
/// requires.
///
/// ```
/// assert!(h2grpc::reflection::check(h2grpc::reflection::FILE_DESCRIPTOR_SET).is_ok());
/// assert!(h2grpc::reflection::check(b"\x0a\x05ab").is_err()); // truncated
/// ```
pub fn check(file_descriptor_set: &[u8]) -> Result<(), InvalidDescriptorSet> {
    check_set(&Bytes::copy_from_slice(file_descriptor_set), 0)
}

/// [`check`] for the set at `position` (from 0) of those registered.
fn check_set(set: &Bytes, position: usize) -> Result<(), InvalidDescriptorSet> {
    Index::default().add_set(set.clone(), position)
}

fn not_found(message: String) -> MessageResponse {
    MessageResponse::ErrorResponse(ErrorResponse {
        error_code: Code::NotFound as i32,
        error_message: message,
    })
}
