use http::header::{HeaderMap, HeaderValue};
use proptest::prelude::*;

use super::*;

fn received(pairs: &[(&'static str, &'static [u8])]) -> HeaderMap {
    let mut headers = HeaderMap::new();
    for (name, value) in pairs {
        let value = HeaderValue::from_bytes(value).expect("test value is a valid header value");
        headers.append(*name, value);
    }
    headers
}

#[test]
fn insert_replaces_and_append_keeps_order() {
    let mut md = Metadata::new();
    md.append("k", "1").unwrap();
    md.append("k", "2").unwrap();
    assert_eq!(md.get_all("k").collect::<Vec<_>>(), ["1", "2"]);
    assert_eq!(md.len(), 2);
    md.insert("k", "3").unwrap();
    assert_eq!(md.get_all("k").collect::<Vec<_>>(), ["3"]);
}

#[test]
fn uppercase_key_is_rejected() {
    let err = Metadata::new().insert("X-Trace", "v").unwrap_err();
    assert_eq!(err.key(), "X-Trace");
    assert!(Metadata::new().insert_bin("X-Trace-Bin", b"v").is_err());
}

#[test]
fn keys_outside_the_grammar_are_rejected() {
    for key in ["", "a b", "a:b", "é", "a/b", "a!"] {
        assert!(Metadata::new().insert(key, "v").is_err(), "{key:?}");
    }
    for key in ["a", "0-9", "a_b.c-d"] {
        assert!(Metadata::new().insert(key, "v").is_ok(), "{key:?}");
    }
}

#[test]
fn reserved_names_are_rejected_by_insert() {
    for key in ["grpc-status", "grpc-foo", "te", "content-type", "connection", "host"] {
        let err = Metadata::new().insert(key, "v").unwrap_err();
        assert!(err.to_string().contains("reserved"), "{err}");
    }
    assert!(Metadata::new().insert_bin("grpc-status-details-bin", b"x").is_err());
}

#[test]
fn reserved_covers_grpc_pseudo_and_connection_headers_but_not_user_agent() {
    let reserved = [
        "grpc-timeout",
        "GRPC-X",
        ":path",
        "te",
        "content-type",
        "connection",
        "keep-alive",
        "transfer-encoding",
        "upgrade",
        "proxy-connection",
        "host",
    ];
    for name in reserved {
        assert!(is_reserved(name), "{name}");
    }
    for name in ["user-agent", "grpc", "grpcx", "tenant", "x-grpc-test-echo-initial"] {
        assert!(!is_reserved(name), "{name}");
    }
}

#[test]
fn text_and_binary_keys_are_not_interchangeable() {
    assert!(Metadata::new().insert("blob-bin", "v").is_err());
    assert!(Metadata::new().insert_bin("blob", b"v").is_err());
}

#[test]
fn control_and_non_ascii_values_are_rejected() {
    for value in ["a\nb", "\t", "\u{7f}", "caf\u{e9}"] {
        assert!(Metadata::new().insert("k", value).is_err(), "{value:?}");
    }
    let err = Metadata::new().insert("k", "a\rb").unwrap_err();
    assert!(err.to_string().contains("0x0d"), "{err}");
}

#[test]
fn leading_or_trailing_space_is_rejected_but_inner_space_and_empty_are_kept() {
    assert!(Metadata::new().insert("k", " v").is_err());
    assert!(Metadata::new().insert("k", "v ").is_err());
    let mut md = Metadata::new();
    md.insert("k", "a b").unwrap();
    md.insert("e", "").unwrap();
    assert_eq!(md.get("k"), Some("a b"));
    assert_eq!(md.get("e"), Some(""));
}

#[test]
fn binary_values_are_sent_unpadded() {
    let mut md = Metadata::new();
    md.insert_bin("a-bin", [0xAB, 0xAB, 0xAB]).unwrap();
    md.insert_bin("b-bin", [1]).unwrap();
    md.insert_bin("c-bin", [0u8; 0]).unwrap();
    assert_eq!(md.as_headers()["a-bin"], "q6ur");
    assert_eq!(md.as_headers()["b-bin"], "AQ");
    assert_eq!(md.as_headers()["c-bin"], "");
    assert_eq!(md.get_bin("c-bin"), Some(vec![]));
}

#[test]
fn binary_values_are_accepted_with_and_without_padding() {
    let md = Metadata::from_headers(received(&[("p-bin", b"AQI="), ("u-bin", b"AQI")])).unwrap();
    assert_eq!(md.get_bin("p-bin"), Some(vec![1, 2]));
    assert_eq!(md.get_bin("u-bin"), Some(vec![1, 2]));
}

#[test]
fn comma_joined_binary_values_are_split_before_decoding() {
    let md = Metadata::from_headers(received(&[("k-bin", b"AQ==,Ag, AwQ"), ("k-bin", b"BQ")]));
    let md = md.unwrap();
    assert_eq!(md.get_all_bin("k-bin"), [vec![1], vec![2], vec![3, 4], vec![5]]);
    assert_eq!(md.get_bin("k-bin"), Some(vec![1]));
}

#[test]
fn from_headers_drops_reserved_names_and_keeps_user_agent() {
    let headers = received(&[
        ("content-type", b"application/grpc"),
        ("te", b"trailers"),
        ("grpc-timeout", b"1S"),
        ("grpc-status-details-bin", b"!!"),
        ("user-agent", b"grpc-rust-h2/0.1.0"),
        ("tenant", b"acme"),
    ]);
    let md = Metadata::from_headers(headers).unwrap();
    let mut keys: Vec<_> = md.keys().collect();
    keys.sort_unstable();
    assert_eq!(keys, ["tenant", "user-agent"]);
}

#[test]
fn from_headers_rejects_bad_base64_naming_the_key() {
    for bad in [&b"q6u*"[..], b"AQ,@@", b"A"] {
        let err = Metadata::from_headers(received(&[("x-bin", bad)])).unwrap_err();
        assert_eq!(err.key(), "x-bin");
        assert!(err.to_string().contains("not base64"), "{err}");
    }
}

#[test]
fn lossy_from_headers_drops_only_the_bad_binary_value() {
    let headers = received(&[("x-bin", b"@@"), ("y-bin", b"AQ"), ("grpc-status", b"0")]);
    let md = Metadata::from_headers_lossy(&headers);
    assert_eq!(md.keys().collect::<Vec<_>>(), ["y-bin"]);
}

#[test]
fn obs_text_values_are_kept_and_echo_back() {
    let md = Metadata::from_headers(received(&[("k", b"caf\xc3\xa9"), ("raw", b"\xff")])).unwrap();
    assert_eq!(md.get("k"), Some("café"));
    assert_eq!(md.get("raw"), None);
    let mut out = HeaderMap::new();
    md.extend_into(&mut out);
    assert_eq!(out["raw"].as_bytes(), b"\xff");
}

#[test]
fn text_lookups_skip_binary_keys_and_binary_lookups_skip_text_keys() {
    let mut md = Metadata::new();
    md.insert("t", "AQ").unwrap();
    md.insert_bin("b-bin", [1]).unwrap();
    assert_eq!(md.get("b-bin"), None);
    assert_eq!(md.get_bin("t"), None);
    assert!(md.get_all_bin("t").is_empty());
}

#[test]
fn lookups_and_removal_ignore_case_and_tolerate_bad_names() {
    let mut md = Metadata::new();
    md.insert("tenant", "acme").unwrap();
    md.insert_bin("b-bin", [1]).unwrap();
    assert_eq!(md.get("Tenant"), Some("acme"));
    assert_eq!(md.get_bin("B-BIN"), Some(vec![1]));
    assert_eq!(md.get("not a name"), None);
    assert!(!md.remove("not a name"));
    assert!(md.remove("TENANT"));
    assert!(!md.remove("tenant"));
}

#[test]
fn extend_into_appends_after_existing_values() {
    let mut md = Metadata::new();
    md.append("k", "2").unwrap();
    let mut dst = received(&[("k", b"1")]);
    md.extend_into(&mut dst);
    let all: Vec<_> = dst.get_all("k").iter().collect();
    assert_eq!(all, ["1", "2"]);
}

#[test]
fn a_full_map_returns_an_error_instead_of_panicking() {
    let mut md = Metadata::new();
    // HeaderMap holds at most 24,576 distinct names (3/4 of 2^15 slots).
    let err = (0..40_000u32)
        .find_map(|i| md.append(&format!("k{i}"), "v").err())
        .expect("the map fills up");
    assert_eq!(err.key(), format!("k{}", md.len()));
    assert!(err.to_string().contains("header map is full"), "{err}");
}

#[test]
fn debug_shows_text_and_decoded_binary() {
    let mut md = Metadata::new();
    md.insert("k", "v").unwrap();
    md.insert_bin("b-bin", [0xAB, 0x41]).unwrap();
    let debug = format!("{md:?}");
    assert!(debug.contains(r#""k": "v""#), "{debug}");
    assert!(debug.contains(r#""b-bin": b"\xabA""#), "{debug}");
}

#[test]
fn display_is_lowercase_and_names_the_key() {
    let errors = [
        Metadata::new().insert("Bad", "v").unwrap_err(),
        Metadata::new().insert("grpc-x", "v").unwrap_err(),
        Metadata::new().insert("k-bin", "v").unwrap_err(),
        Metadata::new().insert_bin("k", "v").unwrap_err(),
        Metadata::new().insert("k", "\n").unwrap_err(),
        Metadata::new().insert("k", " v").unwrap_err(),
    ];
    for err in errors {
        let text = err.to_string();
        assert!(text.contains(&format!("{:?}", err.key())), "{text}");
        assert!(text.starts_with(|c: char| c.is_ascii_lowercase()), "{text}");
    }
}

#[test]
fn wire_constants_are_spelled_as_the_spec_says() {
    assert_eq!(GRPC_STATUS, "grpc-status");
    assert_eq!(GRPC_MESSAGE, "grpc-message");
    assert_eq!(GRPC_STATUS_DETAILS_BIN, "grpc-status-details-bin");
    assert_eq!(GRPC_TIMEOUT, "grpc-timeout");
    assert_eq!(GRPC_ENCODING, "grpc-encoding");
    assert_eq!(GRPC_ACCEPT_ENCODING, "grpc-accept-encoding");
    assert_eq!(TE, "te");
    assert_eq!(APPLICATION_GRPC, "application/grpc");
    assert_eq!(TRAILERS, "trailers");
}

fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(any::<u8>(), 0..max)
}

proptest! {
    #[test]
    fn binary_metadata_round_trips_any_bytes(value in bytes(256)) {
        let mut md = Metadata::new();
        md.insert_bin("k-bin", &value).unwrap();
        let back = Metadata::from_headers(md.into_headers()).unwrap();
        prop_assert_eq!(back.get_bin("k-bin"), Some(value));
    }

    #[test]
    fn padded_binary_metadata_decodes_like_unpadded(value in bytes(64)) {
        use base64::Engine as _;
        let padded = base64::engine::general_purpose::STANDARD.encode(&value);
        let mut headers = HeaderMap::new();
        headers.insert("k-bin", HeaderValue::from_str(&padded).unwrap());
        let md = Metadata::from_headers(headers).unwrap();
        prop_assert_eq!(md.get_bin("k-bin"), Some(value));
    }

    #[test]
    fn from_headers_never_panics_on_any_value(value in bytes(64)) {
        if let Ok(value) = HeaderValue::from_bytes(&value) {
            let mut headers = HeaderMap::new();
            headers.insert("k-bin", value.clone());
            headers.insert("k", value);
            let lossy = Metadata::from_headers_lossy(&headers);
            let _ = format!("{lossy:?}");
            let _ = Metadata::from_headers(headers).map(|md| md.get_all_bin("k-bin"));
        }
    }
}
