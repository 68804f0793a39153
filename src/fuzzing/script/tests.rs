use super::*;
use crate::fuzzing::frames;
use crate::fuzzing::input::FuzzInput;

fn every_action() -> Script {
    Script::new()
        .preface()
        .raw(b"\x00\"\\x")
        .chunk(3)
        .frame(2, 0, 1, b"\x00\x00\x00\x00\x10")
        .settings(&[(4, 65535), (5, 1 << 20)])
        .settings_ack()
        .headers(1, false, &[(":method", "POST"), ("te", "trailers")])
        .headers_with(
            3,
            0x0f,
            2,
            &[
                (FieldMode::Raw, &b"\x82"[..], &b""[..]),
                (FieldMode::TableSize, &b"\x10"[..], &b""[..]),
            ],
        )
        .data(1, false, b"abc")
        .data_padded(1, true, 9, b"")
        .grpc(3, false, &[&b"x"[..], &b""[..]])
        .grpc_with(3, true, &[(7, Some(u32::MAX), &b"y"[..])])
        .reset(1, 8)
        .window_update(0, 1)
        .ping(true, 7)
        .goaway(1, 2, b"bye")
        .flush()
        .reading(false)
        .call(2, 100)
}

#[test]
fn from_bytes_reads_back_what_to_bytes_wrote() {
    let script = every_action();
    assert_eq!(Script::from_bytes(&script.to_bytes()), script);
}

#[test]
fn debug_prints_the_builder_calls() {
    let shown = format!("{:?}", every_action());
    assert!(shown.starts_with("Script::new()\n    .preface()\n    .raw(b\"\\x00\\\"\\\\x\")"));
    assert!(
        shown.contains(".headers(1, false, &[(\":method\", \"POST\"), (\"te\", \"trailers\")])")
    );
    assert!(shown.contains(".grpc_with(3, true, &[(7, Some(4294967295), &b\"y\"[..])])"));
    assert!(shown.contains(".grpc(3, false, &[&b\"x\"[..], &b\"\"[..]])"));
}

#[test]
fn any_bytes_are_a_script() {
    for len in 0..64 {
        let bytes: Vec<u8> = (0..len).map(|i| (i * 37 + 11) as u8).collect();
        let script = Script::from_bytes(&bytes);
        for action in script.actions() {
            let _ = wire(action);
        }
        let _ = format!("{script:?}");
    }
}

#[test]
fn headers_split_into_continuation_frames() {
    let action = Action::Headers {
        stream: 1,
        flags: 1,
        split: 4,
        fields: vec![(FieldMode::Literal, b"ab".to_vec(), b"cd".to_vec())],
    };
    let out = wire(&action);
    // Block: 00 02 a b 02 c d (7 bytes) -> HEADERS(4, END_STREAM) + CONTINUATION(3, END_HEADERS)
    assert_eq!(&out[..9], &[0, 0, 4, frames::HEADERS, frames::END_STREAM, 0, 0, 0, 1]);
    assert_eq!(&out[13..22], &[0, 0, 3, frames::CONTINUATION, frames::END_HEADERS, 0, 0, 0, 1]);
}
