//! h2grpc: a small gRPC layer written directly on the `h2` crate.
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod codec;
mod error;
pub mod metadata;
pub mod status;
pub mod timeout;

// Public API:
pub use crate::error::{Error, ErrorKind};
pub use crate::metadata::Metadata;
pub use crate::status::{Code, Status};
