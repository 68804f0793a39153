//! `server_conn_grpc`: `server_conn` with inputs read as gRPC calls, so most of them reach the
//! handlers, deadlines, cancellation and compression rather than stopping at the preface.
//!
//! The bytes are read (with the same never-failing [`Cursor`]) into a [`Script`] that opens
//! with the preface and a SETTINGS frame, then plays operations: a request for one of the
//! fuzz service's [`METHODS`](super::server::METHODS) with valid HPACK, an optional
//! `grpc-timeout` (units down to nanoseconds, so deadlines fire during the run), a
//! `grpc-encoding` (identity, gzip, deflate, or one the server refuses) and metadata;
//! length-prefixed messages, compressed when the call's encoding says so; END_STREAM;
//! RST_STREAM; WINDOW_UPDATE; PING; a pause; and, one operation in eight, any action of the
//! generic script format, so the peer stays hostile. The oracle is `server_conn`'s.

use bytes::BytesMut;

use super::input::{Cursor, FuzzInput};
use super::script::{read_action, Script};
use super::server::{server_conn, METHODS};
use crate::codec::compression::{compress, Encoding};

/// At most this many operations are read from one input.
const MAX_OPS: usize = 256;

/// Plays the gRPC calls `bytes` describe against a fresh server; see the module docs.
pub fn server_conn_grpc(bytes: &[u8]) {
    server_conn(&grpc_script(bytes));
}

/// A call the script opened: its stream and the encoding its messages use.
struct Call {
    stream: u32,
    encoding: Option<Encoding>,
}

/// Reads the script `server_conn_grpc` plays; see the module docs.
pub fn grpc_script(bytes: &[u8]) -> Script {
    let mut input = Cursor::new(bytes);
    let mut script = Script::new().preface();
    let window = input.u8();
    // Sometimes a larger initial window (SETTINGS_INITIAL_WINDOW_SIZE), sometimes a tiny one.
    script = match window % 4 {
        0 => script.settings(&[]),
        1 => script.settings(&[(4, u32::from(window))]),
        _ => script.settings(&[(4, 1 << 20), (2, 0)]),
    };
    let mut calls: Vec<Call> = Vec::new();
    let mut next_stream = 1u32;
    for _ in 0..MAX_OPS {
        if input.is_empty() {
            break;
        }
        let op = input.u8();
        let pick = usize::from(input.u8());
        let call = (!calls.is_empty()).then(|| pick % calls.len());
        script = match (op % 8, call) {
            (0, _) | (1..=4, None) => {
                let (fields, encoding, end) = request(&mut input);
                let fields: Vec<(&str, &str)> =
                    fields.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
                let stream = next_stream;
                next_stream += 2;
                calls.push(Call { stream, encoding });
                script.headers(stream, end, &fields)
            }
            (1, Some(i)) => {
                let call = &calls[i];
                let messages: Vec<(u8, Option<u32>, Vec<u8>)> =
                    (0..1 + input.u8() % 3).map(|_| message(&mut input, call.encoding)).collect();
                let messages: Vec<(u8, Option<u32>, &[u8])> =
                    messages.iter().map(|(f, l, b)| (*f, *l, &b[..])).collect();
                script.grpc_with(call.stream, input.bool(), &messages)
            }
            (2, Some(i)) => script.data(calls[i].stream, true, b""),
            // CANCEL mostly, the way clients give up a call.
            (3, Some(i)) => script.reset(calls[i].stream, if input.bool() { 0x8 } else { 0 }),
            (4, Some(i)) => script.window_update(calls[i].stream, 1 + u32::from(input.u16())),
            (5, _) => script.window_update(0, 1 + u32::from(input.u16())),
            (6, _) => script.ping(false, input.u64()),
            _ if op & 0x80 == 0 => script.flush(),
            _ => script.push(read_action(&mut input)),
        };
    }
    script.flush()
}

/// The fields of a request for one of the service's methods; its encoding (None: one the
/// server refuses) and whether HEADERS ends the stream.
#[allow(clippy::type_complexity)]
fn request(input: &mut Cursor<'_>) -> (Vec<(String, String)>, Option<Encoding>, bool) {
    let how = input.u8();
    let path = METHODS[usize::from(how) % METHODS.len()];
    let mut fields: Vec<(String, String)> = super::server::request_fields(path)
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect();
    let timeout = input.u8();
    if timeout & 1 == 1 {
        let unit = ["n", "u", "m", "S", "M", "H"][usize::from(timeout >> 1) % 6];
        fields.push(("grpc-timeout".into(), format!("{}{unit}", input.u16())));
    }
    // identity, gzip, deflate with the `compression` feature; past what the build supports,
    // an encoding the server refuses.
    let encoding = Encoding::SUPPORTED.get(usize::from(how >> 3 & 3)).copied();
    let name = encoding.map_or("snappy", Encoding::name);
    if how & 0x20 != 0 || encoding != Some(Encoding::Identity) {
        fields.push(("grpc-encoding".into(), name.into()));
    }
    if how & 0x40 != 0 {
        fields.push(("grpc-accept-encoding".into(), "gzip,identity".into()));
    }
    for i in 0..input.u8() % 3 {
        let value: String = input.bytes8().iter().map(|b| char::from(b'a' + b % 26)).collect();
        fields.push((format!("x-meta-{i}"), value));
    }
    (fields, encoding, how & 0x80 != 0)
}

/// One message: a `BytesValue` (field 1, length-delimited), compressed as the call says one
/// time in two; now and then raw bytes or a wrong length.
fn message(input: &mut Cursor<'_>, encoding: Option<Encoding>) -> (u8, Option<u32>, Vec<u8>) {
    let how = input.u8();
    let payload = input.bytes16();
    let mut body = vec![0x0a];
    let mut len = payload.len();
    while len >= 0x80 {
        body.push(len as u8 | 0x80);
        len >>= 7;
    }
    body.push(len as u8);
    body.extend_from_slice(payload);
    if how & 0x7 == 0 {
        body = payload.to_vec();
    }
    let announced = (how & 0x38 == 0).then(|| u32::from(input.u16()));
    match encoding {
        Some(encoding) if encoding.is_compressed() && how & 0x40 != 0 => {
            let mut out = BytesMut::new();
            match compress(encoding, &body, &mut out) {
                Ok(()) => (1, announced, out.to_vec()),
                Err(_) => (1, announced, body),
            }
        }
        _ => (u8::from(how & 0x80 != 0 && encoding.is_none()), announced, body),
    }
}

impl FuzzInput for GrpcCalls {
    fn from_bytes(bytes: &[u8]) -> GrpcCalls {
        GrpcCalls(grpc_script(bytes))
    }
}

/// A [`Script`] read from bytes as gRPC calls (for the fuzz shim: `Debug` prints the script).
#[derive(Debug)]
pub struct GrpcCalls(pub Script);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fuzzing::script::Action;

    #[test]
    fn most_inputs_become_requests_for_the_service() {
        // op 0 (request): ClientStream (8 % 6), gzip (8 >> 3), no timeout, one metadata
        // field; then op 1 (messages) on it: one gzip-compressed message (0x49), END_STREAM.
        let bytes = [0, 0, 0, 8, 0, 1, 2, 1, 2, 1, 0, 0, 0x49, 0, 3, 1, 2, 3, 1];
        let script = grpc_script(&bytes);
        let actions = script.actions();
        assert!(matches!(actions[0], Action::Preface));
        let Action::Headers { stream: 1, fields, .. } = &actions[2] else { panic!("{script:?}") };
        let names: Vec<&[u8]> = fields.iter().map(|(_, n, _)| &n[..]).collect();
        assert!(names.contains(&&b"grpc-encoding"[..]), "{script:?}");
        let Action::Grpc { stream: 1, end_stream: true, messages } = &actions[3] else {
            panic!("{script:?}")
        };
        assert_eq!(messages[0].0, 1, "compressed flag: {script:?}");
        server_conn_grpc(&bytes);
    }

    #[test]
    fn any_bytes_play_without_panic() {
        for seed in 0u8..32 {
            let bytes: Vec<u8> = (0..200u16).map(|i| (i as u8).wrapping_mul(seed) ^ seed).collect();
            server_conn_grpc(&bytes);
        }
    }
}
