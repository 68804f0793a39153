//! `frames_h2`: the trace tap's HTTP/2 frame decoder ([`FrameReader`]) against `h2`'s server.
//!
//! The input is read as a client's frame sequence that an HTTP/2 server must accept: SETTINGS
//! with valid values, PINGs, WINDOW_UPDATEs, PRIORITY, requests on new odd streams (HEADERS,
//! CONTINUATION), DATA within the flow-control windows, RST_STREAM on open streams, frames of
//! unknown types. Some frames are then damaged at the frame layer only: 1 to 4 bytes added
//! to or cut from the payload (the length field follows), or the PADDED, PRIORITY or ACK flag
//! flipped, so the payload no longer fits its type's rules, or still does.
//!
//! The same bytes go to the tap decoder and, after the preface and an empty SETTINGS, to an
//! `h2` server (followed by a PING whose ACK says the server read everything). The oracle:
//! the tap decoder reports no [`FramePayload::Malformed`] frame exactly when `h2` ends the
//! connection with no error, except where the two legitimately differ, each written out in
//! [`legitimate`]: the tap decodes frames, not HPACK, and knows no connection state.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::frames::{self, frame, FieldMode};
use super::input::Cursor;
use crate::trace::{FramePayload, FrameReader};

/// At most this many frames are read from one input.
const MAX_FRAMES: usize = 128;

/// The opaque data of the closing PING.
const MARKER: u64 = 0x6832_6772_7063_2121;

/// DATA bytes a sequence may carry: below the 65,535-byte connection window, with room for
/// the bytes damage adds.
const DATA_BUDGET: usize = 60_000 - 4 * MAX_FRAMES;

const PRIORITY: u8 = 0x2;

/// What one input turned into: the client's bytes after the preface, and whether any frame
/// was damaged (for the tests).
#[derive(Debug)]
pub(crate) struct Case {
    pub(crate) bytes: Vec<u8>,
    /// The frames damaged, in order: type, and how (0 bytes added, 1 cut, 2 PADDED flipped,
    /// 3 ACK flipped for SETTINGS and PING, PRIORITY for the others).
    pub(crate) damaged: Vec<(u8, u8)>,
}

/// How `h2`'s server ended.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// It answered the closing PING: every frame was accepted.
    Accepted,
    /// It sent GOAWAY with this error code.
    Refused(u32),
}

/// Runs the differential on fuzz bytes; see the module docs.
pub fn frames_h2(bytes: &[u8]) {
    let case = read_case(bytes);
    let tap = tap_malformed(&case.bytes);
    let verdict = super::RUNTIME.with(|runtime| runtime.block_on(serve(&case.bytes)));
    let agree = match (&tap, &verdict) {
        (None, Verdict::Accepted) | (Some(_), Verdict::Refused(_)) => true,
        _ => legitimate(tap, &verdict, &case.damaged),
    };
    assert!(agree, "the tap decoder says {tap:?}, h2's server {verdict:?}: {case:?}");
}

/// The differences between a frame decoder and a whole HTTP/2 server.
fn legitimate(tap: Option<&'static str>, verdict: &Verdict, damaged: &[(u8, u8)]) -> bool {
    let header_block =
        damaged.iter().any(|&(ty, _)| ty == frames::HEADERS || ty == frames::CONTINUATION);
    let settings_ack = damaged.contains(&(frames::SETTINGS, 3));
    match (tap, verdict) {
        // A damaged header block (bytes added or cut, or a PADDED or PRIORITY flag that moves
        // where the block starts) is bad HPACK, COMPRESSION_ERROR, or decodes to fields h2
        // refuses, PROTOCOL_ERROR: HPACK and HTTP rules, after the frame layer the tap
        // decodes and no concern of it.
        (None, Verdict::Refused(0x9 | 0x1)) if header_block => true,
        // An empty SETTINGS turned into an ACK is well-formed; whether the server had a
        // SETTINGS to acknowledge is connection state (h2: "received unexpected settings
        // ack", PROTOCOL_ERROR).
        (None, Verdict::Refused(0x1)) => settings_ack,
        _ => false,
    }
}

/// The reason of the first frame the tap decoder calls malformed, if any.
fn tap_malformed(bytes: &[u8]) -> Option<&'static str> {
    let mut reader = FrameReader::new();
    reader.push(frames::PREFACE);
    reader.push(bytes);
    std::iter::from_fn(|| reader.next_frame()).find_map(|f| match f.payload {
        FramePayload::Malformed { reason } => Some(reason),
        _ => None,
    })
}

/// Plays the preface, an empty SETTINGS, `bytes` and a PING to an `h2` server.
async fn serve(bytes: &[u8]) -> Verdict {
    let (mut client, server_io) = tokio::io::duplex(1 << 20);
    let server = tokio::spawn(async move {
        let Ok(mut conn) = h2::server::handshake(server_io).await else { return };
        // Requests are kept, unread: their streams stay open, DATA stays within the windows.
        let mut held = Vec::new();
        while let Some(Ok(request)) = conn.accept().await {
            held.push(request);
        }
    });
    let mut out = frames::PREFACE.to_vec();
    frame(&mut out, frames::SETTINGS, 0, 0, &[]);
    out.extend_from_slice(bytes);
    frame(&mut out, frames::PING, 0, 0, &MARKER.to_be_bytes());
    let verdict = tokio::time::timeout(Duration::from_secs(10), async {
        // The duplex holds all of it: no write waits for a read.
        let _ = client.write_all(&out).await;
        let mut reader = FrameReader::new();
        let mut buf = vec![0; 16 * 1024];
        loop {
            while let Some(f) = reader.next_frame() {
                match f.payload {
                    FramePayload::Ping { opaque }
                        if f.flags & frames::ACK != 0 && opaque == MARKER.to_be_bytes() =>
                    {
                        return Verdict::Accepted
                    }
                    FramePayload::GoAway { code, .. } => return Verdict::Refused(code),
                    _ => {}
                }
            }
            match client.read(&mut buf).await {
                Ok(0) | Err(_) => return Verdict::Refused(u32::MAX),
                Ok(n) => reader.push(&buf[..n]),
            }
        }
    });
    let verdict = verdict.await.expect("h2's server neither answered the PING nor ended");
    drop(client);
    server.await.expect("the h2 server task");
    verdict
}

/// The client's state while reading a case: streams it opened and may still send on.
#[derive(Default)]
struct Client {
    next_stream: u32,
    open: Vec<u32>,
    data_left: usize,
}

/// Reads a frame sequence (and its damage) from fuzz bytes; see the module docs.
pub(crate) fn read_case(bytes: &[u8]) -> Case {
    let mut input = Cursor::new(bytes);
    let mut client = Client { next_stream: 1, data_left: DATA_BUDGET, ..Client::default() };
    let mut case = Case { bytes: Vec::new(), damaged: Vec::new() };
    for _ in 0..MAX_FRAMES {
        if input.is_empty() {
            break;
        }
        for (ty, flags, stream, payload) in client.next(&mut input) {
            let (flags, payload) = damage(&mut input, ty, flags, payload, &mut case.damaged);
            frame(&mut case.bytes, ty, flags, stream, &payload);
        }
    }
    case
}

type RawFrame = (u8, u8, u32, Vec<u8>);

impl Client {
    /// The next frame(s) the input asks for, valid for an HTTP/2 server in this state.
    fn next(&mut self, input: &mut Cursor<'_>) -> Vec<RawFrame> {
        match input.u8() % 8 {
            0 => {
                let mut payload = Vec::new();
                for _ in 0..input.u8() % 4 {
                    let (id, value) = setting(input.u8(), input.u32());
                    payload.extend_from_slice(&id.to_be_bytes());
                    payload.extend_from_slice(&value.to_be_bytes());
                }
                vec![(frames::SETTINGS, 0, 0, payload)]
            }
            1 => {
                // Never the closing PING's data: its ACK would end the run early.
                let data = Some(input.u64()).filter(|&d| d != MARKER).unwrap_or(0);
                vec![(frames::PING, 0, 0, data.to_be_bytes().to_vec())]
            }
            2 => {
                let stream = self.pick(input).unwrap_or(0);
                let increment = 1 + u32::from(input.u16());
                vec![(frames::WINDOW_UPDATE, 0, stream, increment.to_be_bytes().to_vec())]
            }
            3 => {
                // Any stream but 0, depending on stream 0.
                let stream = 1 + u32::from(input.u16());
                vec![(PRIORITY, 0, stream, vec![0, 0, 0, 0, input.u8()])]
            }
            4 if self.next_stream < 2 * 8 => self.request(input),
            5 => {
                let Some(stream) = self.pick(input) else { return Vec::new() };
                let len = usize::from(input.u16() % 4096).min(self.data_left);
                self.data_left -= len;
                let end = input.bool();
                if end {
                    self.open.retain(|&s| s != stream);
                }
                let padded = input.bool().then(|| input.u8() % 16);
                let flags = u8::from(end) | padded.map_or(0, |_| frames::PADDED);
                vec![(frames::DATA, flags, stream, padded_payload(padded, &vec![0x5a; len]))]
            }
            6 => {
                let Some(stream) = self.pick(input) else { return Vec::new() };
                self.open.retain(|&s| s != stream);
                vec![(frames::RST_STREAM, 0, stream, input.u32().to_be_bytes().to_vec())]
            }
            _ => {
                let ty = 10 + input.u8() % 246;
                vec![(ty, input.u8(), input.u32() & 0x7fff_ffff, input.bytes8().to_vec())]
            }
        }
    }

    fn pick(&self, input: &mut Cursor<'_>) -> Option<u32> {
        let at = usize::from(input.u8());
        (!self.open.is_empty()).then(|| self.open[at % self.open.len()])
    }

    /// A request on the next stream: HEADERS (PADDED, PRIORITY as asked), then CONTINUATION
    /// frames when the block is split.
    fn request(&mut self, input: &mut Cursor<'_>) -> Vec<RawFrame> {
        let stream = self.next_stream;
        self.next_stream += 2;
        let mut block = Vec::new();
        // A field value h2 takes: visible ASCII (a NUL is PROTOCOL_ERROR, not a frame matter).
        let extra: Vec<u8> = input.bytes8().iter().map(|b| b'!' + b % 94).collect();
        for (name, value) in [
            (&b":method"[..], &b"POST"[..]),
            (b":scheme", b"http"),
            (b":authority", b"localhost"),
            (b":path", b"/fuzz.Echo/Unary"),
            (b"x-extra", &extra),
        ] {
            frames::field(&mut block, FieldMode::Literal, name, value);
        }
        let end_stream = input.bool();
        if !end_stream {
            self.open.push(stream);
        }
        let split = usize::from(input.u8() % 64);
        let (first, rest) = match split {
            0 => (&block[..], &[][..]),
            n => block.split_at(n.min(block.len())),
        };
        let padded = input.bool().then(|| input.u8() % 16);
        let mut payload = match input.bool() {
            true => vec![0, 0, 0, 0, input.u8()],
            false => Vec::new(),
        };
        let priority = if payload.is_empty() { 0 } else { frames::PRIORITY_FLAG };
        payload.extend_from_slice(first);
        let end_headers = if rest.is_empty() { frames::END_HEADERS } else { 0 };
        let flags =
            u8::from(end_stream) | end_headers | priority | padded.map_or(0, |_| frames::PADDED);
        let mut out = vec![(frames::HEADERS, flags, stream, padded_payload(padded, &payload))];
        let pieces: Vec<&[u8]> = rest.chunks(split.max(1)).collect();
        for (i, piece) in pieces.iter().enumerate() {
            let flags = if i + 1 == pieces.len() { frames::END_HEADERS } else { 0 };
            out.push((frames::CONTINUATION, flags, stream, piece.to_vec()));
        }
        out
    }
}

/// A SETTINGS parameter with a value an HTTP/2 server must accept from a client.
fn setting(pick: u8, value: u32) -> (u16, u32) {
    match pick % 7 {
        0 => (1, value),     // HEADER_TABLE_SIZE
        1 => (2, value & 1), // ENABLE_PUSH: 0 or 1
        2 => (3, value),     // MAX_CONCURRENT_STREAMS
        // INITIAL_WINDOW_SIZE below 2^30: with every WINDOW_UPDATE a case may add to a
        // stream (< 2^23), the stream's window stays under 2^31 - 1 (else FLOW_CONTROL_ERROR).
        3 => (4, value % (1 << 30)),
        4 => (5, 16_384 + value % (16_777_215 - 16_384 + 1)), // MAX_FRAME_SIZE
        5 => (6, value),                                      // MAX_HEADER_LIST_SIZE
        _ => (0x10 + u16::from(pick >> 3), value),            // unknown: ignored
    }
}

/// `data` after a Pad Length byte and that many zeros, when padded.
fn padded_payload(pad: Option<u8>, data: &[u8]) -> Vec<u8> {
    let Some(pad) = pad else { return data.to_vec() };
    let mut out = vec![pad];
    out.extend_from_slice(data);
    out.resize(out.len() + usize::from(pad), 0);
    out
}

/// Damages one frame at the frame layer, one time in four.
fn damage(
    input: &mut Cursor<'_>,
    ty: u8,
    mut flags: u8,
    mut payload: Vec<u8>,
    damaged: &mut Vec<(u8, u8)>,
) -> (u8, Vec<u8>) {
    let what = input.u8();
    if what & 3 != 0 {
        return (flags, payload);
    }
    let n = usize::from(what >> 2 & 3) + 1;
    let how = what >> 4 & 3;
    damaged.push((ty, how));
    match how {
        0 => payload.resize(payload.len() + n, 0),
        1 => payload.truncate(payload.len().saturating_sub(n)),
        2 => flags ^= frames::PADDED,
        _ => match ty {
            frames::SETTINGS | frames::PING => flags ^= frames::ACK,
            _ => flags ^= frames::PRIORITY_FLAG,
        },
    }
    (flags, payload)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(bytes: &[u8]) -> (Option<&'static str>, Verdict) {
        let case = read_case(bytes);
        let verdict = crate::fuzzing::RUNTIME.with(|rt| rt.block_on(serve(&case.bytes)));
        (tap_malformed(&case.bytes), verdict)
    }

    /// A request on stream 1 that does not end it: no extra field, one frame, no padding,
    /// no priority; then the damage byte.
    const REQUEST: [u8; 6] = [4, 0, 0, 0, 0, 0];
    const NO_DAMAGE: u8 = 1;

    #[test]
    fn valid_sequences_are_accepted_by_both() {
        let mut bytes = REQUEST.to_vec();
        bytes.push(NO_DAMAGE);
        bytes.extend_from_slice(&[5, 0, 0, 16, 0, 0, NO_DAMAGE]); // 16 bytes of DATA
        bytes.extend_from_slice(&[1, 1, 2, 3, 4, 5, 6, 7, 8, NO_DAMAGE]); // PING
        bytes.extend_from_slice(&[2, 0, 0, 1, NO_DAMAGE]); // WINDOW_UPDATE stream 1, +2
        bytes.extend_from_slice(&[7, 0, 0, 0, 0, 0, 3, 2, b'h', b'i', NO_DAMAGE]); // type 10
        bytes.extend_from_slice(&[0, 2, 3, 0, 0, 0, 9, 4, 0, 0, 0, 0, NO_DAMAGE]); // SETTINGS
        let case = read_case(&bytes);
        assert_eq!(case.damaged, []);
        assert_eq!(run(&bytes), (None, Verdict::Accepted));
        frames_h2(&bytes);
    }

    #[test]
    fn a_ping_one_byte_short_is_malformed_for_both() {
        // PING, then damage: cut (0b01 << 4) one byte (0 << 2).
        let bytes = [1, 1, 2, 3, 4, 5, 6, 7, 8, 0b0001_0000];
        assert_eq!(read_case(&bytes).damaged, [(frames::PING, 1)]);
        let (tap, verdict) = run(&bytes);
        assert_eq!(tap, Some("PING payload is not 8 bytes"));
        // PROTOCOL_ERROR: h2 answers every frame it cannot load so (framed_read.rs), where
        // RFC 9113 §6.7 asks for FRAME_SIZE_ERROR; either is a connection error.
        assert_eq!(verdict, Verdict::Refused(0x1));
        frames_h2(&bytes);
    }

    #[test]
    fn padded_data_without_room_for_its_pad_length_is_malformed_for_both() {
        // A request, then empty DATA whose PADDED flag is flipped on (0b10 << 4).
        let mut bytes = REQUEST.to_vec();
        bytes.push(NO_DAMAGE);
        bytes.extend_from_slice(&[5, 0, 0, 0, 0, 0, 0b0010_0000]);
        let (tap, verdict) = run(&bytes);
        assert_eq!(tap, Some("padding longer than the payload"));
        assert!(matches!(verdict, Verdict::Refused(_)), "{verdict:?}");
        frames_h2(&bytes);
    }

    #[test]
    fn a_settings_ack_with_parameters_is_malformed_for_both() {
        // SETTINGS with one parameter (HEADER_TABLE_SIZE 0), its ACK flag flipped on.
        let bytes = [0, 1, 0, 0, 0, 0, 0, 0b0011_0000];
        let (tap, verdict) = run(&bytes);
        assert_eq!(tap, Some("SETTINGS ACK with parameters"));
        assert_eq!(verdict, Verdict::Refused(0x1));
        frames_h2(&bytes);
    }
}
