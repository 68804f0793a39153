//! Every failure the fuzzers found, as a named test with a comment on its root cause. The
//! input is the one the fuzzer (or a seed) produced, replayed through the same target.

use h2grpc::__fuzz;
use h2grpc::{Code, Status};

use super::check;

/// Found by `status_trailers` on its first seeds (input: the seed
/// `unknown-code-with-details`, `grpc-status: 17` + `grpc-status-details-bin: CBE`, i.e. a
/// `google.rpc.Status` with code 17).
///
/// Root cause: `Status::from_headers` mapped the code above 16 to UNKNOWN but kept the
/// details, which still said 17. The status contradicted its own details: rendered again it
/// gave `grpc-status: 2` with details saying 17, which reads back as INTERNAL "details
/// mismatch", so a proxy passing the status on corrupted it. Fix: details are kept only when
/// they describe the code returned.
#[test]
fn status_code_above_16_does_not_keep_details_that_contradict_it() {
    let input = [2, 0, 2, b'1', b'7', 2, 3, b'C', b'B', b'E'];
    check("status_code_above_16", &input, __fuzz::status_trailers);

    let mut headers = http::HeaderMap::new();
    headers.insert("grpc-status", http::HeaderValue::from_static("17"));
    headers.insert("grpc-status-details-bin", http::HeaderValue::from_static("CBE"));
    let status = Status::from_headers(&headers).expect("a status");
    assert_eq!(status.code(), Code::Unknown);
    assert!(status.details().is_empty());
    assert_eq!(Status::from_headers(&status.to_headers()), Some(status));
}

/// Found by `server_conn_grpc` (-s none, within its first minute): a Unary call waiting for
/// its request and a Bidi call, then the client leaves.
///
/// Root cause: h2's `Counts::drop` debug assertion (`!self.has_streams()`, h2 0.4.20
/// `src/proto/streams/counts.rs:369`). When the client leaves, `serve_connection` returns and
/// drops the h2 connection; the Unary call's task, woken by the stream's error, drops its
/// `RecvStream` afterwards, the last reference to h2's stream store, which still counts that
/// stream. Release builds compile the check out; h2 upstream calls it spurious
/// (hyperium/h2#907; #464 relaxed the store's twin assertion the same way). Not fixed here:
/// keeping the connection until every call has dropped its handles would hold the socket open
/// for a handler that ignores cancellation. The fuzz shims let this one assertion through
/// (`fuzz/src/lib.rs`, `tolerate_h2_counts_drop_assertion`); this test fails (debug build)
/// until h2 drops the assertion, and then shows the input passes. The campaign of
/// `fuzz/README.md` hit the same assertion three more times with the connection task freeing
/// the store last; `h2_counts_assertion` (src/fuzzing/server.rs) tells it from other panics.
/// Under AddressSanitizer with debug assertions the same panic also shows as a leak (252
/// bytes: a call's `Status` and its message, left behind when the panic cut the call's
/// teardown short); the optimised build, without the assertion, replays the same input with
/// no leak (valgrind agrees: 160 + 92 bytes lost in the debug build, none in release).
#[test]
#[ignore = "h2's Counts::drop debug assertion (hyperium/h2#907); see the comment"]
fn h2_counts_assertion_when_the_connection_goes_before_a_call() {
    use h2grpc::__fuzz::Script;
    let request = |path| {
        vec![
            (":method", "POST"),
            (":scheme", "http"),
            (":authority", "localhost"),
            (":path", path),
            ("content-type", "application/grpc"),
            ("te", "trailers"),
        ]
    };
    let mut bidi = request("/fuzz.Echo/Bidi");
    bidi.extend([("grpc-timeout", "5632H"), ("grpc-encoding", "identity")]);
    let script = Script::new()
        .preface()
        .settings(&[(4, 1)])
        .headers(1, false, &request("/fuzz.Echo/Unary"))
        .headers(3, false, &bidi)
        .flush()
        .grpc_with(3, false, &[(0, Some(0), &b"\x00\x00'\x17\x16\x00\x00\x17\xda\xc9?"[..])])
        .flush();
    check("bidi_one_byte_window", &script.to_bytes(), |bytes| {
        __fuzz::server_conn(&<Script as __fuzz::FuzzInput>::from_bytes(bytes))
    });
}
