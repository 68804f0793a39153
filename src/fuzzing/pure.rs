//! The targets over the pure wire pieces: message framing, status trailers, `grpc-timeout`
//! and metadata. Each takes raw bytes and panics when its oracle fails.

use std::time::Duration;

use bytes::Bytes;
use http::header::{HeaderMap, HeaderName, HeaderValue};

use super::input::Cursor;
use crate::codec::{
    decode_all, encode_raw, DecodeError, Decoder, FrameHeader, RawMessage,
    DEFAULT_MAX_RECV_MESSAGE_LEN, HEADER_LEN,
};
use crate::metadata::{is_reserved, Metadata};
use crate::status::trailers::{decode_grpc_message, encode_grpc_message};
use crate::status::{Code, Status};
use crate::timeout::{encode_grpc_timeout, parse_grpc_timeout};

/// Input: `[flags] [max: u16 if asked] [n] [n chunk sizes] [drain mask] [wire bytes...]`.
///
/// The wire bytes go through a [`Decoder`] cut into the given chunk sizes (cycled; size 0
/// pushes an empty chunk), pulling messages only after the chunks the mask picks, then to
/// the end. Oracle: the messages and the outcome are those of the one-shot [`decode_all`],
/// no message exceeds the limit, and errors are final.
pub fn decode_messages(data: &[u8]) {
    let mut input = Cursor::new(data);
    let flags = input.u8();
    let compression = flags & 1 == 1;
    let max_len = match (flags >> 1) & 7 {
        0 => 0,
        1 => 1,
        2 => 16,
        3 => 255,
        4 | 5 => usize::from(input.u16()),
        _ => DEFAULT_MAX_RECV_MESSAGE_LEN,
    };
    let count = usize::from(input.u8() % 16);
    let mut sizes: Vec<usize> = input.take(count).iter().map(|&b| usize::from(b)).collect();
    let drain_mask = input.u8();
    let wire = Bytes::copy_from_slice(input.rest());
    if sizes.iter().all(|&s| s == 0) {
        sizes.push(wire.len().max(1));
    }

    let mut decoder = Decoder::with_max_len(max_len);
    decoder.set_compression_negotiated(compression);
    let mut got = Vec::new();
    let mut failed = None;
    let (mut offset, mut turn) = (0, 0);
    while offset < wire.len() {
        let size = sizes[turn % sizes.len()].min(wire.len() - offset);
        decoder.push(wire.slice(offset..offset + size));
        offset += size;
        if drain_mask & (1 << (turn % 8)) != 0 {
            drain(&mut decoder, &mut got, &mut failed);
        }
        turn += 1;
    }
    drain(&mut decoder, &mut got, &mut failed);
    let outcome = match failed {
        Some(err) => {
            assert_eq!(decoder.next(), Err(err.clone()), "errors are final");
            assert_eq!(decoder.finish(), Err(err.clone()), "finish repeats the error");
            Err(err)
        }
        None => decoder.finish(),
    };

    for m in &got {
        assert!(m.data.len() <= max_len, "a {}-byte message passed limit {max_len}", m.data.len());
        assert!(compression || !m.compressed, "flag 1 accepted without grpc-encoding");
    }
    // The messages returned are exactly the one-shot decoding of the bytes they span, and
    // encoding them again gives back those bytes.
    let consumed: usize = got.iter().map(|m| 5 + m.data.len()).sum();
    assert_eq!(decode_all(wire.slice(..consumed), max_len).as_ref(), Ok(&got));
    let mut encoded = bytes::BytesMut::new();
    for m in &got {
        encode_raw(&m.data, m.compressed, &mut encoded).expect("a decoded message encodes");
    }
    assert_eq!(&encoded[..], &wire[..consumed], "encode(decode(x)) differs from x");
    // What is left is not a whole valid message, and fails as a one-shot decode says.
    let rest = wire.slice(consumed..);
    assert!(!first_message_valid(&rest, max_len, compression), "a whole message was left");
    match &outcome {
        Ok(()) => assert!(rest.is_empty(), "bytes left over without an error"),
        Err(DecodeError::CompressedWithoutEncoding) => {
            assert!(!compression && rest.len() >= 5 && rest[0] == 1);
        }
        Err(err) => assert_eq!(decode_all(rest, max_len).as_ref(), Err(err)),
    }
    // With compression negotiated the one-shot decoder applies the same rules throughout.
    if compression {
        assert_eq!(decode_all(wire, max_len), outcome.map(|()| got));
    }
}

fn drain(decoder: &mut Decoder, got: &mut Vec<RawMessage>, failed: &mut Option<DecodeError>) {
    if failed.is_some() {
        return;
    }
    loop {
        match decoder.next() {
            Ok(Some(m)) => got.push(m),
            Ok(None) => return,
            Err(err) => return *failed = Some(err),
        }
    }
}

/// Whether `rest` starts with a complete message this decoder should have returned.
fn first_message_valid(rest: &[u8], max_len: usize, compression: bool) -> bool {
    let Some(&prefix) = rest.first_chunk::<HEADER_LEN>() else { return false };
    let Ok(FrameHeader { compressed, len }) = FrameHeader::parse(prefix) else { return false };
    let len = len as usize;
    let flag_ok = !compressed || compression;
    flag_ok && len <= max_len && rest.len() - HEADER_LEN >= len
}

/// Names a header map is built from: the selector byte picks one, or reads a name.
const STATUS_NAMES: [&str; 8] = [
    "grpc-status",
    "grpc-message",
    "grpc-status-details-bin",
    "content-type",
    "x-trace-bin",
    "x-user",
    "grpc-timeout",
    "te",
];

/// A header map from the input: up to 32 entries of `[selector] [name?] [value]`; a name or
/// value `http` refuses is skipped.
fn header_map(input: &mut Cursor<'_>, names: &[&'static str]) -> HeaderMap {
    let mut headers = HeaderMap::new();
    let entries = input.u8() % 33;
    for _ in 0..entries {
        let selector = usize::from(input.u8());
        let name = match names.get(selector) {
            Some(name) => HeaderName::from_static(name),
            None => match HeaderName::from_bytes(input.bytes8()) {
                Ok(name) => name,
                Err(_) => continue,
            },
        };
        if let Ok(value) = HeaderValue::from_bytes(input.bytes8()) {
            headers.append(name, value);
        }
    }
    headers
}

/// Input: a header map (see `header_map`), then a status: `[code] [message] [details?]
/// [metadata entries]`.
///
/// Oracle: parsing any map never panics and a parsed status renders and parses back to
/// itself; a status built through the API renders and parses back to itself.
pub fn status_trailers(data: &[u8]) {
    let mut input = Cursor::new(data);
    let headers = header_map(&mut input, &STATUS_NAMES);
    for raw in headers.get_all("grpc-message") {
        check_grpc_message(raw.as_bytes());
    }
    if let Some(status) = Status::from_headers(&headers) {
        let rendered = status.to_headers();
        assert_eq!(Status::from_headers(&rendered).as_ref(), Some(&status), "{rendered:?}");
        let _ = (status.to_string(), format!("{status:?}"));
    }

    let code = Code::from_i32(i32::from(input.u8() % 17));
    let message = String::from_utf8_lossy(input.bytes8()).into_owned();
    let details = match input.u8() % 3 {
        0 => Bytes::new(),
        // Consistent details: the same code.
        _ => Bytes::from(prost::Message::encode_to_vec(&crate::status::trailers::RpcStatus {
            code: code as i32,
            message: message.clone(),
        })),
    };
    let mut status = Status::with_details(code, message, details);
    add_metadata(&mut input, status.metadata_mut());
    let rendered = status.to_headers();
    assert_eq!(Status::from_headers(&rendered), Some(status), "{rendered:?}");
}

/// `grpc-message` decoding against a reference written from the spec's rule (`%` and two hex
/// digits is a byte, any other `%` stays): the result is that byte string with invalid UTF-8
/// replaced, so every valid UTF-8 run of it arrives intact, and encoding the result then
/// decoding it gives it back.
fn check_grpc_message(raw: &[u8]) {
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let mut bytes = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        let pair = (raw.get(i + 1).copied().and_then(hex), raw.get(i + 2).copied().and_then(hex));
        match (raw[i], pair) {
            (b'%', (Some(high), Some(low))) => {
                bytes.push(high << 4 | low);
                i += 3;
            }
            (byte, _) => {
                bytes.push(byte);
                i += 1;
            }
        }
    }
    let decoded = decode_grpc_message(raw);
    assert_eq!(decoded, String::from_utf8_lossy(&bytes), "grpc-message {raw:?}");
    let mut rest = decoded.as_str();
    for chunk in bytes.utf8_chunks() {
        let kept = rest.strip_prefix(chunk.valid());
        rest = kept.unwrap_or_else(|| panic!("{:?} lost from {raw:?}", chunk.valid()));
        if !chunk.invalid().is_empty() {
            rest = rest.strip_prefix('\u{FFFD}').expect("one U+FFFD per invalid sequence");
        }
    }
    assert_eq!(decode_grpc_message(encode_grpc_message(&decoded).as_bytes()), decoded);
}

/// Keys the metadata targets pick from: text, binary, reserved and invalid ones.
const METADATA_KEYS: [&str; 10] = [
    "x-user",
    "x-trace-bin",
    "a",
    "k-bin",
    "grpc-status",
    "content-type",
    "Upper",
    "-bin",
    "bad key",
    "x.y_z-0",
];

/// Adds up to 16 `[selector] [key?] [value]` entries through `append`/`append_bin`, checking
/// each accepted value reads back; returns the values accepted, per key and kind.
fn add_metadata(input: &mut Cursor<'_>, md: &mut Metadata) -> Vec<(String, bool, Vec<u8>)> {
    let mut added = Vec::new();
    let entries = input.u8() % 17;
    for _ in 0..entries {
        let selector = input.u8();
        let binary = selector & 0x80 != 0;
        let key = match METADATA_KEYS.get(usize::from(selector & 0x7f)) {
            Some(key) => (*key).to_owned(),
            None => String::from_utf8_lossy(input.bytes8()).into_owned(),
        };
        let value = input.bytes8();
        let valid_key = !key.is_empty()
            && key.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'z' | b'_' | b'-' | b'.'))
            && !is_reserved(&key)
            && key.ends_with("-bin") == binary;
        if binary {
            let accepted = md.append_bin(&key, value).is_ok();
            assert_eq!(accepted, valid_key, "append_bin({key:?})");
            if accepted {
                added.push((key, true, value.to_vec()));
            }
        } else {
            let text = String::from_utf8_lossy(value);
            let valid_value = text.bytes().all(|b| (0x20..=0x7e).contains(&b))
                && !text.starts_with(' ')
                && !text.ends_with(' ');
            let accepted = md.append(&key, &text).is_ok();
            assert_eq!(accepted, valid_key && valid_value, "append({key:?}, {text:?})");
            if accepted {
                added.push((key, false, text.into_owned().into_bytes()));
            }
        }
    }
    for (key, binary, _) in &added {
        let expected: Vec<Vec<u8>> =
            added.iter().filter(|(k, _, _)| k == key).map(|(_, _, v)| v.clone()).collect();
        if *binary {
            assert_eq!(md.get_all_bin(key), expected, "{key}");
        } else {
            let got: Vec<Vec<u8>> = md.get_all(key).map(|v| v.as_bytes().to_vec()).collect();
            assert_eq!(got, expected, "{key}");
        }
    }
    added
}

/// Input: a value for [`parse_grpc_timeout`]; the same bytes, when at least 12, also give a
/// duration for [`encode_grpc_timeout`].
///
/// Oracle: parse accepts exactly `1*8DIGIT unit`; an accepted value re-encodes to a value
/// that parses equal; an encoded duration parses to at least it, less than one unit more
/// (unless clamped to `99999999H`).
pub fn grpc_timeout(data: &[u8]) {
    let grammar = match data.split_last() {
        Some((unit, digits)) => {
            (1..=8).contains(&digits.len())
                && digits.iter().all(u8::is_ascii_digit)
                && b"HMSmun".contains(unit)
        }
        None => false,
    };
    match parse_grpc_timeout(data) {
        Ok(parsed) => {
            assert!(grammar, "accepted outside the grammar: {data:?}");
            let encoded = encode_grpc_timeout(parsed);
            assert!(encoded.len() <= 9, "{encoded:?}");
            assert_eq!(parse_grpc_timeout(encoded.as_bytes()), Ok(parsed), "{encoded:?}");
        }
        Err(err) => {
            assert!(!grammar, "refused inside the grammar: {data:?}");
            assert!(err.value().chars().count() <= 35, "{:?}", err.value());
            assert_eq!(Status::from(err).code(), Code::Internal);
        }
    }

    let mut input = Cursor::new(data);
    if data.len() >= 12 {
        let duration = Duration::new(input.u64(), input.u32() % 1_000_000_000);
        let encoded = encode_grpc_timeout(duration);
        let parsed = parse_grpc_timeout(encoded.as_bytes()).expect("the encoder's output parses");
        if encoded == "99999999H" {
            assert!(duration >= Duration::from_secs(99_999_999 * 3600) - Duration::from_secs(3600));
        } else {
            let unit = match encoded.as_bytes().last() {
                Some(b'n') => Duration::from_nanos(1),
                Some(b'u') => Duration::from_micros(1),
                Some(b'm') => Duration::from_millis(1),
                Some(b'S') => Duration::from_secs(1),
                Some(b'M') => Duration::from_secs(60),
                _ => Duration::from_secs(3600),
            };
            assert!(parsed >= duration && parsed - duration < unit, "{duration:?} {encoded}");
        }
    }
}

/// Input: a received header map, then values given through the API (see `add_metadata`).
///
/// Oracle: a received map never panics; when accepted it holds no reserved name, every
/// `-bin` value decodes, and the lossy reading agrees. Values given through the API read back
/// as given, survive `into_headers` → `from_headers`, and `-bin` values joined with `,` in one
/// header split back into the same list.
pub fn metadata(data: &[u8]) {
    let mut input = Cursor::new(data);
    let names: Vec<&'static str> =
        METADATA_KEYS.iter().copied().filter(|k| !k.contains(['U', ' '])).collect();
    let headers = header_map(&mut input, &names);
    let lossy = Metadata::from_headers_lossy(&headers);
    match Metadata::from_headers(headers.clone()) {
        Ok(md) => {
            for key in md.keys() {
                assert!(!is_reserved(key), "{key}");
                let values = md.as_headers().get_all(key).iter().count();
                if key.ends_with("-bin") {
                    let decoded = md.get_all_bin(key).len();
                    assert!(decoded >= values, "{key}: a -bin value was not decoded");
                }
            }
            let _ = format!("{md:?}");
            assert_eq!(md, lossy, "lossy and strict readings of an accepted map differ");
        }
        Err(err) => {
            assert!(err.key().ends_with("-bin"), "{err}");
            let _ = Status::from(err);
        }
    }

    let mut md = Metadata::new();
    let added = add_metadata(&mut input, &mut md);
    let again = Metadata::from_headers(md.clone().into_headers());
    assert_eq!(again.as_ref(), Ok(&md));
    for (key, _, _) in added.iter().filter(|(_, binary, _)| *binary) {
        let wire: Vec<&[u8]> =
            md.as_headers().get_all(key.as_str()).iter().map(|v| v.as_bytes()).collect();
        let joined = HeaderValue::from_bytes(&wire.join(&b","[..])).expect("base64 and commas");
        let mut headers = HeaderMap::new();
        headers.insert(HeaderName::from_bytes(key.as_bytes()).expect("valid key"), joined);
        let split = Metadata::from_headers(headers).expect("joined base64 decodes");
        assert_eq!(split.get_all_bin(key), md.get_all_bin(key), "{key}");
    }
}

#[cfg(test)]
mod tests;
