//! Call outcomes: [`Code`] and [`Status`].
//!
//! Every gRPC call ends with a status: a [`Code`] (one of the 17 the spec numbers), a
//! human-readable message, optional binary details (a serialized `google.rpc.Status`) and
//! trailing metadata. How a status travels as trailers lives in [`trailers`]; how HTTP and
//! HTTP/2 failures map to codes when no status arrived lives in [`mapping`].

#[cfg(feature = "error-details")]
pub mod details;
pub mod mapping;
pub mod trailers;
mod wire_errors;

use std::fmt;

use bytes::Bytes;

use crate::metadata::Metadata;

/// A gRPC status code, numbered exactly as the specification (`doc/statuscodes.md`).
///
/// ```
/// use h2grpc::Code;
/// assert_eq!(Code::Unimplemented as i32, 12);
/// assert_eq!(Code::from_i32(4), Code::DeadlineExceeded);
/// assert_eq!(Code::from_i32(99), Code::Unknown);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(i32)]
pub enum Code {
    /// Not an error; returned on success.
    Ok = 0,
    /// The operation was cancelled, typically by the caller.
    Cancelled = 1,
    /// Unknown error.
    Unknown = 2,
    /// The client specified an invalid argument.
    InvalidArgument = 3,
    /// The deadline expired before the operation could complete.
    DeadlineExceeded = 4,
    /// Some requested entity was not found.
    NotFound = 5,
    /// The entity that a client attempted to create already exists.
    AlreadyExists = 6,
    /// The caller does not have permission to execute the operation.
    PermissionDenied = 7,
    /// Some resource has been exhausted (a message size limit, a quota).
    ResourceExhausted = 8,
    /// The system is not in a state required for the operation's execution.
    FailedPrecondition = 9,
    /// The operation was aborted.
    Aborted = 10,
    /// The operation was attempted past the valid range.
    OutOfRange = 11,
    /// The operation is not implemented or not supported by this service.
    Unimplemented = 12,
    /// An internal invariant was broken (also: malformed data on the wire).
    Internal = 13,
    /// The service is currently unavailable; retrying may help.
    Unavailable = 14,
    /// Unrecoverable data loss or corruption.
    DataLoss = 15,
    /// The request does not have valid authentication credentials.
    Unauthenticated = 16,
}

impl Code {
    /// All 17 codes, in numeric order.
    pub const ALL: [Code; 17] = [
        Code::Ok,
        Code::Cancelled,
        Code::Unknown,
        Code::InvalidArgument,
        Code::DeadlineExceeded,
        Code::NotFound,
        Code::AlreadyExists,
        Code::PermissionDenied,
        Code::ResourceExhausted,
        Code::FailedPrecondition,
        Code::Aborted,
        Code::OutOfRange,
        Code::Unimplemented,
        Code::Internal,
        Code::Unavailable,
        Code::DataLoss,
        Code::Unauthenticated,
    ];

    /// The `grpc-status` value: the code's decimal number, from a static table (building it
    /// from the integer formats and allocates, once per call).
    pub(crate) fn header_value(self) -> http::HeaderValue {
        const DECIMAL: [&str; 17] = [
            "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14", "15",
            "16",
        ];
        http::HeaderValue::from_static(DECIMAL[self as usize])
    }

    /// The code numbered `value`, or [`Code::Unknown`] for a number outside 0..=16.
    ///
    /// ```
    /// assert_eq!(h2grpc::Code::from_i32(0), h2grpc::Code::Ok);
    /// ```
    pub fn from_i32(value: i32) -> Code {
        usize::try_from(value).ok().and_then(|i| Code::ALL.get(i).copied()).unwrap_or(Code::Unknown)
    }

    /// The spec's name of the code, e.g. `"DEADLINE_EXCEEDED"`.
    ///
    /// ```
    /// assert_eq!(h2grpc::Code::NotFound.name(), "NOT_FOUND");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            Code::Ok => "OK",
            Code::Cancelled => "CANCELLED",
            Code::Unknown => "UNKNOWN",
            Code::InvalidArgument => "INVALID_ARGUMENT",
            Code::DeadlineExceeded => "DEADLINE_EXCEEDED",
            Code::NotFound => "NOT_FOUND",
            Code::AlreadyExists => "ALREADY_EXISTS",
            Code::PermissionDenied => "PERMISSION_DENIED",
            Code::ResourceExhausted => "RESOURCE_EXHAUSTED",
            Code::FailedPrecondition => "FAILED_PRECONDITION",
            Code::Aborted => "ABORTED",
            Code::OutOfRange => "OUT_OF_RANGE",
            Code::Unimplemented => "UNIMPLEMENTED",
            Code::Internal => "INTERNAL",
            Code::Unavailable => "UNAVAILABLE",
            Code::DataLoss => "DATA_LOSS",
            Code::Unauthenticated => "UNAUTHENTICATED",
        }
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The outcome of a gRPC call: a [`Code`], a message, binary details and trailing metadata.
///
/// A `Status` is one pointer wide (the fields live in a box), so `Result<T, Status>` stays small.
///
/// ```
/// use h2grpc::{Code, Status};
/// let status = Status::not_found("no user 42");
/// assert_eq!(status.code(), Code::NotFound);
/// assert_eq!(status.message(), "no user 42");
/// assert_eq!(status.to_string(), "NOT_FOUND: no user 42");
/// ```
#[derive(Clone, PartialEq)]
pub struct Status(Box<Inner>);

#[derive(Clone, PartialEq)]
struct Inner {
    code: Code,
    message: String,
    details: Bytes,
    metadata: Metadata,
}

macro_rules! constructors {
    ($($(#[$doc:meta])* $name:ident => $code:ident,)*) => {
        $(
            $(#[$doc])*
            pub fn $name(message: impl Into<String>) -> Status {
                Status::new(Code::$code, message)
            }
        )*
    };
}

impl Status {
    /// A status with `code` and `message`, no details and no metadata.
    ///
    /// ```
    /// let s = h2grpc::Status::new(h2grpc::Code::Aborted, "try again");
    /// assert_eq!(s.code(), h2grpc::Code::Aborted);
    /// ```
    pub fn new(code: Code, message: impl Into<String>) -> Status {
        Status(Box::new(Inner {
            code,
            message: message.into(),
            details: Bytes::new(),
            metadata: Metadata::new(),
        }))
    }

    /// A status carrying `details`: the bytes of a serialized `google.rpc.Status`, sent as
    /// `grpc-status-details-bin`.
    ///
    /// ```
    /// use h2grpc::{Code, Status};
    /// let s = Status::with_details(Code::InvalidArgument, "bad field", vec![8, 3]);
    /// assert_eq!(&s.details()[..], &[8, 3]);
    /// ```
    pub fn with_details(
        code: Code,
        message: impl Into<String>,
        details: impl Into<Bytes>,
    ) -> Status {
        let mut status = Status::new(code, message);
        status.0.details = details.into();
        status
    }

    /// The OK status, with an empty message.
    pub fn ok() -> Status {
        Status::new(Code::Ok, "")
    }

    constructors! {
        /// A [`Code::Cancelled`] status.
        cancelled => Cancelled,
        /// A [`Code::Unknown`] status.
        unknown => Unknown,
        /// A [`Code::InvalidArgument`] status.
        invalid_argument => InvalidArgument,
        /// A [`Code::DeadlineExceeded`] status.
        deadline_exceeded => DeadlineExceeded,
        /// A [`Code::NotFound`] status.
        not_found => NotFound,
        /// A [`Code::AlreadyExists`] status.
        already_exists => AlreadyExists,
        /// A [`Code::PermissionDenied`] status.
        permission_denied => PermissionDenied,
        /// A [`Code::ResourceExhausted`] status.
        resource_exhausted => ResourceExhausted,
        /// A [`Code::FailedPrecondition`] status.
        failed_precondition => FailedPrecondition,
        /// A [`Code::Aborted`] status.
        aborted => Aborted,
        /// A [`Code::OutOfRange`] status.
        out_of_range => OutOfRange,
        /// A [`Code::Unimplemented`] status.
        unimplemented => Unimplemented,
        /// A [`Code::Internal`] status.
        internal => Internal,
        /// A [`Code::Unavailable`] status.
        unavailable => Unavailable,
        /// A [`Code::DataLoss`] status.
        data_loss => DataLoss,
        /// A [`Code::Unauthenticated`] status.
        unauthenticated => Unauthenticated,
    }

    /// The status code.
    pub fn code(&self) -> Code {
        self.0.code
    }

    /// The status message (already percent-decoded when it came from a peer).
    pub fn message(&self) -> &str {
        &self.0.message
    }

    /// The binary details (`grpc-status-details-bin`), empty when there are none.
    pub fn details(&self) -> &Bytes {
        &self.0.details
    }

    /// The trailing metadata that came with (or will be sent with) this status.
    pub fn metadata(&self) -> &Metadata {
        &self.0.metadata
    }

    /// Mutable access to the trailing metadata, to attach metadata to an error.
    ///
    /// ```
    /// let mut s = h2grpc::Status::unavailable("busy");
    /// s.metadata_mut().insert("retry-after-ms", "250").unwrap();
    /// assert_eq!(s.metadata().get("retry-after-ms"), Some("250"));
    /// ```
    pub fn metadata_mut(&mut self) -> &mut Metadata {
        &mut self.0.metadata
    }

    /// Replaces the trailing metadata, builder style.
    pub fn with_metadata(mut self, metadata: Metadata) -> Status {
        self.0.metadata = metadata;
        self
    }

    /// Whether the code is [`Code::Ok`].
    pub fn is_ok(&self) -> bool {
        self.0.code == Code::Ok
    }
}

impl fmt::Debug for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Status");
        d.field("code", &self.0.code).field("message", &self.0.message);
        if !self.0.details.is_empty() {
            d.field("details", &self.0.details);
        }
        if !self.0.metadata.is_empty() {
            d.field("metadata", &self.0.metadata);
        }
        d.finish()
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.message.is_empty() {
            write!(f, "{}", self.0.code)
        } else {
            write!(f, "{}: {}", self.0.code, self.0.message)
        }
    }
}

impl std::error::Error for Status {}

impl From<std::io::Error> for Status {
    /// An IO failure while a call was under way: the transport is gone, so UNAVAILABLE.
    fn from(err: std::io::Error) -> Status {
        Status::unavailable(format!("transport error: {err}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_is_one_pointer_wide() {
        assert_eq!(std::mem::size_of::<Status>(), std::mem::size_of::<usize>());
    }

    #[test]
    fn every_code_round_trips_through_its_number() {
        for (i, code) in Code::ALL.iter().enumerate() {
            assert_eq!(*code as i32, i as i32);
            assert_eq!(Code::from_i32(i as i32), *code);
        }
    }

    #[test]
    fn every_codes_grpc_status_value_is_its_decimal_number() {
        for code in Code::ALL {
            assert_eq!(code.header_value(), (code as i32).to_string().as_str());
        }
    }

    #[test]
    fn numbers_outside_the_table_become_unknown() {
        assert_eq!(Code::from_i32(-1), Code::Unknown);
        assert_eq!(Code::from_i32(17), Code::Unknown);
        assert_eq!(Code::from_i32(i32::MAX), Code::Unknown);
    }

    #[test]
    fn display_names_the_code_and_message() {
        assert_eq!(Status::internal("boom").to_string(), "INTERNAL: boom");
        assert_eq!(Status::ok().to_string(), "OK");
    }
}
