//! The bytes each [`Action`] puts on the wire.

use super::Action;
use crate::codec::FrameHeader;
use crate::fuzzing::frames::{self, FieldMode};

/// The bytes one action puts on the wire (nothing for the runner's own actions).
pub(crate) fn wire(action: &Action) -> Vec<u8> {
    let mut out = Vec::new();
    match action {
        Action::Preface => out.extend_from_slice(frames::PREFACE),
        Action::Raw(bytes) => out.extend_from_slice(bytes),
        Action::Frame { ty, flags, stream, payload } => {
            frames::frame(&mut out, *ty, *flags, *stream, payload)
        }
        Action::Settings { ack, params } => {
            let payload: Vec<u8> = params
                .iter()
                .flat_map(|(id, value)| id.to_be_bytes().into_iter().chain(value.to_be_bytes()))
                .collect();
            let flags = if *ack { frames::ACK } else { 0 };
            frames::frame(&mut out, frames::SETTINGS, flags, 0, &payload);
        }
        Action::Headers { stream, flags, split, fields } => {
            headers(&mut out, *stream, *flags, usize::from(*split), fields)
        }
        Action::Data { stream, end_stream, pad, data } => {
            let mut flags = if *end_stream { frames::END_STREAM } else { 0 };
            let mut payload = Vec::new();
            if *pad > 0 {
                flags |= frames::PADDED;
                payload.push(pad - 1);
            }
            payload.extend_from_slice(data);
            payload.resize(payload.len() + usize::from(pad.saturating_sub(1)), 0);
            frames::frame(&mut out, frames::DATA, flags, *stream, &payload);
        }
        Action::Grpc { stream, end_stream, messages } => {
            let mut body = Vec::new();
            for (flag, len, message) in messages {
                let len = len.unwrap_or(message.len() as u32);
                let mut prefix = FrameHeader { compressed: false, len }.to_bytes();
                // The Compressed-Flag byte as the script says, whatever `codec` accepts.
                prefix[0] = *flag;
                body.extend_from_slice(&prefix);
                body.extend_from_slice(message);
            }
            let pieces: Vec<&[u8]> =
                if body.is_empty() { vec![&[]] } else { body.chunks(16 * 1024).collect() };
            for (i, piece) in pieces.iter().enumerate() {
                let last = i + 1 == pieces.len();
                let flags = if last && *end_stream { frames::END_STREAM } else { 0 };
                frames::frame(&mut out, frames::DATA, flags, *stream, piece);
            }
        }
        Action::Reset { stream, code } => {
            frames::frame(&mut out, frames::RST_STREAM, 0, *stream, &code.to_be_bytes())
        }
        Action::WindowUpdate { stream, increment } => {
            frames::frame(&mut out, frames::WINDOW_UPDATE, 0, *stream, &increment.to_be_bytes())
        }
        Action::Ping { ack, data } => {
            let flags = if *ack { frames::ACK } else { 0 };
            frames::frame(&mut out, frames::PING, flags, 0, &data.to_be_bytes());
        }
        Action::GoAway { last, code, debug } => {
            let mut payload = last.to_be_bytes().to_vec();
            payload.extend_from_slice(&code.to_be_bytes());
            payload.extend_from_slice(debug);
            frames::frame(&mut out, frames::GOAWAY, 0, 0, &payload);
        }
        Action::Chunk(_) | Action::Flush | Action::Reading(_) | Action::Call { .. } => {}
    }
    out
}

fn headers(
    out: &mut Vec<u8>,
    stream: u32,
    flags: u8,
    split: usize,
    fields: &[(FieldMode, Vec<u8>, Vec<u8>)],
) {
    let mut block = Vec::new();
    for (mode, name, value) in fields {
        frames::field(&mut block, *mode, name, value);
    }
    let end_headers = if flags & 8 == 0 { frames::END_HEADERS } else { 0 };
    let mut first_flags = if flags & 1 == 1 { frames::END_STREAM } else { 0 };
    let mut payload = Vec::new();
    if flags & 4 != 0 {
        first_flags |= frames::PADDED;
        payload.push(3);
    }
    if flags & 2 != 0 {
        first_flags |= frames::PRIORITY_FLAG;
        payload.extend_from_slice(&[0, 0, 0, 0, 15]);
    }
    let pieces: Vec<&[u8]> = if split == 0 || split >= block.len() {
        vec![&block]
    } else {
        block.chunks(split).collect()
    };
    for (i, piece) in pieces.iter().enumerate() {
        let last = if i + 1 == pieces.len() { end_headers } else { 0 };
        if i == 0 {
            payload.extend_from_slice(piece);
            if flags & 4 != 0 {
                payload.extend_from_slice(&[0; 3]);
            }
            frames::frame(out, frames::HEADERS, first_flags | last, stream, &payload);
        } else {
            frames::frame(out, frames::CONTINUATION, last, stream, piece);
        }
    }
}
