//! The client: a [`Channel`] to a server and the four call kinds on it.
//!
//! Generated clients (`greeter_client::GreeterClient`) wrap a channel. Without generated code,
//! call by [`Method`](crate::Method) handle, which carries the path and both message types, so
//! that nothing needs annotating:
//!
//! ```no_run
//! use h2grpc::{CallOptions, Channel, Method};
//! use std::time::Duration;
//!
//! const SAY: Method<String, String> = Method::new("/echo.v1.Echo/Say");
//!
//! # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let channel = Channel::connect(std::path::Path::new("/tmp/echo.sock")).await?;
//! let options = CallOptions::new().timeout(Duration::from_secs(1));
//! let reply = channel.unary(SAY, "hello".to_string(), options).await?.into_inner();
//! println!("{reply}");
//! # Ok(()) }
//! ```
//!
//! # Many backends
//!
//! A target may name several servers: a DNS name with several addresses
//! (`dns:///service.ns.svc:50051`, every IPv4 and IPv6 address), a list
//! (`ipv4:10.0.0.1:50051,10.0.0.2:50051`), or whatever a [`Resolver`] of your own returns.
//! The channel keeps one connection per address and balances calls with pick_first (the
//! default) or [`round_robin`](ChannelBuilder::round_robin); [`Channel::state`] tells its
//! [`ConnectivityState`]; a [`RetryPolicy`] (gRFC A6) sends failed calls again, to another
//! server under round_robin.
//!
//! ```
//! use std::time::Duration;
//! use h2grpc::{client::RetryPolicy, Channel, Code};
//!
//! let retry = RetryPolicy::new(3, &[Code::Unavailable])?.initial_backoff(Duration::from_millis(50));
//! let channel = Channel::builder("ipv4:127.0.0.1:50051,127.0.0.1:50052")?
//!     .round_robin()
//!     .retry_policy(retry)
//!     .connect_lazy();
//! # drop(channel);
//! # Ok::<(), h2grpc::Error>(())
//! ```
//!
//! # Naming
//!
//! Each side names its halves after the messages in them: the client sends on a
//! [`RequestSink`] and reads a [`ResponseStream`]; the server reads a
//! [`RequestStream`](crate::server::RequestStream) and sends on a
//! [`ResponseSink`](crate::server::ResponseSink). Every message sent, request or response, is
//! taken by value or by reference (`impl Borrow<T>`, [`AsRequest`]).

mod balance;
mod builder_lb;
mod call;
mod channel;
mod channel_builder;
mod config;
mod connection;
mod deadline;
mod driver;
mod inner;
mod intercept;
mod keepalive;
mod options;
mod replay;
mod request;
mod request_sink;
mod response;
mod response_reader;
mod retry;
mod retry_policy;
mod shared_send;

pub use self::balance::{ConnectivityState, DnsResolver, Resolution, Resolver, StaticResolver};
pub use self::call::ClientStreamingCall;
pub use self::channel::Channel;
pub use self::channel_builder::ChannelBuilder;
pub use self::options::CallOptions;
pub use self::request::AsRequest;
pub use self::request_sink::RequestSink;
pub use self::response::{Response, ResponseStream};
pub use self::retry_policy::{RetryPolicy, MAX_ATTEMPTS};

/// The former name of [`ResponseStream`], kept while code moves over.
#[deprecated(note = "renamed `ResponseStream`, the counterpart of the server's `RequestStream`")]
pub type Streaming<T> = ResponseStream<T>;
pub use crate::method::IntoMethod;
