use http::header::{HeaderMap, HeaderValue};
use proptest::prelude::*;

use super::*;

const SPECIAL: &str = "\t\ntest with whitespace\r\nand Unicode BMP ☺ and non-BMP 😈\t\n";
const SPECIAL_WIRE: &str =
    "%09%0Atest with whitespace%0D%0Aand Unicode BMP %E2%98%BA and non-BMP %F0%9F%98%88%09%0A";

fn trailers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
    let mut headers = HeaderMap::new();
    for (name, value) in pairs {
        headers.append(*name, HeaderValue::from_static(value));
    }
    headers
}

fn rpc_status(code: i32, message: &str) -> Vec<u8> {
    RpcStatus { code, message: message.to_owned() }.encode_to_vec()
}

fn details_header(bytes: &[u8]) -> HeaderValue {
    HeaderValue::from_str(&BASE64.encode(bytes)).unwrap()
}

#[test]
fn special_status_message_round_trips_with_the_exact_wire_form() {
    assert_eq!(encode_grpc_message(SPECIAL), SPECIAL_WIRE);
    assert_eq!(decode_grpc_message(SPECIAL_WIRE.as_bytes()), SPECIAL);
    let status = Status::unknown(SPECIAL);
    let headers = status.to_headers();
    assert_eq!(headers["grpc-message"], SPECIAL_WIRE);
    assert_eq!(Status::from_headers(&headers), Some(status));
}

#[test]
fn space_is_not_encoded_and_percent_is() {
    assert_eq!(encode_grpc_message(" a b "), " a b ");
    assert_eq!(encode_grpc_message("100%"), "100%25");
    assert_eq!(
        encode_grpc_message("~!\"#$&'()*+,-./:;<=>?@[\\]^_`{|}"),
        "~!\"#$&'()*+,-./:;<=>?@[\\]^_`{|}"
    );
}

#[test]
fn a_message_with_nothing_to_encode_is_borrowed() {
    assert!(matches!(encode_grpc_message("all plain"), Cow::Borrowed("all plain")));
    assert!(matches!(encode_grpc_message(""), Cow::Borrowed("")));
    assert!(matches!(encode_grpc_message("a\n"), Cow::Owned(_)));
}

#[test]
fn non_ascii_and_controls_encode_byte_by_byte_in_uppercase_hex() {
    assert_eq!(encode_grpc_message("é"), "%C3%A9");
    assert_eq!(encode_grpc_message("\u{0}\u{1f}\u{7f}"), "%00%1F%7F");
    assert_eq!(encode_grpc_message("😈"), "%F0%9F%98%88");
}

#[test]
fn percent_decode_leaves_bad_sequences_as_they_are() {
    for raw in ["%", "%4", "%zz", "100%", "a%g1", "%%", "%4%41"] {
        let want = raw.replace("%41", "A");
        assert_eq!(decode_grpc_message(raw.as_bytes()), want, "{raw:?}");
    }
}

#[test]
fn lowercase_hex_decodes() {
    assert_eq!(decode_grpc_message(b"%e2%98%ba"), "☺");
    assert_eq!(decode_grpc_message(b"%0a%0D"), "\n\r");
}

#[test]
fn invalid_utf8_decodes_lossily() {
    assert_eq!(decode_grpc_message(b"%FFok"), "\u{FFFD}ok");
    assert_eq!(decode_grpc_message(b"raw \xff"), "raw \u{FFFD}");
}

#[test]
fn to_headers_writes_status_message_details_and_metadata() {
    let details = rpc_status(3, "bad");
    let mut status = Status::with_details(Code::InvalidArgument, "bad field", details.clone());
    status.metadata_mut().insert("k", "v").unwrap();
    let headers = status.to_headers();
    assert_eq!(headers["grpc-status"], "3");
    assert_eq!(headers["grpc-message"], "bad field");
    assert_eq!(headers["grpc-status-details-bin"], BASE64.encode(&details).as_str());
    assert!(!headers["grpc-status-details-bin"].as_bytes().ends_with(b"="));
    assert_eq!(headers["k"], "v");
    assert_eq!(Status::from_headers(&headers), Some(status));
}

#[test]
fn empty_message_and_details_are_left_out() {
    let headers = Status::ok().to_headers();
    assert_eq!(headers.len(), 1);
    assert_eq!(headers["grpc-status"], "0");
}

#[test]
fn add_to_headers_replaces_earlier_status_fields() {
    let mut headers = Status::with_details(Code::Aborted, "first", vec![8, 10]).to_headers();
    Status::ok().add_to_headers(&mut headers);
    assert_eq!(headers.len(), 1);
    assert_eq!(headers["grpc-status"], "0");
}

#[test]
fn every_code_round_trips_through_trailers() {
    for code in Code::ALL {
        let status = Status::new(code, format!("{code} %\n"));
        assert_eq!(Status::from_headers(&status.to_headers()), Some(status));
    }
}

#[test]
fn missing_grpc_status_gives_none() {
    assert_eq!(Status::from_headers(&trailers(&[("grpc-message", "hi")])), None);
}

#[test]
fn unparsable_grpc_status_becomes_unknown_saying_so() {
    for raw in ["", "abc", "-1", "+5", " 5", "5 ", "0x1", "99999999999999999999999"] {
        let status = Status::from_headers(&trailers(&[("grpc-status", raw)])).unwrap();
        assert_eq!(status.code(), Code::Unknown, "{raw:?}");
        assert!(status.message().starts_with("unparsable grpc-status"), "{status}");
    }
    let status = Status::from_headers(&trailers(&[("grpc-status", "x"), ("grpc-message", "why")]));
    assert_eq!(status.unwrap().message(), "unparsable grpc-status \"x\": why");
}

#[test]
fn codes_above_16_become_unknown_keeping_the_number() {
    let status = Status::from_headers(&trailers(&[("grpc-status", "17")])).unwrap();
    assert_eq!((status.code(), status.message()), (Code::Unknown, "unknown grpc-status 17"));
    let status = Status::from_headers(&trailers(&[("grpc-status", "4294967296")])).unwrap();
    assert!(status.message().contains("4294967296"), "{status}");
}

#[test]
fn leading_zeros_and_an_empty_message_are_accepted() {
    let status = Status::from_headers(&trailers(&[("grpc-status", "05"), ("grpc-message", "")]));
    assert_eq!(status, Some(Status::not_found("")));
}

#[test]
fn bad_base64_details_are_ignored_without_panicking() {
    for bad in ["!!!!", "A", "CAI=x", "\u{7f}", "C A I"] {
        let mut headers = trailers(&[("grpc-status", "2")]);
        if let Ok(value) = HeaderValue::from_str(bad) {
            headers.insert("grpc-status-details-bin", value);
        }
        let status = Status::from_headers(&headers).unwrap();
        assert_eq!(status.code(), Code::Unknown, "{bad:?}");
        assert!(status.details().is_empty(), "{bad:?}");
    }
}

#[test]
fn more_than_one_details_value_is_ignored() {
    let one = details_header(&rpc_status(5, "x"));
    let mut headers = trailers(&[("grpc-status", "5")]);
    headers.append("grpc-status-details-bin", one.clone());
    headers.append("grpc-status-details-bin", one.clone());
    assert!(Status::from_headers(&headers).unwrap().details().is_empty());

    let joined = format!("{0},{0}", one.to_str().unwrap());
    headers.insert("grpc-status-details-bin", HeaderValue::from_str(&joined).unwrap());
    assert!(Status::from_headers(&headers).unwrap().details().is_empty());
}

#[test]
fn details_that_are_not_a_google_rpc_status_are_ignored() {
    for junk in [&[0xFF][..], &[0x08], &[0x12, 0x01, 0xFF]] {
        let mut headers = trailers(&[("grpc-status", "5")]);
        headers.insert("grpc-status-details-bin", details_header(junk));
        let status = Status::from_headers(&headers).unwrap();
        assert_eq!(status.code(), Code::NotFound);
        assert!(status.details().is_empty());
    }
}

#[test]
fn details_whose_code_differs_from_grpc_status_become_internal() {
    let mut headers = trailers(&[("grpc-status", "5"), ("grpc-message", "gone"), ("k", "v")]);
    headers.insert("grpc-status-details-bin", details_header(&rpc_status(3, "gone")));
    let status = Status::from_headers(&headers).unwrap();
    assert_eq!(status.code(), Code::Internal);
    assert!(status.message().starts_with("grpc-status-details-bin mismatch"), "{status}");
    assert!(status.details().is_empty());
    assert_eq!(status.metadata().get("k"), Some("v"));
}

/// Fuzz regression (status_trailers): details saying 17 were kept on the UNKNOWN status a
/// `grpc-status: 17` became, so rendering it again produced a details mismatch.
#[test]
fn details_of_a_code_above_16_are_dropped_with_the_code() {
    let mut headers = trailers(&[("grpc-status", "17")]);
    headers.insert("grpc-status-details-bin", details_header(&rpc_status(17, "new code")));
    let status = Status::from_headers(&headers).unwrap();
    assert_eq!(status.code(), Code::Unknown);
    assert!(status.details().is_empty());
    assert_eq!(Status::from_headers(&status.to_headers()), Some(status));
}

#[test]
fn matching_details_are_kept_padded_or_not() {
    let details = rpc_status(5, "gone");
    let padded = base64::engine::general_purpose::STANDARD.encode(&details);
    for value in [details_header(&details), HeaderValue::from_str(&padded).unwrap()] {
        let mut headers = trailers(&[("grpc-status", "5")]);
        headers.insert("grpc-status-details-bin", value);
        let status = Status::from_headers(&headers).unwrap();
        assert_eq!(status.code(), Code::NotFound);
        assert_eq!(&status.details()[..], &details[..]);
    }
}

#[test]
fn trailer_metadata_excludes_reserved_names_and_drops_bad_binary_values() {
    let headers = trailers(&[
        ("grpc-status", "0"),
        ("content-type", "application/grpc"),
        ("grpc-status-details-bin", "@@"),
        ("bad-bin", "@@"),
        ("good-bin", "q6ur"),
        ("k", "v"),
    ]);
    let status = Status::from_headers(&headers).unwrap();
    assert_eq!(status.code(), Code::Ok);
    let mut keys: Vec<_> = status.metadata().keys().collect();
    keys.sort_unstable();
    assert_eq!(keys, ["good-bin", "k"]);
    assert_eq!(status.metadata().get_bin("good-bin"), Some(vec![0xAB; 3]));
}

proptest! {
    #[test]
    fn any_string_round_trips_through_the_message_encoding(s in any::<String>()) {
        let wire = encode_grpc_message(&s);
        prop_assert!(wire.bytes().all(|b| (0x20..=0x7E).contains(&b)));
        prop_assert_eq!(decode_grpc_message(wire.as_bytes()), s);
    }

    #[test]
    fn decoding_any_bytes_never_panics(raw in proptest::collection::vec(any::<u8>(), 0..128)) {
        let _ = decode_grpc_message(&raw);
    }

    #[test]
    fn any_status_round_trips_through_trailers(code in 0..17i32, message in any::<String>()) {
        let status = Status::new(Code::from_i32(code), message);
        prop_assert_eq!(Status::from_headers(&status.to_headers()), Some(status));
    }

    #[test]
    fn reading_any_trailer_values_never_panics(
        status in proptest::collection::vec(any::<u8>(), 0..12),
        details in proptest::collection::vec(any::<u8>(), 0..48),
    ) {
        let mut headers = HeaderMap::new();
        for (name, raw) in [("grpc-status", &status), ("grpc-status-details-bin", &details)] {
            if let Ok(value) = HeaderValue::from_bytes(raw) {
                headers.insert(name, value);
            }
        }
        let _ = Status::from_headers(&headers);
    }
}

#[test]
fn a_plain_ok_is_exactly_status_zero_without_details_and_decodes_to_ok() {
    let ok = trailers(&[("grpc-status", "0"), ("grpc-message", "fine"), ("x", "y")]);
    assert!(Status::is_plain_ok(&ok));
    assert!(Status::from_headers(&ok).expect("status").is_ok());

    // Details that contradict the code make the call INTERNAL: not plain.
    let mut contradicted = trailers(&[("grpc-status", "0")]);
    contradicted.insert("grpc-status-details-bin", details_header(&rpc_status(5, "no")));
    assert!(!Status::is_plain_ok(&contradicted));
    assert_eq!(Status::from_headers(&contradicted).expect("status").code(), Code::Internal);

    for other in
        [trailers(&[("grpc-status", "5")]), trailers(&[]), trailers(&[("grpc-status", "00")])]
    {
        assert!(!Status::is_plain_ok(&other));
    }
}
