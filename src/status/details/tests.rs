use super::*;

#[test]
fn every_standard_detail_round_trips_through_the_trailer_bytes() {
    let violation = |s: &str| quota_failure::Violation { subject: s.into(), ..Default::default() };
    let details: Vec<Any> = vec![
        ErrorInfo { reason: "R".into(), domain: "d".into(), ..Default::default() }.into(),
        RetryInfo { retry_delay: Some(Duration { seconds: 2, nanos: 500_000_000 }) }.into(),
        DebugInfo { stack_entries: vec!["f()".into()], detail: "x".into() }.into(),
        QuotaFailure { violations: vec![violation("project:1")] }.into(),
        PreconditionFailure { violations: vec![Default::default()] }.into(),
        BadRequest { field_violations: vec![Default::default()] }.into(),
        RequestInfo { request_id: "42".into(), serving_data: String::new() }.into(),
        ResourceInfo { resource_name: "r".into(), ..Default::default() }.into(),
        Help { links: vec![help::Link { description: "d".into(), url: "u".into() }] }.into(),
        LocalizedMessage { locale: "fr-CH".into(), message: "non".into() }.into(),
    ];
    let status = Status::with_error_details(Code::Unavailable, "busy", details.clone());
    let back = Status::with_details(status.code(), status.message(), status.details().clone());
    assert_eq!(back.error_details().unwrap(), details);
    assert_eq!(back.detail::<ErrorInfo>().unwrap().reason, "R");
    assert_eq!(back.detail::<QuotaFailure>().unwrap().violations[0].subject, "project:1");
    assert_eq!(back.detail::<LocalizedMessage>().unwrap().locale, "fr-CH");
    assert_eq!(back.retry_delay(), Some(std::time::Duration::from_millis(2500)));
    let urls: Vec<_> = details.iter().map(|d| d.type_url.rsplit('.').next().unwrap()).collect();
    assert_eq!(
        urls,
        [
            "ErrorInfo",
            "RetryInfo",
            "DebugInfo",
            "QuotaFailure",
            "PreconditionFailure",
            "BadRequest",
            "RequestInfo",
            "ResourceInfo",
            "Help",
            "LocalizedMessage"
        ]
    );
}

#[test]
fn field_numbers_are_upstreams() {
    // Hand-encoded: field 1 (reason) "R", field 2 (domain) "D", field 3 (metadata) {k: v}.
    let bytes = [0x0a, 1, b'R', 0x12, 1, b'D', 0x1a, 6, 0x0a, 1, b'k', 0x12, 1, b'v'];
    let info = ErrorInfo::decode(&bytes[..]).unwrap();
    assert_eq!((info.reason.as_str(), info.domain.as_str()), ("R", "D"));
    assert_eq!(info.metadata.get("k").map(String::as_str), Some("v"));
    // BadRequest.FieldViolation: 1 field, 2 description, 3 reason, 4 localized_message.
    let bytes = [0x0a, 11, 0x0a, 1, b'f', 0x12, 1, b'd', 0x1a, 1, b'r', 0x22, 0];
    let bad = BadRequest::decode(&bytes[..]).unwrap();
    let v = &bad.field_violations[0];
    assert_eq!((v.field.as_str(), v.description.as_str(), v.reason.as_str()), ("f", "d", "r"));
    assert_eq!(v.localized_message, Some(LocalizedMessage::default()));
    // google.rpc.Status: 1 code, 2 message, 3 details.
    let rpc = RpcStatus::decode(&[0x08, 5, 0x12, 1, b'm', 0x1a, 0][..]).unwrap();
    assert_eq!((rpc.code, rpc.message.as_str(), rpc.details.len()), (5, "m", 1));
}

#[test]
fn a_peers_garbage_details_are_an_error_not_a_panic() {
    let status = Status::with_details(Code::Internal, "x", vec![0xff, 0xff, 0xff]);
    assert!(status.error_details().is_err());
    assert_eq!(status.detail::<ErrorInfo>(), None);
    assert_eq!(status.retry_delay(), None);
    // No details at all: none, not an error.
    assert_eq!(Status::internal("x").error_details().unwrap(), Vec::new());
    // A detail claiming a type it is not: skipped.
    let lying = Any { type_url: ErrorInfo::TYPE_URL.into(), value: vec![0xff] };
    let status = Status::with_error_details(Code::Internal, "x", [lying]);
    assert_eq!(status.detail::<ErrorInfo>(), None);
}

#[test]
fn type_urls_match_by_the_name_after_the_last_slash() {
    let info = ErrorInfo { reason: "R".into(), ..Default::default() };
    let other_host =
        Any { type_url: "example.com/google.rpc.ErrorInfo".into(), ..Any::pack(&info) };
    assert_eq!(other_host.unpack::<ErrorInfo>(), Some(Ok(info)));
    assert_eq!(other_host.unpack::<DebugInfo>(), None);
}

#[test]
fn retry_delays_out_of_range_count_as_none() {
    for delay in [Duration { seconds: -1, nanos: 0 }, Duration { seconds: 0, nanos: -5 }] {
        let status = Status::with_error_details(
            Code::Unavailable,
            "x",
            [RetryInfo { retry_delay: Some(delay) }.into()],
        );
        assert_eq!(status.retry_delay(), None, "{delay:?}");
    }
    let d = std::time::Duration::new(3, 7);
    assert_eq!(Duration::from(d), Duration { seconds: 3, nanos: 7 });
}
