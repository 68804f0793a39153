//! [`InvalidMetadata`]: why a key or value was refused.

use std::fmt;

use crate::status::Status;

/// Why a metadata key or value was refused. The message names the key and says what to do.
///
/// ```
/// let err = h2grpc::Metadata::new().insert("grpc-x", "v").unwrap_err();
/// assert_eq!(err.key(), "grpc-x");
/// assert!(err.to_string().contains("reserved"));
/// let status: h2grpc::Status = err.into();
/// assert_eq!(status.code(), h2grpc::Code::Internal);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvalidMetadata {
    key: String,
    kind: Kind,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    BadKey,
    Reserved,
    BinKeyForText,
    TextKeyForBin,
    BadByte(u8),
    EdgeSpace,
    BadBase64,
    Full,
}

impl InvalidMetadata {
    pub(super) fn new(key: &str, kind: Kind) -> InvalidMetadata {
        InvalidMetadata { key: key.to_owned(), kind }
    }

    /// The key the error is about.
    ///
    /// ```
    /// let err = h2grpc::Metadata::new().insert("Bad", "v").unwrap_err();
    /// assert_eq!(err.key(), "Bad");
    /// ```
    pub fn key(&self) -> &str {
        &self.key
    }
}

impl fmt::Display for InvalidMetadata {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let key = &self.key;
        let advice = match self.kind {
            Kind::BadKey => {
                write!(f, "invalid metadata key {key:?}")?;
                "use only lowercase a-z, 0-9, '_', '-' and '.'"
            }
            Kind::Reserved => {
                write!(f, "metadata key {key:?} is reserved for grpc and http/2")?;
                "pick another key"
            }
            Kind::BinKeyForText => {
                write!(f, "metadata key {key:?} ends in \"-bin\"")?;
                "use insert_bin or append_bin for binary values"
            }
            Kind::TextKeyForBin => {
                write!(f, "binary metadata key {key:?} does not end in \"-bin\"")?;
                "rename it, or use insert for text"
            }
            Kind::BadByte(b) => {
                write!(f, "metadata value for key {key:?} contains byte 0x{b:02x}")?;
                "text allows only printable ascii 0x20..=0x7e; send bytes under a \"-bin\" key"
            }
            Kind::EdgeSpace => {
                write!(f, "metadata value for key {key:?} starts or ends with a space")?;
                "trim it, peers may strip or reject it"
            }
            Kind::BadBase64 => {
                write!(f, "binary metadata value for key {key:?} is not base64")?;
                "the sender must use rfc 4648 base64, padded or not"
            }
            Kind::Full => {
                write!(f, "metadata key {key:?} not added: the header map is full")?;
                "send fewer distinct keys"
            }
        };
        write!(f, ": {advice}")
    }
}

impl std::error::Error for InvalidMetadata {}

impl From<InvalidMetadata> for Status {
    /// Malformed metadata is an INTERNAL error (grpc-go: "malformed binary metadata").
    fn from(err: InvalidMetadata) -> Status {
        Status::internal(format!("malformed metadata: {err}"))
    }
}
