//! Inputs for `authority_rewriter`: bytes read as a C-core-like client's requests, encoded
//! with a real HPACK encoder (`loona-hpack`, which indexes every new field in the dynamic
//! table) and framed as HEADERS + CONTINUATION. Shared by the fuzz target and the stable
//! corpus replay (`tests/fuzz_corpus.rs` includes this file).
//!
//! ```text
//! byte 0       read size of the server's socket: 1, 7, 100, 4096 or 65536
//! per request  authority, path, table-size byte (bit 7: a dynamic table size update to
//!              (b & 0x7f) * 32), field count (b % 6), then per field a name byte and a value
//!              byte (under 240: a short value; else (b - 239) * 8 KiB of 'x'), then a
//!              frame-count byte (how many frames the block is cut into, at least enough
//!              for 16 KiB frames)
//! ```

use h2grpc::__fuzz::{HeaderList, END_PING};

const AUTHORITIES: [&str; 5] =
    ["%2Ftmp%2Fh2grpc.sock", "localhost", "example.com:50051", "", "%2Frun%2Fa b"];
const PATHS: [&str; 3] = ["/grpc.testing.TestService/EmptyCall", "/a.B/C", "/x"];
const NAMES: [&str; 6] = ["x-a", "x-b", "user-agent", "grpc-timeout", "x-data-bin", "custom"];
const VALUES: [&str; 8] = ["", "1", "abc", "10S", "grpc-c/1.85", "AAEC", "x y z", "some value"];

/// A case: the client's bytes, the header list of each stream, the server's read size.
pub struct RewriterCase {
    pub bytes: Vec<u8>,
    pub sent: Vec<HeaderList>,
    pub read_size: usize,
}

fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8], out: &mut Vec<u8>) {
    let len = payload.len();
    out.extend_from_slice(&[(len >> 16) as u8, (len >> 8) as u8, len as u8, kind, flags]);
    out.extend_from_slice(&stream.to_be_bytes());
    out.extend_from_slice(payload);
}

impl RewriterCase {
    pub fn from_bytes(data: &[u8]) -> RewriterCase {
        let pos = std::cell::Cell::new(0);
        let next = || {
            let i = pos.get();
            pos.set(i + 1);
            data.get(i).copied().unwrap_or(0)
        };
        let next_is_end = || pos.get() >= data.len();
        let read_size = [1, 7, 100, 4096, 65536][usize::from(next()) % 5];
        let mut out = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec();
        frame(0x4, 0, 0, &[], &mut out);
        let mut encoder = loona_hpack::Encoder::new();
        let mut sent = Vec::new();
        while sent.len() < 12 {
            let mut list: HeaderList = vec![
                (b":method".to_vec(), b"POST".to_vec()),
                (b":scheme".to_vec(), b"http".to_vec()),
                (b":path".to_vec(), PATHS[usize::from(next()) % PATHS.len()].into()),
            ];
            let authority = AUTHORITIES[usize::from(next()) % AUTHORITIES.len()];
            list.insert(3, (b":authority".to_vec(), authority.into()));
            let mut block = Vec::new();
            let table = next();
            if table & 0x80 != 0 {
                let size = usize::from(table & 0x7f) * 32;
                // A dynamic table size update (RFC 7541 6.3): 001 and a 5-bit-prefix integer.
                let mut update = loona_hpack::encoder::encode_integer(size, 5);
                update[0] |= 0x20;
                block.extend(update);
                encoder.set_max_table_size(size);
            }
            for _ in 0..next() % 6 {
                let name = NAMES[usize::from(next()) % NAMES.len()];
                let value = match next() {
                    b @ 0..=239 => VALUES[usize::from(b) % VALUES.len()].as_bytes().to_vec(),
                    b => vec![b'x'; usize::from(b - 239) * 8192],
                };
                list.push((name.into(), value));
            }
            let fields = list.iter().map(|(n, v)| (&n[..], &v[..]));
            block.extend(encoder.encode(fields));
            let pieces = usize::from(next() % 3 + 1).max(block.len().div_ceil(16 * 1024));
            let stream = 2 * sent.len() as u32 + 1;
            let size = block.len().div_ceil(pieces).max(1);
            let chunks: Vec<&[u8]> = block.chunks(size).collect();
            for (i, chunk) in chunks.iter().enumerate() {
                let end_headers = if i + 1 == chunks.len() { 0x4 } else { 0 };
                let (kind, flags) =
                    if i == 0 { (0x1, 0x1 | end_headers) } else { (0x9, end_headers) };
                frame(kind, flags, stream, chunk, &mut out);
            }
            if chunks.is_empty() {
                frame(0x1, 0x5, stream, &[], &mut out);
            }
            sent.push(list);
            if next_is_end() {
                break;
            }
        }
        frame(0x6, 0, 0, &END_PING, &mut out);
        RewriterCase { bytes: out, sent, read_size }
    }
}
