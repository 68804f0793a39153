//! The seed corpora: hand-made inputs for every target (checked against the committed files),
//! and real exchanges captured between an h2grpc client and server through a recording proxy.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use h2grpc::__fuzz::{self, FieldMode, Script, METHODS};
use h2grpc::client::{CallOptions, Channel};
use h2grpc::server::{ResponseSink, Server};
use h2grpc::{Service, Status};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{UnixListener, UnixStream};

type Seed = (&'static str, String, Vec<u8>);

/// What the recording proxy saw: who wrote each chunk, in order.
type Log = Arc<Mutex<Vec<(From, Vec<u8>)>>>;

/// `decode_messages` input: flags (compression, limit selector), the u16 limit when asked,
/// chunk sizes, the drain mask, then the wire bytes.
fn dm(compression: bool, max: Option<u16>, sizes: &[u8], mask: u8, wire: &[u8]) -> Vec<u8> {
    let selector = if max.is_some() { 4 } else { 7 };
    let mut out = vec![u8::from(compression) | selector << 1];
    if let Some(max) = max {
        out.extend_from_slice(&max.to_be_bytes());
    }
    out.push(sizes.len() as u8);
    out.extend_from_slice(sizes);
    out.push(mask);
    out.extend_from_slice(wire);
    out
}

/// A header map input: `(selector, name when the selector is out of the name list, value)`.
fn map(entries: &[(u8, &str, &[u8])]) -> Vec<u8> {
    let mut out = vec![entries.len() as u8];
    for (selector, name, value) in entries {
        out.push(*selector);
        if *selector == 0xff {
            out.push(name.len() as u8);
            out.extend_from_slice(name.as_bytes());
        }
        out.push(value.len() as u8);
        out.extend_from_slice(value);
    }
    out
}

/// Metadata given through the API: `(selector with bit 7 for binary, value)`.
fn api(entries: &[(u8, &[u8])]) -> Vec<u8> {
    let mut out = vec![entries.len() as u8];
    for (selector, value) in entries {
        out.push(*selector);
        out.push(value.len() as u8);
        out.extend_from_slice(value);
    }
    out
}

/// A `BytesValue` (the fuzz service's message type) holding `body`.
fn bv(body: &[u8]) -> Vec<u8> {
    let mut out = vec![0x0a, body.len() as u8];
    out.extend_from_slice(body);
    out
}

pub(crate) fn request(path: &str) -> Vec<(&str, &str)> {
    vec![
        (":method", "POST"),
        (":scheme", "http"),
        (":authority", "localhost"),
        (":path", path),
        ("content-type", "application/grpc"),
        ("te", "trailers"),
    ]
}

fn with<'a>(
    mut fields: Vec<(&'a str, &'a str)>,
    extra: &[(&'a str, &'a str)],
) -> Vec<(&'a str, &'a str)> {
    fields.extend_from_slice(extra);
    fields
}

fn start() -> Script {
    Script::new().preface().settings(&[]).settings_ack()
}

/// A whole call on stream 1: headers, then `messages`, END_STREAM.
fn call(path: &str, messages: &[&[u8]]) -> Script {
    start().headers(1, false, &request(path)).grpc(1, true, messages).flush()
}

fn server_conn() -> Vec<(&'static str, Script)> {
    let [unary, server_stream, client_stream, bidi, wait, fail] = METHODS;
    let hi = bv(b"hi");
    let long_value = "v".repeat(20_000);
    let mut reset_burst = start();
    for i in 0..200 {
        let stream = 2 * i + 1;
        reset_burst = reset_burst.headers(stream, false, &request(wait)).reset(stream, 8);
    }
    let mut split_data = start().headers(1, false, &request(unary));
    let mut message = vec![0, 0, 0, 0, hi.len() as u8];
    message.extend_from_slice(&hi);
    for byte in &message {
        split_data = split_data.data(1, false, &[*byte]);
    }
    vec![
        ("unary", call(unary, &[&hi])),
        ("server-stream", call(server_stream, &[&bv(&[3, 0, 100])])),
        ("client-stream", call(client_stream, &[&hi, &bv(b""), &hi])),
        ("bidi", call(bidi, &[&hi, &hi])),
        (
            "wait-then-reset",
            start().headers(1, false, &request(wait)).grpc(1, true, &[&hi]).flush().reset(1, 8),
        ),
        (
            "fail-with-metadata",
            start()
                .headers(
                    1,
                    false,
                    &with(request(fail), &[("x-user", "alice"), ("x-trace-bin", "q6ur")]),
                )
                .grpc(1, true, &[&bv(b"\t100% \xe2\x98\xba")])
                .flush(),
        ),
        (
            "non-grpc-content-type",
            start()
                .headers(
                    1,
                    false,
                    &with(request(unary)[..4].to_vec(), &[("content-type", "application/json")]),
                )
                .data(1, true, b"{}"),
        ),
        ("unknown-path", call("/fuzz.Nope/Method", &[&hi])),
        ("unknown-method", call("/fuzz.Echo/Nope", &[&hi])),
        ("malformed-path", call("nope", &[&hi])),
        (
            "get-method",
            start().headers(1, true, &with(request(unary)[1..].to_vec(), &[(":method", "GET")])),
        ),
        (
            "bad-timeout",
            start().headers(1, false, &with(request(unary), &[("grpc-timeout", "1s")])).grpc(
                1,
                true,
                &[&hi],
            ),
        ),
        (
            "over-long-timeout",
            start()
                .headers(1, false, &with(request(unary), &[("grpc-timeout", "123456789S")]))
                .grpc(1, true, &[&hi]),
        ),
        (
            "deadline-on-arrival",
            start().headers(1, false, &with(request(unary), &[("grpc-timeout", "0n")])),
        ),
        (
            "short-deadline",
            start()
                .headers(1, false, &with(request(wait), &[("grpc-timeout", "1m")]))
                .grpc(1, true, &[&hi])
                .flush(),
        ),
        (
            "gzip-encoding",
            start().headers(1, false, &with(request(unary), &[("grpc-encoding", "gzip")])).grpc(
                1,
                true,
                &[&hi],
            ),
        ),
        (
            "compressed-flag-no-encoding",
            start().headers(1, false, &request(unary)).grpc_with(1, true, &[(1, None, &hi[..])]),
        ),
        (
            "flag-7",
            start().headers(1, false, &request(unary)).grpc_with(1, true, &[(7, None, &hi[..])]),
        ),
        (
            "length-ffffffff",
            start()
                .headers(1, false, &request(client_stream))
                .grpc_with(1, false, &[(0, Some(u32::MAX), &b"x"[..])])
                .flush(),
        ),
        (
            "end-stream-mid-message",
            start().headers(1, false, &request(unary)).grpc_with(
                1,
                true,
                &[(0, Some(10), &b"\x0a\x08abc"[..])],
            ),
        ),
        ("two-messages-to-unary", call(unary, &[&hi, &hi])),
        ("byte-by-byte-writes", call(unary, &[&hi]).chunk(1)),
        ("one-byte-data-frames", split_data.data(1, true, b"").flush()),
        ("rst-after-headers", start().headers(1, false, &request(unary)).reset(1, 8).flush()),
        ("reset-burst", reset_burst.flush()),
        (
            "garbage-preface",
            Script::new().raw(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03garbage"),
        ),
        (
            "http1-request",
            Script::new().raw(
                b"POST /fuzz.Echo/Unary HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\n\r\n",
            ),
        ),
        (
            "header-list-over-limit",
            start().headers(1, true, &with(request(unary), &[("x-big", &long_value)])).flush(),
        ),
        (
            "continuation-split",
            start()
                .headers_with(
                    1,
                    0,
                    7,
                    &request(unary)
                        .iter()
                        .map(|(n, v)| (FieldMode::Literal, n.as_bytes(), v.as_bytes()))
                        .collect::<Vec<_>>(),
                )
                .grpc(1, true, &[&hi]),
        ),
        (
            "hpack-dynamic-table",
            start()
                .headers_with(
                    1,
                    0x06,
                    0,
                    &request(unary)
                        .iter()
                        .map(|(n, v)| (FieldMode::Indexed, n.as_bytes(), v.as_bytes()))
                        .collect::<Vec<_>>(),
                )
                .grpc(1, true, &[&hi])
                .headers_with(
                    3,
                    0,
                    0,
                    &[
                        (FieldMode::TableSize, &b"\x10\x00"[..], &b""[..]),
                        (FieldMode::Reference, &b"\x43"[..], &b""[..]),
                        (FieldMode::Reference, &b"\x42"[..], &b""[..]),
                        (FieldMode::Reference, &b"\x41"[..], &b""[..]),
                        (FieldMode::Reference, &b"\x40"[..], &b""[..]),
                        (FieldMode::Reference, &b"\x3f"[..], &b""[..]),
                        (FieldMode::Reference, &b"\x3e"[..], &b""[..]),
                    ],
                )
                .grpc(3, true, &[&hi])
                .flush(),
        ),
        (
            "padded-frames",
            start().headers(1, false, &request(unary)).data_padded(1, true, 200, &message).flush(),
        ),
        (
            "connection-frames",
            start()
                .ping(false, 42)
                .window_update(0, 1 << 20)
                .settings(&[(1, 0), (3, 1), (4, 1 << 20), (5, 1 << 20), (6, 100)])
                .headers(1, false, &request(bidi))
                .grpc(1, false, &[&hi])
                .window_update(1, 0)
                .goaway(1, 0, b"bye")
                .flush(),
        ),
        ("bad-window-setting", start().settings(&[(4, 0x8000_0000)]).flush()),
        (
            "stop-reading-streamed-responses",
            start()
                .reading(false)
                .headers(1, false, &request(server_stream))
                .grpc(1, true, &[&bv(&[7, 0xff, 0xff])])
                .flush(),
        ),
    ]
}

fn client_conn() -> Vec<(&'static str, Script)> {
    let ok = [(":status", "200"), ("content-type", "application/grpc")];
    let hi = bv(b"hi");
    let answer = Script::new().settings(&[]).settings_ack();
    vec![
        (
            "unary-ok",
            Script::new()
                .call(0, 0)
                .settings(&[])
                .settings_ack()
                .headers(1, false, &ok)
                .grpc(1, false, &[&hi])
                .headers(1, true, &[("grpc-status", "0")]),
        ),
        (
            "trailers-only-error",
            Script::new().call(0, 0).settings(&[]).headers(
                1,
                true,
                &[
                    (":status", "200"),
                    ("content-type", "application/grpc"),
                    ("grpc-status", "5"),
                    ("grpc-message", "no%20such%0A"),
                ],
            ),
        ),
        (
            "http-503",
            Script::new().call(0, 0).settings(&[]).headers(1, true, &[(":status", "503")]),
        ),
        (
            "not-grpc",
            Script::new()
                .call(0, 0)
                .settings(&[])
                .headers(1, false, &[(":status", "200"), ("content-type", "text/html")])
                .data(1, true, b"<html>"),
        ),
        (
            "huge-message-length",
            Script::new()
                .call(1, 0)
                .settings(&[])
                .headers(1, false, &ok)
                .grpc_with(1, false, &[(0, Some(u32::MAX), &b"x"[..])])
                .flush(),
        ),
        ("rst-stream", Script::new().call(3, 0).settings(&[]).headers(1, false, &ok).reset(1, 2)),
        (
            "goaway",
            Script::new().call(0, 0).call(1, 0).settings(&[]).goaway(1, 0, b"").headers(
                1,
                true,
                &[(":status", "200"), ("grpc-status", "0")],
            ),
        ),
        ("garbage", Script::new().call(0, 0).raw(b"HTTP/1.1 400 Bad Request\r\n\r\n")),
        (
            "stream-of-three",
            Script::new()
                .call(1, 0)
                .settings(&[])
                .headers(1, false, &ok)
                .grpc(1, false, &[&hi, &hi])
                .grpc(1, false, &[&hi])
                .headers(1, true, &[("grpc-status", "0"), ("x-trailer-bin", "AQ")]),
        ),
        (
            "no-trailers",
            Script::new().call(0, 0).settings(&[]).headers(1, false, &ok).grpc(1, true, &[&hi]),
        ),
        (
            "bidi-cancel",
            Script::new()
                .call(4, 0)
                .settings(&[])
                .headers(1, false, &ok)
                .grpc(1, false, &[&hi])
                .flush(),
        ),
        ("timeout-no-answer", answer.clone().call(0, 5).flush()),
        (
            "many-calls",
            (0..6)
                .fold(answer, |s, k| s.call(k, 0))
                .headers(3, true, &[(":status", "200"), ("grpc-status", "0")])
                .chunk(1)
                .goaway(5, 2, b"x"),
        ),
        (
            "bad-status-details",
            Script::new().call(0, 0).settings(&[]).headers(
                1,
                true,
                &[
                    (":status", "200"),
                    ("content-type", "application/grpc"),
                    ("grpc-status", "17"),
                    ("grpc-status-details-bin", "CBE"),
                ],
            ),
        ),
    ]
}

/// One request of an `authority_rewriter` input (see `fuzz/src/rewriter_case.rs`): authority
/// and path choices, a table-size byte, (name, value) choices, then how many frames.
fn rw(authority: u8, path: u8, table: u8, fields: &[(u8, u8)], frames: u8) -> Vec<u8> {
    let mut bytes = vec![authority, path, table, fields.len() as u8];
    for (name, value) in fields {
        bytes.extend([name, value]);
    }
    bytes.push(frames);
    bytes
}

/// `authority_rewriter` seeds: authority 0 is C-core's percent-encoded socket path, 1
/// `localhost`; value 241 is 16 KiB (over the 16 KiB limit with its overhead), 255 128 KiB.
fn authority_rewriter() -> Vec<(&'static str, Vec<u8>)> {
    let plain = rw(0, 0, 0, &[(2, 4)], 0);
    vec![
        ("ccore-repeated", [vec![3], rw(0, 0, 0, &[(0, 2), (2, 4)], 0).repeat(3)].concat()),
        (
            "ccore-oversized-then-plain",
            [vec![3], plain.clone(), rw(0, 0, 0, &[(0, 241)], 0), plain.repeat(2)].concat(),
        ),
        (
            "ccore-oversized-one-byte-reads",
            [vec![0], plain.clone(), rw(0, 0, 0, &[(0, 242)], 2), plain.clone()].concat(),
        ),
        (
            "ccore-block-over-four-times-the-limit",
            [vec![4], plain.clone(), rw(0, 0, 0, &[(0, 255), (1, 255)], 0), plain.clone()].concat(),
        ),
        (
            "valid-then-refused",
            [
                vec![3],
                rw(1, 1, 0, &[(0, 1)], 0),
                rw(0, 1, 0, &[(0, 1)], 0),
                rw(2, 2, 0, &[(1, 3)], 0),
            ]
            .concat(),
        ),
        (
            "table-size-updates",
            [
                vec![2],
                rw(0, 0, 0x80 | 64, &[(0, 2), (1, 3)], 2),
                rw(0, 0, 0x80 | 1, &[(0, 2)], 1),
                rw(0, 2, 0x80 | 127, &[(5, 7), (5, 6)], 2),
            ]
            .concat(),
        ),
        (
            "odd-authorities",
            [vec![1], rw(3, 0, 0, &[], 0), rw(4, 1, 0, &[(4, 5)], 1), rw(3, 0, 0, &[], 0)].concat(),
        ),
    ]
}

/// `frames_h2` inputs (src/fuzzing/frames_h2.rs): an op byte and its operands per frame, then
/// a damage byte (`1`: none; `0bHH_NN_00`: damage HH of NN+1 bytes).
fn frames_h2() -> Vec<(&'static str, Vec<u8>)> {
    const OK: u8 = 1;
    // A request on the next stream, open: no extra field, one frame, no padding, no priority.
    let request = [4, 0, 0, 0, 0, 0, OK];
    let ping = [1, 1, 2, 3, 4, 5, 6, 7, 8];
    vec![
        (
            "request-data-ping-window-settings",
            [
                &request[..],
                &[5, 0, 0, 16, 0, 0, OK],
                &[&ping[..], &[OK]].concat(),
                &[2, 0, 0, 1, OK],
                &[0, 2, 3, 0, 0, 0, 9, 4, 0, 0, 0, 0, OK],
            ]
            .concat(),
        ),
        (
            // HEADERS padded (3), with priority, its block split into CONTINUATIONs of 20
            // bytes; then padded DATA that ends the stream.
            "split-padded-request",
            vec![4, 2, b'a', b'b', 0, 20, 1, 3, 1, 16, OK, 5, 0, 0, 8, 1, 1, 2, OK],
        ),
        ("ping-one-byte-short", [&ping[..], &[0b0001_0000]].concat()),
        ("settings-ack-with-parameters", vec![0, 1, 0, 0, 0, 0, 0, 0b0011_0000]),
        (
            "padded-data-without-pad-length",
            [&request[..], &[5, 0, 0, 0, 0, 0, 0b0010_0000]].concat(),
        ),
        (
            "reset-then-unknown-frame",
            [&request[..], &[6, 0, 0, 0, 0, 8, OK], &[7, 5, 0xff, 0, 0, 0, 0, 3, 1, 2, 3, OK]]
                .concat(),
        ),
        ("window-update-cut", vec![2, 0, 0, 9, 0b0001_0100]),
    ]
}

/// `server_conn_grpc` inputs (src/fuzzing/grpc_script.rs): the window byte, then per
/// operation an op byte, a call pick, and the operands.
fn server_conn_grpc() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        // Unary (how 0: identity), grpc-timeout 5m, then one message "hi" ending the stream.
        ("unary-with-deadline", vec![0, 0, 0, 0, 5, 0, 5, 0, 1, 0, 0, 9, 0, 2, b'h', b'i', 1]),
        // ClientStream, gzip, one metadata field, one compressed message ending the stream.
        ("gzip-client-stream", vec![0, 0, 0, 8, 0, 1, 2, 1, 2, 1, 0, 0, 0x49, 0, 3, 1, 2, 3, 1]),
        // Bidi on a 1 MiB window, one message, then RST_STREAM(CANCEL).
        ("bidi-then-cancel", vec![2, 0, 0, 3, 0, 0, 1, 0, 0, 9, 0, 1, b'x', 0, 3, 0, 1]),
        // Wait: its message, then the client leaves; the handler sees its cancellation.
        ("wait-then-leave", vec![0, 0, 0, 4, 0, 0, 1, 0, 0, 9, 0, 0, 1]),
    ]
}

pub(crate) fn hand_made() -> Vec<Seed> {
    let mut seeds: Vec<Seed> = Vec::new();
    let mut add = |target, name: &str, bytes: Vec<u8>| seeds.push((target, name.to_owned(), bytes));
    let abc = [0, 0, 0, 0, 3, b'a', b'b', b'c'];
    let two = [&abc[..], &[0, 0, 0, 0, 0]].concat();
    add("decode_messages", "one-message", dm(false, None, &[], 0xff, &abc));
    add("decode_messages", "byte-by-byte", dm(false, None, &[1], 0xff, &two));
    add(
        "decode_messages",
        "mixed-chunks-late-drain",
        dm(true, None, &[0, 2, 7], 0, &[&two[..], &two].concat()),
    );
    add(
        "decode_messages",
        "length-ffffffff",
        dm(false, None, &[3], 0xff, &[0, 0xff, 0xff, 0xff, 0xff, 1]),
    );
    add("decode_messages", "flag-7", dm(false, None, &[], 0xff, &[7, 0, 0, 0, 0]));
    add(
        "decode_messages",
        "compressed-no-encoding",
        dm(false, None, &[], 0xff, &[1, 0, 0, 0, 1, 9]),
    );
    add(
        "decode_messages",
        "compressed-negotiated",
        dm(true, None, &[2], 0x55, &[1, 0, 0, 0, 1, 9]),
    );
    add(
        "decode_messages",
        "truncated-body",
        dm(false, None, &[4], 0xff, &[0, 0, 0, 0, 10, 1, 2, 3]),
    );
    add(
        "decode_messages",
        "at-the-limit",
        dm(false, Some(3), &[5], 0xff, &[&abc[..], &[0, 0, 0, 0, 4, 1, 2, 3, 4]].concat()),
    );

    let status_part =
        [&[2u8, 8][..], "\t100% ☺".as_bytes(), &[1], &api(&[(0, b"alice"), (0x81, &[0xab, 0xab])])]
            .concat();
    add("status_trailers", "ok", [map(&[(0, "", b"0")]), status_part.clone()].concat());
    add(
        "status_trailers",
        "unavailable-message",
        map(&[(0, "", b"14"), (1, "", b"try%20again%0A")]),
    );
    add("status_trailers", "unknown-code-with-details", map(&[(0, "", b"17"), (2, "", b"CBE")]));
    add("status_trailers", "details-mismatch", map(&[(0, "", b"3"), (2, "", b"CAU")]));
    add("status_trailers", "unparsable", map(&[(0, "", b"abc"), (1, "", b"%zz")]));
    add(
        "status_trailers",
        "bad-base64",
        map(&[(0, "", b"2"), (2, "", b"!!"), (4, "", b"%%"), (0xff, "x-custom", b"v")]),
    );

    for (name, value) in [
        ("1S", &b"1S"[..]),
        ("100m", b"100m"),
        ("1000000n", b"1000000n"),
        ("99999999H", b"99999999H"),
        ("0n", b"0n"),
        ("007S", b"007S"),
        ("9-digits", b"123456789S"),
        ("lowercase-s", b"1s"),
        ("sign", b"+1S"),
        ("duration-1s-5ns", &[0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 5]),
        ("duration-max", &[0xff; 12]),
    ] {
        add("grpc_timeout", name, value.to_vec());
    }

    add(
        "metadata",
        "received",
        map(&[(1, "", b"q6ur,AQ=="), (0, "", b"alice"), (4, "", b"0"), (6, "", b"AP8")]),
    );
    add("metadata", "bad-base64", map(&[(3, "", b"not base64!")]));
    add(
        "metadata",
        "api",
        [
            map(&[]),
            api(&[
                (0, b"alice"),
                (0x81, &[0, 0xff]),
                (0x81, b""),
                (2, b" edge "),
                (4, b"x"),
                (0x83, &[7; 40]),
            ]),
        ]
        .concat(),
    );

    for (name, script) in server_conn() {
        add("server_conn", name, script.to_bytes());
    }
    for (name, script) in client_conn() {
        add("client_conn", name, script.to_bytes());
    }
    for (name, bytes) in authority_rewriter() {
        add("authority_rewriter", name, bytes);
    }
    for (name, bytes) in frames_h2() {
        add("frames_h2", name, bytes);
    }
    for (name, bytes) in server_conn_grpc() {
        add("server_conn_grpc", name, bytes);
    }
    seeds
}

/// Who wrote a captured chunk.
#[derive(Clone, Copy, PartialEq, Eq)]
enum From {
    Client,
    Server,
}

/// Runs `calls` on a channel to a real server with `service`, through a proxy that records
/// each read in each direction; returns the chunks, in the order each side wrote them.
async fn capture<F, Fut>(service: Service, calls: F) -> Vec<(From, Vec<u8>)>
where
    F: FnOnce(Channel) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let dir = tempfile::tempdir().expect("temp dir");
    let server_path = dir.path().join("server.sock");
    let proxy_path = dir.path().join("proxy.sock");
    let server = Server::builder()
        .add_service(service)
        .max_recv_message_len(64 * 1024)
        .bind_unix(&server_path)
        .expect("bind");
    let shutdown = server.shutdown_handle();
    let serving = tokio::spawn(server.serve());
    let proxy = UnixListener::bind(&proxy_path).expect("bind the proxy");
    let log: Log = Arc::default();
    let recorder = log.clone();
    let proxying = tokio::spawn(async move {
        let (client, _) = proxy.accept().await.expect("accept");
        let upstream = UnixStream::connect(&server_path).await.expect("connect upstream");
        let (cr, cw) = client.into_split();
        let (sr, sw) = upstream.into_split();
        let a = tokio::spawn(pump(cr, sw, From::Client, recorder.clone()));
        let b = tokio::spawn(pump(sr, cw, From::Server, recorder));
        let _ = tokio::join!(a, b);
    });
    let channel =
        Channel::connect(&format!("unix:{}", proxy_path.display())).await.expect("connect");
    calls(channel).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let chunks = log.lock().expect("log").clone();
    proxying.abort();
    shutdown.shutdown_now();
    let _ = serving.await;
    chunks
}

async fn pump(
    mut from: tokio::net::unix::OwnedReadHalf,
    mut to: tokio::net::unix::OwnedWriteHalf,
    who: From,
    log: Log,
) {
    let mut buf = vec![0; 64 * 1024];
    while let Ok(n) = from.read(&mut buf).await {
        if n == 0 || to.write_all(&buf[..n]).await.is_err() {
            return;
        }
        log.lock().expect("log").push((who, buf[..n].to_vec()));
    }
}

/// One side's chunks as raw writes with the other side let run in between.
fn replay(start: Script, chunks: &[(From, Vec<u8>)], side: From) -> Script {
    chunks.iter().filter(|(who, _)| *who == side).fold(start, |s, (_, bytes)| s.raw(bytes).flush())
}

/// Real exchanges: what an h2grpc client sends for each call kind (server_conn seeds), and
/// what an h2grpc server answers (client_conn seeds, after the same calls client_conn makes).
pub(crate) async fn captured() -> Vec<Seed> {
    let [unary, server_stream, client_stream, bidi, _, fail] = METHODS;
    let mut seeds = Vec::new();
    let opts = CallOptions::new;
    let chunks = capture(__fuzz::service(), |ch| async move {
        ch.unary::<Vec<u8>, Vec<u8>>(unary, &b"hello".to_vec(), opts()).await.expect("unary");
    })
    .await;
    seeds.push((
        "server_conn",
        "captured-unary".into(),
        replay(Script::new(), &chunks, From::Client).to_bytes(),
    ));
    let chunks = capture(__fuzz::service(), |ch| async move {
        let mut s = ch
            .server_streaming::<Vec<u8>, Vec<u8>>(server_stream, &vec![3, 0, 100], opts())
            .await
            .expect("call");
        while s.message().await.expect("message").is_some() {}
    })
    .await;
    seeds.push((
        "server_conn",
        "captured-server-stream".into(),
        replay(Script::new(), &chunks, From::Client).to_bytes(),
    ));
    let chunks = capture(__fuzz::service(), |ch| async move {
        let mut call =
            ch.client_streaming::<Vec<u8>, u64>(client_stream, opts()).await.expect("call");
        for i in 0..3u8 {
            call.send(vec![i; 10]).await.expect("send");
        }
        call.finish().await.expect("finish");
    })
    .await;
    seeds.push((
        "server_conn",
        "captured-client-stream".into(),
        replay(Script::new(), &chunks, From::Client).to_bytes(),
    ));
    let chunks = capture(__fuzz::service(), |ch| async move {
        let (mut tx, mut rx) =
            ch.bidi_streaming::<Vec<u8>, Vec<u8>>(bidi, opts()).await.expect("call");
        for i in 0..2u8 {
            tx.send(vec![i; 5]).await.expect("send");
            rx.message().await.expect("reply");
        }
        tx.close().await.expect("close");
        while rx.message().await.expect("end").is_some() {}
    })
    .await;
    seeds.push((
        "server_conn",
        "captured-bidi".into(),
        replay(Script::new(), &chunks, From::Client).to_bytes(),
    ));
    let chunks = capture(__fuzz::service(), |ch| async move {
        let options = opts()
            .header("x-user", "alice")
            .and_then(|o| o.header_bin("x-trace-bin", &[0xab; 3]))
            .expect("metadata");
        let err = ch.unary::<Vec<u8>, Vec<u8>>(fail, &b"oops".to_vec(), options).await.unwrap_err();
        assert_eq!(err.code(), h2grpc::Code::Aborted);
    })
    .await;
    seeds.push((
        "server_conn",
        "captured-metadata-error".into(),
        replay(Script::new(), &chunks, From::Client).to_bytes(),
    ));

    // client_conn: the server's side of the calls client_conn makes (kind 0 and kind 1).
    let chunks = capture(__fuzz::service(), |ch| async move {
        ch.unary::<Vec<u8>, Vec<u8>>(unary, &b"ping".to_vec(), opts()).await.expect("unary");
    })
    .await;
    seeds.push((
        "client_conn",
        "captured-unary-answer".into(),
        replay(Script::new().call(0, 0), &chunks, From::Server).to_bytes(),
    ));
    let streaming = Service::new("fuzz.Echo").server_streaming(
        "Unary",
        |_ctx, _req: Vec<u8>, mut sink: ResponseSink<Vec<u8>>| async move {
            for i in 0..3u8 {
                sink.send(vec![i; 10]).await?;
            }
            Ok::<_, Status>(())
        },
    );
    let chunks = capture(streaming, |ch| async move {
        let mut s = ch
            .server_streaming::<Vec<u8>, Vec<u8>>(unary, &b"ping".to_vec(), opts())
            .await
            .expect("call");
        while s.message().await.expect("message").is_some() {}
    })
    .await;
    seeds.push((
        "client_conn",
        "captured-stream-answer".into(),
        replay(Script::new().call(1, 0), &chunks, From::Server).to_bytes(),
    ));
    seeds
}
