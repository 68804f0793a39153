//! The richer error model (feature `error-details`): `google.rpc.Status` in
//! `grpc-status-details-bin`, with the standard details of googleapis packed as
//! `google.protobuf.Any`.
//!
//! gRPC's own status is a code and a message. Servers that need more (which field was bad,
//! when to retry, which quota ran out) send a serialized `google.rpc.Status` in the
//! `grpc-status-details-bin` trailer: the same code and message, and a list of details, each
//! a message with its type URL. Every gRPC implementation reads and writes it: grpc-go's
//! `status.WithDetails`, Python's `grpcio-status` (`rpc_status.to_status`, `from_call`),
//! grpc-java's `StatusProto`, tonic-types.
//!
//! ```text
//! grpc-status: 3
//! grpc-message: name is empty
//! grpc-status-details-bin: base64(google.rpc.Status {
//!     code: 3, message: "name is empty",
//!     details: [Any { type_url: "type.googleapis.com/google.rpc.BadRequest", value: .. }] })
//! ```
//!
//! [`Status::with_error_details`] packs details, [`Status::detail`] finds one by type, and
//! [`Status::error_details`] gives them all:
//!
//! ```
//! use h2grpc::status::details::{bad_request::FieldViolation, BadRequest, Duration, RetryInfo};
//! use h2grpc::{Code, Status};
//!
//! let violation = FieldViolation {
//!     field: "name".into(),
//!     description: "must not be empty".into(),
//!     ..Default::default()
//! };
//! let status = Status::with_error_details(
//!     Code::InvalidArgument,
//!     "name is empty",
//!     [
//!         BadRequest { field_violations: vec![violation] }.into(),
//!         RetryInfo { retry_delay: Some(Duration { seconds: 1, nanos: 0 }) }.into(),
//!     ],
//! );
//!
//! // What the other side reads back, from the same bytes.
//! let received = Status::with_details(status.code(), status.message(), status.details().clone());
//! let bad = received.detail::<BadRequest>().expect("a BadRequest");
//! assert_eq!(bad.field_violations[0].field, "name");
//! assert_eq!(received.retry_delay(), Some(std::time::Duration::from_secs(1)));
//! assert_eq!(received.error_details()?.len(), 2);
//! # Ok::<(), prost::DecodeError>(())
//! ```
//!
//! The messages are generated from `proto/google/rpc/*.proto` (field numbers as upstream) and
//! checked in; `tests/generated.rs` keeps them current.

// Not rustfmt's to reformat: tests/generated.rs compares them byte for byte with prost-build's
// output.
#[allow(clippy::all, missing_docs, unreachable_pub)]
#[rustfmt::skip]
mod google {
    pub mod protobuf {
        include!("google.protobuf.rs");
    }
    pub mod rpc {
        include!("google.rpc.rs");
    }
}

use bytes::Bytes;
use prost::Message;

pub use self::google::protobuf::{Any, Duration};
pub use self::google::rpc::{
    bad_request, help, precondition_failure, quota_failure, BadRequest, DebugInfo, ErrorInfo, Help,
    LocalizedMessage, PreconditionFailure, QuotaFailure, RequestInfo, ResourceInfo, RetryInfo,
};
use super::{Code, Status};

/// `google.rpc.Status`: the message `grpc-status-details-bin` holds.
pub use self::google::rpc::Status as RpcStatus;

/// A message that can be a detail: it knows its type URL. Implemented for the standard
/// details; implement it for your own messages to send them as details too.
///
/// ```
/// use h2grpc::status::details::{Any, Detail};
///
/// #[derive(Clone, PartialEq, prost::Message)]
/// struct Retryable {
///     #[prost(bool, tag = "1")]
///     pub yes: bool,
/// }
/// impl Detail for Retryable {
///     const TYPE_URL: &'static str = "type.googleapis.com/acme.v1.Retryable";
/// }
///
/// let any = Any::pack(&Retryable { yes: true });
/// assert_eq!(any.unpack::<Retryable>(), Some(Ok(Retryable { yes: true })));
/// ```
pub trait Detail: Message + Default {
    /// `type.googleapis.com/` and the message's full name.
    const TYPE_URL: &'static str;
}

macro_rules! details {
    ($($name:ident),*) => {$(
        impl Detail for $name {
            const TYPE_URL: &'static str = concat!("type.googleapis.com/google.rpc.", stringify!($name));
        }

        impl From<$name> for Any {
            fn from(detail: $name) -> Any {
                Any::pack(&detail)
            }
        }
    )*};
}
details!(
    ErrorInfo,
    RetryInfo,
    DebugInfo,
    QuotaFailure,
    PreconditionFailure,
    BadRequest,
    RequestInfo,
    ResourceInfo,
    Help,
    LocalizedMessage
);

impl Any {
    /// `detail`, serialized, with its type URL.
    pub fn pack<D: Detail>(detail: &D) -> Any {
        Any { type_url: D::TYPE_URL.to_owned(), value: detail.encode_to_vec() }
    }

    /// The message inside, if it is a `D` (by type URL, whatever comes before the last `/`);
    /// `Some(Err(..))` if it claims to be one but does not decode.
    pub fn unpack<D: Detail>(&self) -> Option<Result<D, prost::DecodeError>> {
        let name = |url: &str| url.rsplit_once('/').map_or("", |(_, name)| name).to_owned();
        (name(&self.type_url) == name(D::TYPE_URL)).then(|| D::decode(self.value.as_slice()))
    }
}

impl Status {
    /// A status with `details` packed in a `google.rpc.Status` (with the same code and
    /// message, as readers check), sent as `grpc-status-details-bin`. Each detail is an
    /// [`Any`]: the standard ones convert with `.into()`, others with [`Any::pack`].
    ///
    /// ```
    /// use h2grpc::status::details::{ErrorInfo, RpcStatus};
    /// use h2grpc::{Code, Status};
    /// use prost::Message;
    ///
    /// let info = ErrorInfo { reason: "STOCKOUT".into(), domain: "shop.example".into(), ..Default::default() };
    /// let status = Status::with_error_details(Code::ResourceExhausted, "out of stock", [info.into()]);
    /// let sent = RpcStatus::decode(status.details().clone())?;
    /// assert_eq!((sent.code, sent.message.as_str()), (8, "out of stock"));
    /// assert_eq!(sent.details[0].type_url, "type.googleapis.com/google.rpc.ErrorInfo");
    /// # Ok::<(), prost::DecodeError>(())
    /// ```
    pub fn with_error_details(
        code: Code,
        message: impl Into<String>,
        details: impl IntoIterator<Item = Any>,
    ) -> Status {
        let message = message.into();
        let details = details.into_iter().collect();
        let rpc = RpcStatus { code: code as i32, message: message.clone(), details };
        Status::with_details(code, message, Bytes::from(rpc.encode_to_vec()))
    }

    /// The details of the `google.rpc.Status` this status carries, in order: empty if it
    /// carries none, an error if `grpc-status-details-bin` is not a `google.rpc.Status`.
    ///
    /// ```
    /// use h2grpc::status::details::{DebugInfo, Detail, RequestInfo};
    /// use h2grpc::{Code, Status};
    ///
    /// let request = RequestInfo { request_id: "r-1".into(), serving_data: String::new() };
    /// let status = Status::with_error_details(Code::Internal, "oops", [request.into()]);
    /// let details = status.error_details()?;
    /// assert_eq!(details[0].type_url, RequestInfo::TYPE_URL);
    /// assert_eq!(details[0].unpack::<DebugInfo>(), None); // another type
    /// assert!(Status::internal("plain").error_details()?.is_empty());
    /// # Ok::<(), prost::DecodeError>(())
    /// ```
    pub fn error_details(&self) -> Result<Vec<Any>, prost::DecodeError> {
        if self.details().is_empty() {
            return Ok(Vec::new());
        }
        Ok(RpcStatus::decode(self.details().clone())?.details)
    }

    /// The first detail of type `D` (`status.detail::<ErrorInfo>()`), if the status carries
    /// one that decodes. Details of other types, and undecodable ones, are skipped.
    ///
    /// ```
    /// use h2grpc::status::details::{ErrorInfo, Help};
    /// use h2grpc::{Code, Status};
    ///
    /// let info = ErrorInfo { reason: "API_DISABLED".into(), ..Default::default() };
    /// let status = Status::with_error_details(Code::PermissionDenied, "disabled", [info.into()]);
    /// assert_eq!(status.detail::<ErrorInfo>().map(|i| i.reason), Some("API_DISABLED".into()));
    /// assert_eq!(status.detail::<Help>(), None);
    /// ```
    pub fn detail<D: Detail>(&self) -> Option<D> {
        let details = self.error_details().ok()?;
        details.iter().find_map(|any| any.unpack::<D>()?.ok())
    }

    /// How long the server asks the client to wait before retrying ([`RetryInfo`]), if it
    /// says; a negative or out-of-range delay counts as none.
    ///
    /// ```
    /// use std::time::Duration;
    /// use h2grpc::status::details::RetryInfo;
    /// use h2grpc::{Code, Status};
    ///
    /// let retry = RetryInfo { retry_delay: Some(Duration::from_millis(250).into()) };
    /// let status = Status::with_error_details(Code::Unavailable, "busy", [retry.into()]);
    /// assert_eq!(status.retry_delay(), Some(Duration::from_millis(250)));
    /// assert_eq!(Status::unavailable("busy").retry_delay(), None);
    /// ```
    pub fn retry_delay(&self) -> Option<std::time::Duration> {
        let delay = self.detail::<RetryInfo>()?.retry_delay?;
        let seconds = u64::try_from(delay.seconds).ok()?;
        let nanos = u32::try_from(delay.nanos).ok().filter(|n| *n < 1_000_000_000)?;
        Some(std::time::Duration::new(seconds, nanos))
    }
}

impl From<std::time::Duration> for Duration {
    /// Saturates at `i64::MAX` seconds.
    fn from(d: std::time::Duration) -> Duration {
        let seconds = i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
        Duration { seconds, nanos: d.subsec_nanos() as i32 }
    }
}

#[cfg(test)]
mod tests;
