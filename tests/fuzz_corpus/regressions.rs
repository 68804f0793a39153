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
