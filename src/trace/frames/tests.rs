use proptest::prelude::*;

use super::*;
use crate::h2wire::Head;

fn frame(kind: u8, flags: u8, stream_id: u32, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    Head { len: payload.len() as u32, kind, flags, stream_id }.write(&mut out);
    out.extend(payload);
    out
}

#[test]
fn the_client_preface_comes_first_and_only_at_the_start() {
    let mut wire = CLIENT_PREFACE.to_vec();
    wire.extend(frame(4, 1, 0, &[]));
    let decoded = frames(&wire);
    assert_eq!(decoded.len(), 2);
    assert_eq!(decoded[0].type_name(), "PREFACE");
    assert_eq!(decoded[1].to_string(), "SETTINGS stream 0, flags ACK, length 0");
    // A server's bytes start with a frame.
    assert_eq!(frames(&frame(4, 1, 0, &[]))[0].type_name(), "SETTINGS");
}

#[test]
fn a_message_split_over_frames_is_reported_by_the_frame_that_completes_it() {
    let message = [0, 0, 0, 0, 3, b'a', b'b', b'c', 0, 0, 0, 0, 0];
    let mut wire = frame(0, 0, 1, &message[..2]);
    wire.extend(frame(0, 0, 3, &[0, 0, 0, 0, 1, b'z']));
    wire.extend(frame(0, 0, 1, &message[2..7]));
    wire.extend(frame(0, 1, 1, &message[7..]));
    let decoded = frames(&wire);
    let data: Vec<_> = decoded
        .iter()
        .map(|f| match &f.payload {
            FramePayload::Data { messages, pending, .. } => (f.stream_id, messages.len(), *pending),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(data, [(1, 0, 2), (3, 1, 0), (1, 0, 7), (1, 2, 0)]);
    assert_eq!(
        decoded[3].to_string(),
        "DATA stream 1, flags END_STREAM, length 6\n    gRPC message flag 0, length 3: 61 62 63\n    \
         gRPC message flag 0, length 0"
    );
}

#[test]
fn padding_is_stripped_and_a_bad_pad_length_is_malformed() {
    let decoded = frames(&frame(0, 0x8, 1, &[2, 0, 0, 0, 0, 0, 9, 9]));
    match &decoded[0].payload {
        FramePayload::Data { data_len, padding, messages, .. } => {
            assert_eq!((*data_len, *padding, messages.len()), (5, Some(2), 1));
        }
        other => panic!("{other:?}"),
    }
    let bad = frames(&frame(0, 0x8, 1, &[9, 0]));
    assert_eq!(
        bad[0].payload,
        FramePayload::Malformed { reason: "padding longer than the payload" }
    );
}

#[test]
fn settings_goaway_rst_stream_ping_and_window_update_are_named() {
    let mut wire = frame(4, 0, 0, &[0, 3, 0, 0, 4, 0, 0, 9, 0, 0, 0, 1]);
    wire.extend(frame(7, 0, 0, &[0x80, 0, 0, 5, 0, 0, 0, 0, b'b', b'y', b'e']));
    wire.extend(frame(3, 0, 5, &[0, 0, 0, 8]));
    wire.extend(frame(6, 1, 0, &[1, 2, 3, 4, 5, 6, 7, 8]));
    wire.extend(frame(8, 0, 0, &[0x80, 0, 1, 0]));
    let text: Vec<String> = frames(&wire).iter().map(|f| f.to_string()).collect();
    assert_eq!(
        text,
        [
            "SETTINGS stream 0, length 12\n    MAX_CONCURRENT_STREAMS = 1024\n    0x9 = 1",
            "GOAWAY stream 0, length 11\n    last stream 5, error code NO_ERROR (0x0), debug data \"bye\"",
            "RST_STREAM stream 5, length 4\n    error code CANCEL (0x8)",
            "PING stream 0, flags ACK, length 8\n    opaque data 01 02 03 04 05 06 07 08",
            "WINDOW_UPDATE stream 0, length 4\n    increment 256",
        ]
    );
}

#[test]
fn wrong_sizes_are_malformed_and_decoding_goes_on() {
    let mut wire = frame(3, 0, 1, &[0, 0, 8]);
    wire.extend(frame(4, 0, 0, &[0; 5]));
    wire.extend(frame(6, 0, 0, &[0; 7]));
    wire.extend(frame(8, 0, 0, &[0; 5]));
    wire.extend(frame(7, 0, 0, &[0; 7]));
    wire.extend(frame(1, 0x20, 1, &[0; 4]));
    // A SETTINGS ACK with a parameter (found by the frames_h2 fuzz target: h2 refuses it).
    wire.extend(frame(4, 0x1, 0, &[0; 6]));
    wire.extend(frame(0xfa, 0, 0, &[1]));
    let decoded = frames(&wire);
    assert_eq!(decoded.len(), 8);
    assert!(decoded[..7].iter().all(|f| matches!(f.payload, FramePayload::Malformed { .. })));
    assert_eq!(decoded[7].payload, FramePayload::Unknown);
}

#[test]
fn an_incomplete_frame_waits_for_its_bytes() {
    let mut reader = FrameReader::new();
    let wire = frame(0, 0, 1, &[0, 0, 0, 0, 0]);
    reader.push(&wire[..10]);
    assert_eq!(reader.next_frame(), None);
    assert_eq!(reader.buffered_len(), 10);
    reader.push(&wire[10..]);
    assert!(reader.next_frame().is_some());
    assert_eq!(reader.buffered_len(), 0);
}

proptest! {
    #[test]
    fn pushing_in_pieces_gives_the_frames_of_pushing_at_once(
        bytes in prop::collection::vec(any::<u8>(), 0..300),
        preface in any::<bool>(),
        cuts in prop::collection::vec(any::<usize>(), 0..10),
    ) {
        let mut wire = if preface { CLIENT_PREFACE.to_vec() } else { vec![] };
        wire.extend(bytes);
        let whole = frames(&wire);
        let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (wire.len() + 1)).collect();
        cuts.push(0);
        cuts.push(wire.len());
        cuts.sort_unstable();
        let mut reader = FrameReader::new();
        let mut pieces = Vec::new();
        for w in cuts.windows(2) {
            reader.push(&wire[w[0]..w[1]]);
            pieces.extend(std::iter::from_fn(|| reader.next_frame()));
        }
        prop_assert_eq!(pieces, whole);
    }
}
