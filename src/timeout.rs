//! The `grpc-timeout` request header: parse it on the server, encode it on the client.
//!
//! A client tells the server how long it is willing to wait by sending the time *remaining*
//! when the stream is created (not the timeout it was configured with) in one request header.
//!
//! # Grammar
//!
//! From [PROTOCOL-HTTP2.md], "Requests":
//!
//! ```text
//! grpc-timeout = TimeoutValue TimeoutUnit
//! TimeoutValue = 1*8DIGIT          ; ASCII '0'..='9', at most 8 digits
//! TimeoutUnit  = "H" / "M" / "S" / "m" / "u" / "n"
//!                ; Hour, Minute, Second, millisecond, microsecond, nanosecond
//! ```
//!
//! The unit is a single case-sensitive byte: `M` is minutes, `m` is milliseconds. There is no
//! sign, no space, no decimal point, and no second unit.
//!
//! ```text
//! INPUT            --> DECODED
//! "1S"                 1 second
//! "100m"               100 milliseconds
//! "1000000n"           1 millisecond
//! "250u"               250 microseconds
//! "5M"                 5 minutes
//! "99999999H"          99,999,999 hours (about 11,400 years; the largest value)
//! "007S"               7 seconds (leading zeros count towards the 8 digits)
//! "0n"                 zero: accepted, the deadline has already passed
//! "123456789S"         error: 9 digits
//! "", "S", "10"        error: no digits, or no unit
//! "1s", "1 S", " 1S"   error: unknown unit `s`, spaces
//! "+1S", "-1S", "1.5S" error: sign, decimal point
//! ```
//!
//! ## Zero
//!
//! The spec calls the value a "positive integer", but peers do send `0n` (grpc-go's encoder
//! writes `0n` for any non-positive timeout). [`parse_grpc_timeout`] accepts a zero value and
//! returns [`Duration::ZERO`]; a server treats it as a deadline that has already expired and
//! answers `DEADLINE_EXCEEDED` without running the handler.
//!
//! ## Malformed values
//!
//! grpc-go rejects a malformed `grpc-timeout` with `INTERNAL` ("malformed grpc-timeout: ..."),
//! and so does this crate: see [`InvalidTimeout`] and its conversion into
//! [`Status`]. (Older C-core ignored bad values and tolerated surrounding spaces;
//! we follow grpc-go and stay strict.)
//!
//! # Encoding
//!
//! [`encode_grpc_timeout`] follows grpc-go (`encodeTimeout`): try `n`, `u`, `m`, `S`, `M` in that
//! order and use the first unit whose value, **rounded up**, fits in 8 digits (≤ 99,999,999).
//! Otherwise use hours, rounded up and clamped to `99999999H`. Rounding up means the server
//! never sees a shorter timeout than the client has left, and the finest unit that fits keeps
//! the error below one unit of the chosen encoding.
//!
//! ```text
//! DURATION                 --> ENCODED
//! 0                            "0n"
//! 99,999,999 ns                "99999999n"
//! 100,000,000 ns               "100000u"   (9 digits in ns: move to µs)
//! 100,000,001 ns               "100001u"   (rounded up)
//! 1 s                          "1000000u"
//! 100 s                        "100000m"
//! 100,000,000 s                "1666667M"
//! Duration::MAX                "99999999H" (clamped)
//! ```
//!
//! [PROTOCOL-HTTP2.md]: https://github.com/grpc/grpc/blob/master/doc/PROTOCOL-HTTP2.md
//! [`Status`]: crate::status::Status
use std::fmt;
use std::time::Duration;

/// The most digits a `grpc-timeout` value may have (the spec's `1*8DIGIT`).
///
/// So the largest value is `99999999`, and the longest header value is 9 bytes.
///
/// ```
/// use h2grpc::timeout::{parse_grpc_timeout, MAX_DIGITS};
/// let eight = "9".repeat(MAX_DIGITS) + "S";
/// let nine = "9".repeat(MAX_DIGITS + 1) + "S";
/// assert!(parse_grpc_timeout(eight.as_bytes()).is_ok());
/// assert!(parse_grpc_timeout(nine.as_bytes()).is_err());
/// ```
pub const MAX_DIGITS: usize = 8;

/// The largest `TimeoutValue`: `MAX_DIGITS` nines, 99,999,999.
const MAX_VALUE: u64 = 10u64.pow(MAX_DIGITS as u32) - 1;

/// How many characters of an offending value [`InvalidTimeout`] keeps.
const SHOWN_CHARS: usize = 32;

/// The units from finest to coarsest, with their length in nanoseconds. The encoder walks
/// this table in order (grpc-go's order); the parser looks the unit byte up in it.
const UNITS: [(u8, u128); 6] = [
    (b'n', 1),
    (b'u', 1_000),
    (b'm', 1_000_000),
    (b'S', 1_000_000_000),
    (b'M', 60 * 1_000_000_000),
    (b'H', 3_600 * 1_000_000_000),
];

/// Parses a `grpc-timeout` header value: 1 to [`MAX_DIGITS`] ASCII digits, then one unit byte
/// out of `H M S m u n`.
///
/// Anything else is an error: empty input, no digits, more than 8 digits, an unknown unit, a
/// sign, spaces, or non-ASCII bytes. A zero value (`0n`, `0S`, ...) is accepted and returns
/// [`Duration::ZERO`] (see the [module docs](self#zero)). Never panics; even `99999999H` fits
/// in a [`Duration`].
///
/// ```
/// use std::time::Duration;
/// use h2grpc::timeout::parse_grpc_timeout;
///
/// assert_eq!(parse_grpc_timeout(b"1S")?, Duration::from_secs(1));
/// assert_eq!(parse_grpc_timeout(b"100m")?, Duration::from_millis(100));
/// assert_eq!(parse_grpc_timeout(b"1000000n")?, Duration::from_millis(1));
/// assert_eq!(parse_grpc_timeout(b"0n")?, Duration::ZERO);
/// assert!(parse_grpc_timeout(b"1s").is_err());
/// assert!(parse_grpc_timeout(b"123456789S").is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn parse_grpc_timeout(value: &[u8]) -> Result<Duration, InvalidTimeout> {
    parse(value).ok_or_else(|| InvalidTimeout::new(value))
}

fn parse(value: &[u8]) -> Option<Duration> {
    let (&unit, digits) = value.split_last()?;
    if digits.is_empty() || digits.len() > MAX_DIGITS {
        return None;
    }
    let count = digits.iter().try_fold(0u64, |acc, &b| {
        let digit = b.checked_sub(b'0').filter(|d| *d <= 9)?;
        acc.checked_mul(10)?.checked_add(u64::from(digit))
    })?;
    let (_, unit_nanos) = UNITS.iter().find(|(name, _)| *name == unit)?;
    let nanos = u128::from(count).checked_mul(*unit_nanos)?;
    // At most 99_999_999 h, about 3.6e20 ns: far inside Duration's range, checked anyway.
    let secs = u64::try_from(nanos / 1_000_000_000).ok()?;
    let subsec = u32::try_from(nanos % 1_000_000_000).ok()?;
    Some(Duration::new(secs, subsec))
}

/// Encodes a timeout as a `grpc-timeout` header value, the way grpc-go does.
///
/// Tries the units `n`, `u`, `m`, `S`, `M` in that order and uses the first one whose value,
/// rounded up, is at most 99,999,999; otherwise hours, rounded up and clamped to `99999999H`.
/// The result therefore parses back to at least `timeout` (unless clamped) and exceeds it by
/// less than one unit of the chosen encoding. Never panics, for any [`Duration`].
///
/// A caller whose deadline has already passed should fail locally with `DEADLINE_EXCEEDED`
/// instead of sending `0n`.
///
/// ```
/// use std::time::Duration;
/// use h2grpc::timeout::{encode_grpc_timeout, parse_grpc_timeout};
///
/// assert_eq!(encode_grpc_timeout(Duration::from_nanos(99_999_999)), "99999999n");
/// assert_eq!(encode_grpc_timeout(Duration::from_nanos(100_000_001)), "100001u");
/// assert_eq!(encode_grpc_timeout(Duration::from_secs(1)), "1000000u");
/// assert_eq!(encode_grpc_timeout(Duration::from_secs(100)), "100000m");
/// assert_eq!(encode_grpc_timeout(Duration::ZERO), "0n");
/// assert_eq!(encode_grpc_timeout(Duration::MAX), "99999999H");
///
/// let d = Duration::new(12, 345);
/// assert!(parse_grpc_timeout(encode_grpc_timeout(d).as_bytes())? >= d);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn encode_grpc_timeout(timeout: Duration) -> String {
    // Duration::MAX is about 1.8e28 ns; u128 holds 3.4e38, so as_nanos cannot overflow.
    let nanos = timeout.as_nanos();
    for (unit, unit_nanos) in UNITS {
        let count = nanos.div_ceil(unit_nanos);
        if count <= u128::from(MAX_VALUE) {
            return format!("{count}{}", char::from(unit));
        }
    }
    format!("{MAX_VALUE}H")
}

/// A `grpc-timeout` value that does not match the grammar (see the [module docs](self)).
///
/// Keeps the offending value for the error message: converted to text lossily (invalid UTF-8
/// becomes `U+FFFD`) and cut to its first 32 characters, followed by `...` when cut.
///
/// Converts into a [`Status`] with code [`INTERNAL`](crate::Code::Internal), as grpc-go
/// answers a malformed `grpc-timeout`.
///
/// [`Status`]: crate::status::Status
///
/// ```
/// use h2grpc::timeout::parse_grpc_timeout;
///
/// let err = parse_grpc_timeout(b"10 s").unwrap_err();
/// assert_eq!(err.value(), "10 s");
/// assert_eq!(
///     err.to_string(),
///     r#"malformed grpc-timeout: "10 s" (expected 1-8 digits followed by one of H M S m u n)"#,
/// );
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvalidTimeout {
    value: String,
}

impl InvalidTimeout {
    fn new(value: &[u8]) -> InvalidTimeout {
        let text = String::from_utf8_lossy(value);
        let mut value: String = text.chars().take(SHOWN_CHARS).collect();
        if text.chars().nth(SHOWN_CHARS).is_some() {
            value.push_str("...");
        }
        InvalidTimeout { value }
    }

    /// The offending value as text: lossy, and cut to 32 characters plus `...` when longer.
    ///
    /// ```
    /// use h2grpc::timeout::parse_grpc_timeout;
    ///
    /// let err = parse_grpc_timeout(b"1\xffS").unwrap_err();
    /// assert_eq!(err.value(), "1\u{fffd}S");
    ///
    /// let long = "1".repeat(100) + "S";
    /// let err = parse_grpc_timeout(long.as_bytes()).unwrap_err();
    /// assert_eq!(err.value(), "1".repeat(32) + "...");
    /// ```
    pub fn value(&self) -> &str {
        &self.value
    }
}

impl fmt::Display for InvalidTimeout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let value = &self.value;
        write!(
            f,
            "malformed grpc-timeout: {value:?} (expected 1-8 digits followed by one of H M S m u n)"
        )
    }
}

impl std::error::Error for InvalidTimeout {}

#[cfg(test)]
mod tests;
