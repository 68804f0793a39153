//! Unit tests of the streaming [`Decoder`], named as the behaviour they pin down.

use super::*;

/// The wire encoding of one uncompressed message.
fn wire(body: &[u8]) -> Bytes {
    let mut out = Vec::with_capacity(HEADER_LEN + body.len());
    let len = u32::try_from(body.len()).unwrap();
    out.extend_from_slice(&FrameHeader { compressed: false, len }.to_bytes());
    out.extend_from_slice(body);
    out.into()
}

fn body_of(message: Option<RawMessage>) -> Bytes {
    message.expect("a whole message").data
}

#[test]
fn decode_resumes_after_prefix_split_at_every_offset() {
    let input = wire(b"hello");
    for at in 0..=input.len() {
        let mut decoder = Decoder::new();
        decoder.push(input.slice(..at));
        if at < input.len() {
            assert_eq!(decoder.next(), Ok(None), "split at {at}");
        }
        decoder.push(input.slice(at..));
        assert_eq!(&body_of(decoder.next().unwrap())[..], b"hello", "split at {at}");
        assert_eq!(decoder.next(), Ok(None));
        assert_eq!(decoder.finish(), Ok(()));
    }
}

#[test]
fn decode_resumes_when_fed_one_byte_at_a_time() {
    let input = wire(b"abc");
    let mut decoder = Decoder::new();
    for i in 0..input.len() {
        assert_eq!(decoder.next(), Ok(None));
        decoder.push(input.slice(i..=i));
    }
    assert_eq!(&body_of(decoder.next().unwrap())[..], b"abc");
}

#[test]
fn decode_assembles_a_message_split_across_three_chunks_in_one_reservation() {
    let body: Vec<u8> = (0..100).collect();
    let input = wire(&body);
    let mut decoder = Decoder::new();
    decoder.push(input.slice(..20));
    assert_eq!(decoder.next(), Ok(None));
    let partial = decoder.partial.as_ref().expect("assembly started");
    let (ptr, cap) = (partial.as_ptr(), partial.capacity());
    assert_eq!(cap, 100, "reserved exactly the body length");
    decoder.push(input.slice(20..60));
    assert_eq!(decoder.next(), Ok(None));
    let partial = decoder.partial.as_ref().expect("assembly continues");
    assert_eq!((partial.as_ptr(), partial.capacity()), (ptr, cap), "never regrown");
    decoder.push(input.slice(60..));
    let data = body_of(decoder.next().unwrap());
    assert_eq!(&data[..], &body[..]);
    assert_eq!(data.as_ptr(), ptr, "the reserved buffer is the message");
}

#[test]
fn decode_returns_several_messages_from_one_chunk() {
    let mut input = Vec::new();
    for body in [&b"one"[..], b"", b"three"] {
        input.extend_from_slice(&wire(body));
    }
    let mut decoder = Decoder::new();
    decoder.push(input.into());
    assert_eq!(&body_of(decoder.next().unwrap())[..], b"one");
    assert_eq!(&body_of(decoder.next().unwrap())[..], b"");
    assert_eq!(&body_of(decoder.next().unwrap())[..], b"three");
    assert_eq!(decoder.next(), Ok(None));
    assert_eq!(decoder.buffered_len(), 0);
}

#[test]
fn decode_returns_a_zero_length_message_as_empty_data() {
    let mut decoder = Decoder::new();
    decoder.push(Bytes::from_static(&[0, 0, 0, 0, 0]));
    let message = decoder.next().unwrap();
    assert_eq!(message, Some(RawMessage { compressed: false, data: Bytes::new() }));
    assert_eq!(decoder.finish(), Ok(()));
}

#[test]
fn decode_ignores_empty_chunks() {
    let input = wire(b"xy");
    let mut decoder = Decoder::new();
    for piece in [input.slice(..3), Bytes::new(), input.slice(3..), Bytes::new()] {
        decoder.push(piece);
        decoder.push(Bytes::new());
    }
    assert!(decoder.queue.iter().all(|c| !c.is_empty()));
    assert_eq!(&body_of(decoder.next().unwrap())[..], b"xy");
    decoder.push(Bytes::new());
    assert_eq!(decoder.next(), Ok(None));
}

#[test]
fn decode_returns_a_message_inside_one_chunk_without_copying() {
    let mut input = wire(b"first").to_vec();
    input.extend_from_slice(&wire(b"second"));
    let chunk = Bytes::from(input);
    let range = chunk.as_ptr_range();
    let mut decoder = Decoder::new();
    decoder.push(chunk);
    for _ in 0..2 {
        let data = body_of(decoder.next().unwrap());
        assert!(range.contains(&data.as_ptr()), "data points into the pushed chunk");
    }
    assert!(decoder.partial.is_none());
}

#[test]
fn decode_rejects_length_over_max_before_allocating() {
    let mut decoder = Decoder::new();
    decoder.push(Bytes::from_static(&[0, 0xff, 0xff, 0xff]));
    assert_eq!(decoder.next(), Ok(None), "four bytes are not a prefix yet");
    decoder.push(Bytes::from_static(&[0xff]));
    let expected = DecodeError::TooLarge { len: 0xffff_ffff, max: DEFAULT_MAX_RECV_MESSAGE_LEN };
    assert_eq!(decoder.next(), Err(expected), "rejected on the fifth byte");
    assert!(decoder.partial.is_none(), "nothing was reserved for the body");
    assert_eq!(decoder.buffered_len(), 0);
}

#[test]
fn decode_reserves_nothing_before_the_first_body_byte() {
    let mut decoder = Decoder::with_max_len(1 << 20);
    decoder.push(Bytes::from_static(&[0, 0, 0x10, 0, 0])); // 1 MiB announced
    assert_eq!(decoder.next(), Ok(None));
    assert!(decoder.partial.is_none());
    decoder.push(Bytes::from_static(&[7]));
    assert_eq!(decoder.next(), Ok(None));
    assert_eq!(decoder.partial.as_ref().map(BytesMut::capacity), Some(1 << 20));
}

#[test]
fn decode_accepts_length_exactly_max_and_rejects_max_plus_one() {
    let mut decoder = Decoder::with_max_len(4);
    decoder.push(wire(b"four"));
    assert_eq!(&body_of(decoder.next().unwrap())[..], b"four");
    decoder.push(wire(b"five!"));
    assert_eq!(decoder.next(), Err(DecodeError::TooLarge { len: 5, max: 4 }));
}

#[test]
fn decode_rejects_every_flag_from_2_to_255() {
    for flag in 2..=u8::MAX {
        let mut decoder = Decoder::new();
        decoder.set_compression_negotiated(true);
        decoder.push(Bytes::from(vec![flag, 0, 0, 0, 1, 0]));
        assert_eq!(decoder.next(), Err(DecodeError::BadFlag(flag)));
    }
}

#[test]
fn decode_rejects_flag_1_without_negotiated_compression() {
    let mut decoder = Decoder::new();
    decoder.push(Bytes::from_static(&[1, 0, 0, 0, 1, 0xaa]));
    assert_eq!(decoder.next(), Err(DecodeError::CompressedWithoutEncoding));
}

#[test]
fn decode_passes_flag_1_through_when_compression_is_negotiated() {
    let mut decoder = Decoder::new();
    decoder.set_compression_negotiated(true);
    decoder.push(Bytes::from_static(&[1, 0, 0, 0, 1, 0xaa, 0, 0, 0, 0, 0]));
    let message = decoder.next().unwrap().unwrap();
    assert!(message.compressed);
    assert_eq!(&message.data[..], &[0xaa]);
    assert!(!decoder.next().unwrap().unwrap().compressed, "flag is per message");
}

#[test]
fn finish_reports_truncation_inside_the_prefix() {
    for got in 1..HEADER_LEN {
        let mut decoder = Decoder::new();
        decoder.push(wire(b"abc").slice(..got));
        assert_eq!(decoder.next(), Ok(None));
        let expected = DecodeError::Truncated { expected: HEADER_LEN, got };
        assert_eq!(decoder.finish(), Err(expected));
    }
}

#[test]
fn finish_reports_truncation_inside_the_body() {
    let input = wire(b"abcdef");
    for got in 0..6 {
        let mut decoder = Decoder::new();
        decoder.push(input.slice(..HEADER_LEN + got));
        assert_eq!(decoder.next(), Ok(None));
        let expected = DecodeError::Truncated { expected: 6, got };
        assert_eq!(decoder.finish(), Err(expected), "{got} body bytes");
    }
}

#[test]
fn finish_on_undrained_input_agrees_with_next() {
    let mut decoder = Decoder::with_max_len(3);
    decoder.push(wire(b"ab"));
    decoder.push(wire(b"c"));
    assert_eq!(decoder.finish(), Ok(()), "whole messages are not truncated");
    decoder.push(wire(b"long"));
    let too_large = DecodeError::TooLarge { len: 4, max: 3 };
    assert_eq!(decoder.finish(), Err(too_large.clone()));
    assert!(decoder.next().unwrap().is_some());
    assert!(decoder.next().unwrap().is_some());
    assert_eq!(decoder.next(), Err(too_large));
}

#[test]
fn finish_counts_only_the_current_body_as_partly_assembled() {
    let big = wire(&[5; 100]);
    let mut decoder = Decoder::new();
    decoder.push(big.slice(..20));
    assert_eq!(decoder.next(), Ok(None));
    decoder.push(big.slice(20..));
    decoder.push(wire(b"ab").slice(..6));
    let expected = DecodeError::Truncated { expected: 2, got: 1 };
    assert_eq!(decoder.finish(), Err(expected.clone()));
    assert_eq!(body_of(decoder.next().unwrap()).len(), 100);
    assert_eq!(decoder.next(), Ok(None));
    assert_eq!(decoder.finish(), Err(expected));
}

#[test]
fn decode_errors_are_final() {
    let mut decoder = Decoder::new();
    decoder.push(Bytes::from_static(&[9, 0, 0, 0, 0]));
    assert_eq!(decoder.next(), Err(DecodeError::BadFlag(9)));
    decoder.push(wire(b"fine"));
    assert_eq!(decoder.buffered_len(), 0, "pushes after an error are dropped");
    assert_eq!(decoder.next(), Err(DecodeError::BadFlag(9)));
    assert_eq!(decoder.finish(), Err(DecodeError::BadFlag(9)));
}

#[test]
fn set_max_len_applies_from_the_next_prefix() {
    let mut decoder = Decoder::with_max_len(10);
    let input = wire(b"0123456789");
    decoder.push(input.slice(..7));
    assert_eq!(decoder.next(), Ok(None));
    decoder.set_max_len(1);
    decoder.push(input.slice(7..));
    assert_eq!(body_of(decoder.next().unwrap()).len(), 10);
    decoder.push(wire(b"xy"));
    assert_eq!(decoder.next(), Err(DecodeError::TooLarge { len: 2, max: 1 }));
}

#[test]
fn buffered_len_counts_a_consumed_prefix_until_its_body_is_returned() {
    let mut decoder = Decoder::new();
    decoder.push(wire(b"abcd").slice(..7));
    assert_eq!(decoder.next(), Ok(None));
    assert_eq!(decoder.buffered_len(), 7);
    decoder.push(Bytes::from_static(b"cd"));
    assert_eq!(decoder.buffered_len(), 9);
    assert!(decoder.next().unwrap().is_some());
    assert_eq!(decoder.buffered_len(), 0);
}

#[test]
fn decode_all_rejects_what_the_decoder_rejects() {
    let cases: [(&[u8], DecodeError); 3] = [
        (&[0, 0, 0], DecodeError::Truncated { expected: 5, got: 3 }),
        (&[3, 0, 0, 0, 0], DecodeError::BadFlag(3)),
        (&[0, 0, 0, 0, 2, 1], DecodeError::Truncated { expected: 2, got: 1 }),
    ];
    for (input, error) in cases {
        assert_eq!(decode_all(Bytes::copy_from_slice(input), 8), Err(error));
    }
}
