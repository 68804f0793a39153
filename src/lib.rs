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
//! use h2grpc::{CallContext, CallOptions, Channel, Server, Status};
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
//! let server = Server::builder()
//!     .add_service(greeter_server::service(MyGreeter))
//!     .bind_unix(dir.path().join("greeter.sock"))?;
//! let target = server.local_target().unwrap().to_string(); // "unix:/tmp/.../greeter.sock"
//! let shutdown = server.shutdown_handle();
//! let serving = tokio::spawn(server.serve());
//!
//! let client = GreeterClient::new(Channel::connect(&target).await?);
//! let reply = client.say_hello(HelloRequest { name: "you".into() }, CallOptions::new()).await?;
//! assert_eq!(reply.into_inner().message, "Hello, you!");
//!
//! shutdown.shutdown();
//! serving.await??;
//! # Ok(()) }
//! ```
//!
//! Without generated code, [`Service`] takes handlers by method name and [`Channel`] calls by
//! path: see [`server`] and [`client`].
//!
//! # Layout
//!
//! The crate is layered like the protocol. Each wire rule lives in one place:
//!
//! | layer | module | wire rules it holds |
//! |---|---|---|
//! | pure wire (no IO) | [`codec`] (`frame.rs`, `decode.rs`, `encode.rs`, `error.rs`) | the 5-byte Length-Prefixed-Message prefix; the Compressed-Flag; message size limits, checked before allocating; decode failures to codes |
//! | | [`status`] (`mod.rs`, `trailers.rs`, `mapping.rs`) | the 17 codes; `grpc-status`, percent-encoded `grpc-message`, base64 `grpc-status-details-bin`; HTTP status and `RST_STREAM` reason to code when no `grpc-status` came |
//! | | [`metadata`] | metadata keys, `-bin` values in base64, reserved `grpc-*` and HTTP/2 names; every header name the crate spells |
//! | | [`timeout`] | the `grpc-timeout` grammar: parse, and encode the time remaining |
//! | HTTP/2 call machinery (private) | `call` (`headers.rs`, `recv.rs`, `send.rs`) | request and response header blocks, `content-type: application/grpc`, `te: trailers`, `user-agent`; messages over `h2` streams under flow control |
//! | server | [`server`] (`call.rs`, `service.rs`, `conn.rs`, `context.rs`, `stream.rs`) | request checks in grpc-go's order (POST, content-type 415, routing `/package.Service/Method` split at the last `/` and case-sensitive, `grpc-encoding`, `grpc-timeout` and deadlines), Trailers-Only replies, request cardinality, cancellation on `RST_STREAM`, graceful shutdown with GOAWAY |
//! | client | [`client`] (`call.rs`, `response.rs`, `channel.rs`, `options.rs`) | the four call kinds; `RST_STREAM(CANCEL)` on drop; response header and trailer checks, response cardinality; deadlines; `:authority`; reconnection and wait-for-ready |
//! | transport | [`transport`] | targets (`unix:`, `unix-abstract:`, `host:port`), Unix socket binding and stale-socket rules, peer credentials (`SO_PEERCRED`), TCP |
//! | codegen | [`include_proto!`] and the hidden `__codegen` re-exports (`codegen.rs`); the generator itself is the `h2grpc-build` crate | what generated code may name; method paths and names come from `h2grpc-build` |
#![forbid(unsafe_code)]

pub mod client;
pub mod codec;
pub mod metadata;
pub mod server;
pub mod status;
pub mod timeout;
pub mod transport;

mod call;
mod cancel;
mod codegen;
mod error;
mod fuzzing;
pub mod health;

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
pub use crate::server::{CallContext, Server, Service};
pub use crate::status::{Code, Status};
pub use crate::transport::{Peer, Target};

#[doc(hidden)]
pub use crate::fuzzing::__fuzz;
