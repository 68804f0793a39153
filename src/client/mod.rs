//! The client: a [`Channel`] to a server and the four call kinds on it.
//!
//! ```no_run
//! use h2grpc::client::{CallOptions, Channel};
//! use std::time::Duration;
//!
//! # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let channel = Channel::connect("unix:/tmp/echo.sock").await?;
//! let options = CallOptions::new().timeout(Duration::from_secs(1));
//! let reply: String =
//!     channel.unary("/echo.v1.Echo/Say", &"hello".to_string(), options).await?.into_inner();
//! println!("{reply}");
//! # Ok(()) }
//! ```

mod call;
mod channel;
mod intercept;
mod keepalive;
mod options;
mod response;

pub use self::call::{ClientStreamingCall, RequestSink};
pub use self::channel::{Channel, ChannelBuilder};
pub use self::options::CallOptions;
pub use self::response::{Response, Streaming};
