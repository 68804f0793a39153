//! h2grpc: a small gRPC layer written directly on the `h2` crate — no tonic, tower or hyper —
//! for Unix sockets first (and TCP).
//!
//! Write a `.proto`, compile it in `build.rs` with [`h2grpc-build`](https://docs.rs/h2grpc-build)
//! (no `protoc` needed), include the result with [`include_proto!`], implement the generated
//! trait and serve it; call it with the generated client:
//!
//! ```
//! pub mod helloworld {
//!     h2grpc::include_proto!("helloworld"); // OUT_DIR/helloworld.rs, from proto/helloworld.proto
//! }
//! use helloworld::greeter_client::GreeterClient;
//! use helloworld::greeter_server::{self, Greeter};
//! use helloworld::{HelloReply, HelloRequest};
//! use h2grpc::{CallContext, CallOptions, Server, Status};
//!
//! struct MyGreeter;
//! impl Greeter for MyGreeter {
//!     async fn say_hello(&self, _ctx: CallContext, req: HelloRequest) -> Result<HelloReply, Status> {
//!         Ok(HelloReply { message: format!("Hello, {}!", req.name) })
//!     }
//! }
//!
//! # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = tempfile::tempdir()?;
//! let socket = dir.path().join("greeter.sock");
//! let server = Server::builder().add_service(greeter_server::service(MyGreeter)).bind_unix(&socket)?;
//! let shutdown = server.shutdown_handle();
//! let serving = tokio::spawn(server.serve());
//!
//! // A socket path, or a target string: "unix:/run/greeter.sock", "localhost:50051".
//! let client = GreeterClient::connect(&socket).await?;
//! let reply = client.say_hello(HelloRequest { name: "you".into() }, CallOptions::new()).await?;
//! assert_eq!(reply.into_inner().message, "Hello, you!");
//!
//! shutdown.shutdown();
//! serving.await??;
//! # Ok(()) }
//! ```
//!
//! Without generated code, a [`Method`] handle names a method on both sides: [`Service`] takes
//! handlers by it and [`Channel`] calls through it, every type inferred from it; see
//! [`server`], [`client`] and [`method`].
//!
//! # Layout
//!
//! The crate is layered like the protocol. Each wire rule lives in one place:
//!
//! | layer | module (files) | wire rules it holds |
//! |---|---|---|
//! | pure wire (no IO) | [`codec`] (`frame.rs`, `decode.rs` + `decode/reference.rs`, `encode.rs`, `error.rs`, `compression.rs` + `compression/algorithm.rs`) | the 5-byte Length-Prefixed-Message prefix (`frame.rs` only); the Compressed-Flag; message size limits, checked before allocating; decode failures to codes; `grpc-encoding` and `grpc-accept-encoding`, gzip and deflate, the limit after decompression |
//! | | [`status`] (`mod.rs`, `trailers.rs`, `mapping.rs`, `wire_errors.rs`, `details/`) | the 17 codes; `grpc-status`, percent-encoded `grpc-message`, base64 `grpc-status-details-bin`; `mapping.rs`: the [`Side`](status::mapping::Side) of a call, and every h2 error, `RST_STREAM` reason and HTTP status to a code; `wire_errors.rs`: bad metadata and `grpc-timeout` to a status; the `google.rpc` error details (feature `error-details`) |
//! | | [`method`] | the `/package.Service/Method` grammar, checked for services, handles and path strings alike |
//! | | [`metadata`] (`metadata.rs`, `syntax.rs`, `names.rs`, `binary.rs`, `invalid.rs`) | metadata keys, `-bin` values in base64, reserved `grpc-*` and HTTP/2 names; every header name the crate spells (`names.rs`) |
//! | | [`timeout`] | the `grpc-timeout` grammar: parse, and encode the time remaining |
//! | | `h2wire` (private: `head.rs`, `hpack.rs`, `huffman.rs`, `wrap.rs`) | the HTTP/2 frame head, types and flags, HPACK integers, strings and Huffman, for the code that reads raw HTTP/2 bytes (`h2fix`, `trace::frames`, the fuzzers); IO-wrapper forwarding |
//! | HTTP/2 call machinery (private) | `call` (`headers.rs`, `recv.rs`, `send.rs`, `settings.rs`) | request and response header blocks, `content-type: application/grpc`, `te: trailers`, `user-agent`; receiving messages, and the one flow-controlled send loop of both sides; the HTTP/2 settings and call limits both builders hold, and their setters |
//! | server | [`server`] (`builder.rs`, `config.rs`, `listener.rs`, `conn.rs`, `lifetime.rs`, `call.rs`, `handler.rs`, `driver.rs`, `outbox.rs`, `service.rs` + `service/adapters.rs`, `context.rs`, `stream.rs`, `intercept.rs`, `broadcast.rs`) | request checks in grpc-go's order (POST, content-type 415, routing `/package.Service/Method` split at the last `/` and case-sensitive, `grpc-encoding`, `grpc-timeout` and deadlines), interceptors, Trailers-Only replies, request cardinality, the response's encoding and compression, cancellation on `RST_STREAM`, graceful shutdown with GOAWAY; connection idle and age limits (A9); one publisher to every subscribed call (`broadcast.rs`) |
//! | client | [`client`] (`channel.rs`, `channel_builder.rs`, `builder_lb.rs`, `config.rs`, `inner.rs`, `connection.rs`, `driver.rs`, `keepalive.rs`, `call.rs`, `request.rs`, `request_sink.rs`, `response.rs`, `response_reader.rs`, `shared_send.rs`, `deadline.rs`, `options.rs`, `intercept.rs`, `retry.rs`, `retry_policy.rs`, `replay.rs`, `balance/`) | the four call kinds; interceptors; `RST_STREAM(CANCEL)` on drop; response header and trailer checks, response cardinality; deadlines; `:authority`; name resolution, pick_first and round_robin (`balance/`), reconnection backoff and wait-for-ready; retries and their throttle (A6); keepalive PINGs and `too_many_pings` (A8) |
//! | HTTP/2 workaround (private) | `h2fix` (`mod.rs`, `blocks.rs`) | rewrites a percent-encoded `:authority` (C-core's `unix:` and `ipv4:` targets) that `h2` refuses (hyperium/h2#487), until `h2` accepts it |
//! | wire visibility | [`trace`] (`event.rs`, `sink.rs`, `call.rs`, `tap.rs`, `frames/`) | the call-level trace (headers, messages, trailers, resets, GOAWAY as each side sees them), a handle that does nothing when tracing is off; a tap recording a connection's bytes; HTTP/2 frames and the gRPC messages in DATA frames, decoded from those bytes |
//! | transport | [`transport`] (`target.rs` + `target/forms.rs`, `into_target.rs`, `address.rs`, `unix.rs`, `unix_mode.rs`, `tcp.rs`, `peer.rs`, `tls/`) | targets (`unix:`, `unix-abstract:`, `host:port`, `ipv4:`, `ipv6:`, `dns:`), Unix socket binding, its mode and the stale-socket rules, peer credentials (`SO_PEERCRED`), TCP; TLS with rustls and ALPN `h2` (feature `tls`) |
//! | standard services | [`health`] (`grpc.health.v1`); `reflection` (`grpc.reflection.v1` and `v1alpha`, feature `reflection`): an index of the registered file descriptors, given the server's service names | health statuses and Watch; reflection's one answer per request, NOT_FOUND on the stream, each dependency sent once per stream |
//! | process | `daemon` (feature `daemon`: `activation.rs`, `notify.rs`, `serve.rs`); `cancel.rs` ([`Cancellation`]); `error.rs` ([`Error`]) | systemd socket activation (`LISTEN_FDS`), `sd_notify` readiness, SIGTERM as graceful shutdown |
//! | codegen | [`include_proto!`] and the hidden `__codegen` re-exports (`codegen.rs`); the generator itself is the `h2grpc-build` crate | what generated code may name; method paths and names come from `h2grpc-build` |
//! | fuzzing (hidden) | `__fuzz` (`fuzzing.rs`, `fuzzing/`) | the functions the fuzz targets and the corpus replay call |
//!
//! # Features
//!
//! - `compression`: gzip and deflate message compression (`grpc-encoding`), with
//!   [flate2](https://docs.rs/flate2) and its pure-Rust backend; see [`codec::compression`].
//!   Off by default: without it only `identity` is spoken and no crate is added.
//! - `daemon`: the `daemon` module: systemd socket activation
//!   (`Builder::bind_activated_or_unix`), `sd_notify` readiness, SIGTERM/SIGINT as graceful
//!   shutdown. Adds [listenfd](https://docs.rs/listenfd) and tokio's signal handling.
//! - `error-details`: the `google.rpc` error model in `grpc-status-details-bin`
//!   (`Status::with_error_details`, `Status::detail`); see `status::details`. Adds no crate.
//! - `reflection`: gRPC server reflection; see `reflection`. Adds no crate.
#![forbid(unsafe_code)]

pub mod client;
pub mod codec;
pub mod metadata;
pub mod method;
pub mod server;
pub mod status;
pub mod timeout;
pub mod trace;
pub mod transport;

mod call;
mod cancel;
mod codegen;
#[cfg(feature = "daemon")]
pub mod daemon;
mod error;
mod fuzzing;
mod h2fix;
mod h2wire;
pub mod health;
#[cfg(feature = "reflection")]
pub mod reflection;

#[doc(hidden)]
pub use crate::codegen::__codegen;

/// The README's Rust code blocks, compiled as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

// Public API:
pub use crate::cancel::{Cancellation, Cancelled};
pub use crate::client::{CallOptions, Channel};
pub use crate::error::{Error, ErrorKind};
pub use crate::metadata::Metadata;
pub use crate::method::Method;
pub use crate::server::{CallContext, Server, Service};
pub use crate::status::{Code, Status};
#[cfg(feature = "tls")]
pub use crate::transport::tls::{ClientTls, ServerTls};
pub use crate::transport::{Peer, Target};

#[doc(hidden)]
pub use crate::fuzzing::__fuzz;
