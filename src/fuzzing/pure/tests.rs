use super::*;

#[test]
fn decode_messages_accepts_empty_and_short_inputs() {
    for len in 0..12 {
        decode_messages(&[0xff; 12][..len]);
        decode_messages(&[0x0d; 12][..len]);
    }
}

#[test]
fn decode_messages_agrees_on_a_message_split_byte_by_byte() {
    // flags: compression, default limit; 1 size of 1 byte; drain after every chunk.
    let mut data = vec![0x0d, 1, 1, 0xff];
    data.extend_from_slice(&[0, 0, 0, 0, 3, b'a', b'b', b'c', 1, 0, 0, 0, 0, 7]);
    decode_messages(&data);
}

#[test]
fn status_trailers_round_trips_statuses_and_maps() {
    status_trailers(b"");
    // grpc-status: 14, grpc-message: "a%20b", then an INTERNAL status with details.
    let mut data = vec![2, 0, 2, b'1', b'4', 1, 5, b'a', b'%', b'2', b'0', b'b'];
    data.extend_from_slice(&[13, 4, b'o', b'o', b'p', b's', 1, 1, 0x81, 2, 0xab, 0xcd]);
    status_trailers(&data);
}

#[test]
fn grpc_message_decoding_keeps_valid_utf8_and_marks_the_rest() {
    for raw in [
        &b"plain"[..],
        b"%e2%98%BA ok",
        b"100% %zz %4",
        b"%FF%FE then \xe2\x98",
        b"\xff\xfe%41",
        b"%",
        b"%%%25",
    ] {
        check_grpc_message(raw);
    }
}

#[test]
fn decode_messages_reencodes_what_it_accepts() {
    // Two messages, one compressed, whole: the re-encoding must equal the input.
    let mut data = vec![0x0d, 0, 0xff];
    data.extend_from_slice(&[0, 0, 0, 0, 2, 7, 8, 1, 0, 0, 0, 1, 9]);
    decode_messages(&data);
}

#[test]
fn grpc_timeout_checks_values_and_durations() {
    for value in [&b"1S"[..], b"99999999H", b"0n", b"123456789S", b"1s", b"", b"S"] {
        grpc_timeout(value);
    }
    grpc_timeout(&[0xff; 12]);
    grpc_timeout(&[0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1]);
}

#[test]
fn metadata_round_trips_text_and_binary_values() {
    metadata(b"");
    // map: x-trace-bin "q6ur"; then append_bin x-trace-bin [0xab], append a "v".
    let data = [1, 1, 4, b'q', b'6', b'u', b'r', 2, 0x81, 1, 0xab, 2, 1, b'v'];
    metadata(&data);
}
