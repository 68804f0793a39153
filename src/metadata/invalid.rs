//! [`InvalidMetadata`]: why a key or value was refused.

use std::fmt;

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
        match self.kind {
            Kind::BadKey => write!(f, "invalid metadata key {key:?}")?,
            Kind::Reserved => write!(f, "metadata key {key:?} is reserved for grpc and http/2")?,
            Kind::BinKeyForText => write!(f, "metadata key {key:?} ends in \"-bin\"")?,
            Kind::TextKeyForBin => {
                write!(f, "binary metadata key {key:?} does not end in \"-bin\"")?
            }
            Kind::BadByte(b) => {
                write!(f, "metadata value for key {key:?} contains byte 0x{b:02x}")?
            }
            Kind::EdgeSpace => {
                write!(f, "metadata value for key {key:?} starts or ends with a space")?
            }
            Kind::BadBase64 => write!(f, "binary metadata value for key {key:?} is not base64")?,
            Kind::Full => write!(f, "metadata key {key:?} not added: the header map is full")?,
        }
        write!(f, ": {}", self.kind.advice())
    }
}

impl Kind {
    /// What the caller (or the sender) should do instead.
    fn advice(self) -> &'static str {
        match self {
            Kind::BadKey => "use only lowercase a-z, 0-9, '_', '-' and '.'",
            Kind::Reserved => "pick another key",
            Kind::BinKeyForText => "use insert_bin or append_bin for binary values",
            Kind::TextKeyForBin => "rename it, or use insert for text",
            Kind::BadByte(_) => {
                "text allows only printable ascii 0x20..=0x7e; send bytes under a \"-bin\" key"
            }
            Kind::EdgeSpace => "trim it, peers may strip or reject it",
            Kind::BadBase64 => "the sender must use rfc 4648 base64, padded or not",
            Kind::Full => "send fewer distinct keys",
        }
    }
}

impl std::error::Error for InvalidMetadata {}
