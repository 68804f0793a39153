//! What the call-level trace reports, and how each event prints.
//!
//! ```text
//! Event { side: Client, stream_id: 1, direction: Send, payload: Message { .. } }
//!     -->
//! client → stream 1: MESSAGE flag 0, length 7: 0a 05 77 6f 72 6c 64
//!     HelloRequest { name: "world" }
//! ```

use std::fmt;

use http::{HeaderMap, HeaderValue};

use super::{Direction, Side};
use crate::status::Status;

/// How many bytes of a message body an event shows in hex.
pub(crate) const HEX_HEAD: usize = 16;

/// One thing a call sent or received: a header block, a message, trailers, a reset, a GOAWAY.
///
/// Borrowed from the call for the time of [`TraceSink::event`](super::TraceSink::event):
/// print it, or copy what you need.
#[derive(Debug)]
#[non_exhaustive]
pub struct Event<'a> {
    /// The side that saw it.
    pub side: Side,
    /// The HTTP/2 stream (odd numbers, opened by the client); 0 for the connection itself.
    pub stream_id: u32,
    /// Sent or received by `side`.
    pub direction: Direction,
    /// What it was.
    pub payload: Payload<'a>,
}

impl Event<'_> {
    /// The kind of payload, without its data.
    pub fn kind(&self) -> Kind {
        self.payload.kind()
    }
}

/// What an [`Event`] carries.
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub enum Payload<'a> {
    /// Request-Headers: the pseudo-headers (from `method` and `uri`) and the header fields,
    /// in the order `h2` puts them in the HEADERS frame.
    RequestHeaders {
        /// `:method`.
        method: &'a http::Method,
        /// `:scheme`, `:authority` and `:path`.
        uri: &'a http::Uri,
        /// The other fields.
        headers: &'a HeaderMap,
    },
    /// Response-Headers; with `end_stream`, a Trailers-Only response (the status is in them).
    ResponseHeaders {
        /// `:status`.
        status: http::StatusCode,
        /// The other fields.
        headers: &'a HeaderMap,
        /// The HEADERS frame ends the stream: Trailers-Only.
        end_stream: bool,
    },
    /// One Length-Prefixed-Message.
    Message {
        /// The Compressed-Flag.
        compressed: bool,
        /// The message body, without its 5-byte prefix.
        body: &'a [u8],
        /// The message as the typed call sees it, when there is one.
        decoded: Option<&'a dyn fmt::Debug>,
    },
    /// Trailers: the status fields and trailing metadata.
    Trailers {
        /// The fields.
        headers: &'a HeaderMap,
    },
    /// RST_STREAM: the stream ends abruptly.
    Reset {
        /// Its error code.
        reason: h2::Reason,
    },
    /// GOAWAY: the connection stops taking streams (`stream_id` is 0).
    GoAway {
        /// Its error code.
        reason: h2::Reason,
    },
    /// The connection's TLS handshake finished (feature `tls`; `stream_id` is 0): protocol
    /// version, cipher suite, ALPN, SNI, and the peer certificate's first name if it sent one.
    Tls {
        /// `TLSv1_3, TLS13_AES_256_GCM_SHA384, ALPN h2, SNI localhost`.
        summary: &'a str,
    },
    /// A server refused a connection in or right after its TLS handshake, and why.
    TlsFailed {
        /// Who and why, in words.
        reason: &'a str,
    },
}

/// The kinds of [`Payload`], for filtering.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Kind {
    /// [`Payload::RequestHeaders`].
    RequestHeaders,
    /// [`Payload::ResponseHeaders`] without `end_stream`.
    ResponseHeaders,
    /// [`Payload::ResponseHeaders`] with `end_stream`.
    TrailersOnly,
    /// [`Payload::Message`].
    Message,
    /// [`Payload::Trailers`].
    Trailers,
    /// [`Payload::Reset`].
    Reset,
    /// [`Payload::GoAway`].
    GoAway,
    /// [`Payload::Tls`].
    Tls,
    /// [`Payload::TlsFailed`].
    TlsFailed,
}

impl Payload<'_> {
    /// The kind of payload.
    pub fn kind(&self) -> Kind {
        match self {
            Payload::RequestHeaders { .. } => Kind::RequestHeaders,
            Payload::ResponseHeaders { end_stream: false, .. } => Kind::ResponseHeaders,
            Payload::ResponseHeaders { end_stream: true, .. } => Kind::TrailersOnly,
            Payload::Message { .. } => Kind::Message,
            Payload::Trailers { .. } => Kind::Trailers,
            Payload::Reset { .. } => Kind::Reset,
            Payload::GoAway { .. } => Kind::GoAway,
            Payload::Tls { .. } => Kind::Tls,
            Payload::TlsFailed { .. } => Kind::TlsFailed,
        }
    }
}

impl fmt::Display for Event<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.stream_id == 0 {
            write!(f, "{} {} connection: {}", self.side, self.direction, self.payload)
        } else {
            write!(
                f,
                "{} {} stream {}: {}",
                self.side, self.direction, self.stream_id, self.payload
            )
        }
    }
}

/// The first line names the payload; detail lines follow, indented by four spaces.
impl fmt::Display for Payload<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Payload::RequestHeaders { method, uri, headers } => {
                f.write_str("HEADERS (request)")?;
                write!(f, "\n    :method: {method}")?;
                if let Some(scheme) = uri.scheme_str() {
                    write!(f, "\n    :scheme: {scheme}")?;
                }
                if let Some(authority) = uri.authority() {
                    write!(f, "\n    :authority: {authority}")?;
                }
                if let Some(path) = uri.path_and_query() {
                    write!(f, "\n    :path: {path}")?;
                }
                fields(f, headers)
            }
            Payload::ResponseHeaders { status, headers, end_stream } => {
                f.write_str(if end_stream {
                    "HEADERS (Trailers-Only)"
                } else {
                    "HEADERS (response)"
                })?;
                write!(f, "\n    :status: {}", status.as_u16())?;
                fields(f, headers)?;
                if end_stream {
                    status_line(f, headers)?;
                }
                Ok(())
            }
            Payload::Message { compressed, body, decoded } => {
                write!(f, "MESSAGE flag {}, length {}", u8::from(compressed), body.len())?;
                if !body.is_empty() {
                    f.write_str(": ")?;
                    hex_head(f, body, HEX_HEAD)?;
                }
                if let Some(decoded) = decoded {
                    write!(f, "\n    {decoded:?}")?;
                }
                Ok(())
            }
            Payload::Trailers { headers } => {
                f.write_str("TRAILERS")?;
                fields(f, headers)?;
                status_line(f, headers)
            }
            Payload::Reset { reason } => write!(f, "RST_STREAM {}", reason_name(reason)),
            Payload::GoAway { reason } => write!(f, "GOAWAY {}", reason_name(reason)),
            Payload::Tls { summary } => write!(f, "TLS {summary}"),
            Payload::TlsFailed { reason } => write!(f, "TLS handshake failed: {reason}"),
        }
    }
}

/// `CANCEL (0x8)`.
fn reason_name(reason: h2::Reason) -> String {
    let code = u32::from(reason);
    format!("{} (0x{code:x})", super::error_code_name(code))
}

fn fields(f: &mut fmt::Formatter<'_>, headers: &HeaderMap) -> fmt::Result {
    for (name, value) in headers {
        write!(f, "\n    {name}: ")?;
        value_text(f, value)?;
    }
    Ok(())
}

/// `= NOT_FOUND (5): "no such user"`: the status the fields carry, message percent-decoded.
fn status_line(f: &mut fmt::Formatter<'_>, headers: &HeaderMap) -> fmt::Result {
    match Status::from_headers(headers) {
        Some(status) => {
            let code = status.code();
            write!(f, "\n    = {} ({})", code.name(), code as i32)?;
            if !status.message().is_empty() {
                write!(f, ": {:?}", status.message())?;
            }
            Ok(())
        }
        None => f.write_str("\n    = no grpc-status"),
    }
}

/// A header value as text; bytes outside printable ASCII as `\xNN`.
pub(crate) fn value_text(f: &mut fmt::Formatter<'_>, value: &HeaderValue) -> fmt::Result {
    for &b in value.as_bytes() {
        if (0x20..0x7f).contains(&b) {
            fmt::Write::write_char(f, char::from(b))?;
        } else {
            write!(f, "\\x{b:02x}")?;
        }
    }
    Ok(())
}

/// The first `max` bytes in lowercase hex, space-separated; `…` if there are more.
pub(crate) fn hex_head(f: &mut fmt::Formatter<'_>, bytes: &[u8], max: usize) -> fmt::Result {
    for (i, b) in bytes.iter().take(max).enumerate() {
        if i > 0 {
            f.write_str(" ")?;
        }
        write!(f, "{b:02x}")?;
    }
    if bytes.len() > max {
        f.write_str(" …")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(payload: Payload<'_>) -> String {
        Event { side: Side::Client, stream_id: 3, direction: Direction::Send, payload }.to_string()
    }

    #[test]
    fn a_message_shows_flag_length_the_first_16_bytes_and_the_decoded_value() {
        let body: Vec<u8> = (0..20).collect();
        let decoded = vec![1, 2];
        let text =
            event(Payload::Message { compressed: false, body: &body, decoded: Some(&decoded) });
        assert_eq!(
            text,
            "client → stream 3: MESSAGE flag 0, length 20: \
             00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f …\n    [1, 2]"
        );
        let empty = event(Payload::Message { compressed: false, body: &[], decoded: None });
        assert_eq!(empty, "client → stream 3: MESSAGE flag 0, length 0");
    }

    #[test]
    fn request_headers_print_pseudo_headers_first_in_h2_order() {
        let uri: http::Uri = "http://localhost/pkg.Svc/M".parse().unwrap();
        let mut headers = HeaderMap::new();
        headers.insert("te", HeaderValue::from_static("trailers"));
        headers.insert("x-bin", HeaderValue::from_bytes(b"a\xffb").unwrap());
        let text = event(Payload::RequestHeaders {
            method: &http::Method::POST,
            uri: &uri,
            headers: &headers,
        });
        assert_eq!(
            text,
            "client → stream 3: HEADERS (request)\n    :method: POST\n    :scheme: http\n    \
             :authority: localhost\n    :path: /pkg.Svc/M\n    te: trailers\n    x-bin: a\\xffb"
        );
    }

    #[test]
    fn trailers_show_the_decoded_status_with_the_message_percent_decoded() {
        let mut headers = HeaderMap::new();
        Status::not_found("no user\n42%").add_to_headers(&mut headers);
        let text = Event {
            side: Side::Server,
            stream_id: 1,
            direction: Direction::Recv,
            payload: Payload::Trailers { headers: &headers },
        }
        .to_string();
        assert_eq!(
            text,
            "server ← stream 1: TRAILERS\n    grpc-status: 5\n    grpc-message: no user%0A42%25\n    \
             = NOT_FOUND (5): \"no user\\n42%\""
        );
    }

    #[test]
    fn trailers_only_is_labelled_and_carries_its_status() {
        let mut headers = HeaderMap::new();
        headers.insert("content-type", HeaderValue::from_static("application/grpc"));
        Status::unimplemented("nope").add_to_headers(&mut headers);
        let payload = Payload::ResponseHeaders {
            status: http::StatusCode::OK,
            headers: &headers,
            end_stream: true,
        };
        assert_eq!(payload.kind(), Kind::TrailersOnly);
        let text = event(payload);
        assert!(text.starts_with("client → stream 3: HEADERS (Trailers-Only)\n    :status: 200\n"));
        assert!(text.ends_with("\n    = UNIMPLEMENTED (12): \"nope\""), "{text}");
    }

    #[test]
    fn resets_and_goaways_name_their_code() {
        assert_eq!(
            event(Payload::Reset { reason: h2::Reason::CANCEL }),
            "client → stream 3: RST_STREAM CANCEL (0x8)"
        );
        let goaway = Event {
            side: Side::Server,
            stream_id: 0,
            direction: Direction::Send,
            payload: Payload::GoAway { reason: h2::Reason::NO_ERROR },
        };
        assert_eq!(goaway.to_string(), "server → connection: GOAWAY NO_ERROR (0x0)");
    }
}
