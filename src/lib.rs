//! h2grpc: a small gRPC layer written directly on the `h2` crate.
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
mod error;
mod fuzzing;

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
