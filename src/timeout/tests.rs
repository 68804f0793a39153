use super::*;
use proptest::prelude::*;

const NS: u64 = 1;
const US: u64 = 1_000;
const MS: u64 = 1_000_000;
const S: u64 = 1_000_000_000;

fn parse_str(s: &str) -> Result<Duration, InvalidTimeout> {
    parse_grpc_timeout(s.as_bytes())
}

/// Length in nanoseconds of the unit an encoded value ends with.
fn unit_nanos_of(encoded: &str) -> u128 {
    let unit = *encoded.as_bytes().last().expect("encoder never returns an empty string");
    UNITS.iter().find(|(name, _)| *name == unit).expect("encoder uses a known unit").1
}

#[test]
fn parse_accepts_every_unit() {
    // Per unit: what one count of it is, and the counts to try (1, a typical one, the largest).
    type Unit = (&'static str, fn(u64) -> Duration, [u64; 3]);
    let cases: [Unit; 6] = [
        ("H", |h| Duration::from_secs(h * 3_600), [1, 2, 99_999_999]),
        ("M", |m| Duration::from_secs(m * 60), [1, 60, 99_999_999]),
        ("S", Duration::from_secs, [1, 30, 99_999_999]),
        ("m", Duration::from_millis, [1, 100, 99_999_999]),
        ("u", Duration::from_micros, [1, 250, 99_999_999]),
        ("n", Duration::from_nanos, [1, 1_000_000, 99_999_999]),
    ];
    for (unit, one, counts) in cases {
        for count in counts {
            let input = format!("{count}{unit}");
            assert_eq!(parse_str(&input), Ok(one(count)), "input {input:?}");
        }
    }
}

#[test]
fn parse_accepts_zero_in_every_unit_as_already_expired() {
    for unit in ["H", "M", "S", "m", "u", "n"] {
        assert_eq!(parse_str(&format!("0{unit}")), Ok(Duration::ZERO));
        assert_eq!(parse_str(&format!("00000000{unit}")), Ok(Duration::ZERO));
    }
}

#[test]
fn parse_accepts_leading_zeros_within_eight_digits() {
    assert_eq!(parse_str("007S"), Ok(Duration::from_secs(7)));
    assert_eq!(parse_str("00000001m"), Ok(Duration::from_millis(1)));
}

#[test]
fn parse_accepts_eight_digits_and_rejects_nine() {
    assert_eq!(parse_str("12345678S"), Ok(Duration::from_secs(12_345_678)));
    assert!(parse_str("123456789S").is_err());
    assert!(parse_str("000000001S").is_err());
    assert!(parse_str(&"9".repeat(1_000)).is_err());
}

#[test]
fn parse_rejects_malformed_values() {
    let cases: &[&[u8]] = &[
        b"",
        b"S",
        b"n",
        b"1",
        b"12345678",
        b"1s",
        b"1h",
        b"1x",
        b"1N",
        b"1Sn",
        b"1SS",
        b"+1S",
        b"-1S",
        b"1.5S",
        b"1e3n",
        b" 1S",
        b"1S ",
        b"1 S",
        b"\t1S",
        b"1\0S",
        b"\xd9\xa1S",           // ARABIC-INDIC DIGIT ONE: not an ASCII digit
        "1µ".as_bytes(),        // micro sign is not `u`
        "\u{ff11}S".as_bytes(), // FULLWIDTH DIGIT ONE
        b"1\xff",
        b"\xff",
    ];
    for input in cases {
        let err = parse_grpc_timeout(input).expect_err("must be rejected");
        assert_eq!(err.value(), String::from_utf8_lossy(input), "input {input:?}");
    }
}

#[test]
fn invalid_timeout_display_names_the_value_and_the_grammar() {
    let err = parse_str("5 seconds").unwrap_err();
    assert_eq!(
        err.to_string(),
        "malformed grpc-timeout: \"5 seconds\" (expected 1-8 digits followed by one of H M S m u n)"
    );
}

#[test]
fn invalid_timeout_display_escapes_control_bytes() {
    let err = parse_grpc_timeout(b"1\n\"S").unwrap_err();
    assert!(err.to_string().starts_with(r#"malformed grpc-timeout: "1\n\"S" "#));
}

#[test]
fn invalid_timeout_keeps_at_most_32_chars_of_a_long_value() {
    let input = "é".repeat(40);
    let err = parse_str(&input).unwrap_err();
    assert_eq!(err.value(), "é".repeat(32) + "...");
    let exact = "x".repeat(32);
    assert_eq!(parse_str(&exact).unwrap_err().value(), exact);
}

#[test]
fn encode_picks_the_finest_unit_that_fits_at_each_boundary() {
    let cases: &[(Duration, &str)] = &[
        (Duration::ZERO, "0n"),
        (Duration::from_nanos(1), "1n"),
        (Duration::from_nanos(99_999_999 * NS), "99999999n"),
        (Duration::from_nanos(100_000_000), "100000u"),
        (Duration::from_nanos(99_999_999 * US), "99999999u"),
        (Duration::from_nanos(99_999_999 * US + 1), "100000m"),
        (Duration::from_secs(1), "1000000u"),
        (Duration::from_nanos(99_999_999 * MS), "99999999m"),
        (Duration::from_nanos(99_999_999 * MS + 1), "100000S"),
        (Duration::from_secs(100), "100000m"),
        (Duration::from_secs(99_999_999), "99999999S"),
        (Duration::new(99_999_999, 1), "1666667M"),
        (Duration::from_secs(99_999_999 * 60), "99999999M"),
        (Duration::new(99_999_999 * 60, 1), "1666667H"),
        (Duration::from_secs(99_999_999 * 3_600), "99999999H"),
    ];
    for (duration, want) in cases {
        assert_eq!(encode_grpc_timeout(*duration), *want, "duration {duration:?}");
    }
}

#[test]
fn encode_rounds_up_one_nanosecond_over_a_unit_boundary() {
    assert_eq!(encode_grpc_timeout(Duration::from_nanos(100_000_001)), "100001u");
    assert_eq!(encode_grpc_timeout(Duration::from_nanos(100_000 * MS + 1)), "100001m");
    assert_eq!(encode_grpc_timeout(Duration::new(100_000, 1)), "100001S");
    assert_eq!(encode_grpc_timeout(Duration::new(1_666_667 * 60, 1)), "1666668M");
    assert_eq!(encode_grpc_timeout(Duration::new(2_000_000 * 3_600, 1)), "2000001H");
}

#[test]
fn encode_clamps_huge_durations_to_99999999_hours() {
    assert_eq!(encode_grpc_timeout(Duration::new(99_999_999 * 3_600, 1)), "99999999H");
    assert_eq!(encode_grpc_timeout(Duration::from_secs(u64::MAX)), "99999999H");
    assert_eq!(encode_grpc_timeout(Duration::MAX), "99999999H");
}

#[test]
fn encode_zero_is_0n() {
    assert_eq!(encode_grpc_timeout(Duration::ZERO), "0n");
    assert_eq!(parse_str("0n"), Ok(Duration::ZERO));
}

#[test]
fn encode_output_always_fits_the_grammar() {
    for d in [Duration::ZERO, Duration::from_secs(1), Duration::MAX] {
        let encoded = encode_grpc_timeout(d);
        assert!(encoded.len() <= MAX_DIGITS + 1, "{encoded}");
        assert!(parse_str(&encoded).is_ok(), "{encoded}");
    }
}

/// Durations over the whole range, weighted so that every unit gets chosen.
fn any_duration() -> impl Strategy<Value = Duration> {
    let max_h: u64 = MAX_VALUE * 3_600;
    prop_oneof![
        (0..10 * S).prop_map(Duration::from_nanos),
        any::<u64>().prop_map(Duration::from_nanos),
        (0..=max_h + 1, 0..1_000_000_000u32).prop_map(|(s, n)| Duration::new(s, n)),
        (any::<u64>(), 0..1_000_000_000u32).prop_map(|(s, n)| Duration::new(s, n)),
        // Near each unit's switch-over point, where rounding up matters.
        (0..UNITS.len(), -3i128..=3).prop_map(|(i, delta)| {
            let edge = i128::from(MAX_VALUE) * UNITS[i].1 as i128 + delta;
            let nanos = u128::try_from(edge.max(0)).unwrap_or(0);
            let secs = u64::try_from(nanos / 1_000_000_000).unwrap_or(u64::MAX);
            Duration::new(secs, (nanos % 1_000_000_000) as u32)
        }),
        Just(Duration::MAX),
    ]
}

proptest! {
    #[test]
    fn parse_of_encode_is_at_least_the_duration_and_less_than_one_unit_over(d in any_duration()) {
        let encoded = encode_grpc_timeout(d);
        let back = parse_grpc_timeout(encoded.as_bytes()).expect("encoder output parses");
        let max = Duration::from_secs(MAX_VALUE * 3_600);
        if d > max {
            prop_assert_eq!(encoded, "99999999H");
            prop_assert_eq!(back, max);
        } else {
            prop_assert!(back >= d, "{:?} -> {} -> {:?}", d, encoded, back);
            prop_assert!((back - d).as_nanos() < unit_nanos_of(&encoded), "{:?} -> {}", d, encoded);
        }
    }

    #[test]
    fn parse_never_panics_on_any_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..16)) {
        let _ = parse_grpc_timeout(&bytes);
    }

    #[test]
    fn accepted_values_reencode_and_parse_to_the_same_duration(
        value in "[0-9]{1,8}[HMSmun]|[0-9+ -]{0,10}[HMSmunsx]?",
    ) {
        if let Ok(d) = parse_grpc_timeout(value.as_bytes()) {
            // A parsed value is a whole number of units and never over 99999999H, so the
            // encoder finds an exact encoding in the same or a finer unit.
            let again = parse_grpc_timeout(encode_grpc_timeout(d).as_bytes());
            prop_assert_eq!(again, Ok(d));
        }
    }
}
