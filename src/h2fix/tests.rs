use super::blocks::{headers_fragment, write_header_frames};
use super::*;
use crate::h2wire::flag::{END_HEADERS, END_STREAM, PADDED, PRIORITY};
use crate::h2wire::hpack::Field;
use crate::h2wire::{Head, CONTINUATION, HEADERS, MIN_MAX_FRAME_SIZE as MAX_FRAME};
use bytes::BufMut;
use bytes::Bytes;
use tokio::io::AsyncWriteExt;

trait Io: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send {}
impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send> Io for T {}

fn field(name: &'static str, value: &str) -> Field {
    Field {
        name: Bytes::from_static(name.as_bytes()),
        value: Bytes::copy_from_slice(value.as_bytes()),
        sensitive: false,
    }
}

fn request_fields(authority: &str) -> Vec<Field> {
    vec![
        field(":method", "POST"),
        field(":scheme", "http"),
        field(":path", "/grpc.testing.TestService/EmptyCall"),
        field(":authority", authority),
        field("te", "trailers"),
        field("content-type", "application/grpc"),
    ]
}

/// HPACK "literal with incremental indexing, new name" for every field, as C-core's encoder
/// does for a first request: the client's dynamic table now holds them.
fn indexed_literals(fields: &[Field]) -> BytesMut {
    let mut block = BytesMut::new();
    for f in fields {
        let mut one = BytesMut::new();
        hpack::encode([f], &mut one);
        one[0] = 0x40;
        block.unsplit(one);
    }
    block
}

fn frame(kind: u8, flags: u8, stream_id: u32, payload: &[u8]) -> Vec<u8> {
    let mut f = Vec::new();
    Head { len: payload.len() as u32, kind, flags, stream_id }.write(&mut f);
    f.extend(payload);
    f
}

/// Everything the filter hands over from `input`, read through to its end.
async fn filtered(input: &[u8]) -> Vec<u8> {
    let (mut client, server) = tokio::io::duplex(1 << 16);
    client.write_all(input).await.unwrap();
    drop(client);
    let mut filtered = Vec::new();
    let mut filter = AuthorityFilter::new(server, 16 * 1024, MAX_FRAME);
    tokio::io::AsyncReadExt::read_to_end(&mut filter, &mut filtered).await.unwrap();
    filtered
}

/// Runs an `h2` server behind the filter and returns the `:authority` of each request it
/// accepts from `client_bytes` (an error: the stream was refused).
async fn authorities_seen(
    client_bytes: Vec<u8>,
    requests: usize,
    filtered: bool,
) -> Vec<Result<String, String>> {
    let (mut client, server) = tokio::io::duplex(1 << 20);
    client.write_all(&client_bytes).await.unwrap();
    let server = tokio::spawn(async move {
        let io: Box<dyn Io> = if filtered {
            Box::new(AuthorityFilter::new(server, 16 * 1024, MAX_FRAME))
        } else {
            Box::new(server)
        };
        let mut conn = h2::server::handshake(io).await.unwrap();
        let mut seen = Vec::new();
        while seen.len() < requests {
            match conn.accept().await {
                Some(Ok((req, _respond))) => {
                    seen.push(Ok(req.uri().authority().map(|a| a.to_string()).unwrap_or_default()))
                }
                Some(Err(e)) => seen.push(Err(e.to_string())),
                None => break,
            }
        }
        seen
    });
    let seen = tokio::time::timeout(std::time::Duration::from_secs(5), server).await;
    drop(client);
    seen.expect("the server accepted every request in time").unwrap()
}

#[tokio::test]
async fn a_percent_encoded_socket_path_is_served_as_localhost_on_every_later_stream() {
    // C-core's first request: literals that enter the dynamic table.
    let first = request_fields("%2Ftmp%2Fh2grpc%2Finterop.sock");
    let mut bytes = PREFACE.to_vec();
    bytes.extend(frame(0x4, 0, 0, &[])); // SETTINGS
    bytes.extend(frame(HEADERS, END_HEADERS | END_STREAM, 1, &indexed_literals(&first)));
    // Its second request refers to those entries by index (62 = newest ... 67 = oldest), as an
    // HPACK encoder does for repeated fields: the rewritten `:authority` is entry 64.
    let refs: Vec<u8> = (62..=67).rev().map(|i| 0x80 | i).collect();
    bytes.extend(frame(HEADERS, END_HEADERS | END_STREAM, 3, &refs));
    // A third request with a valid authority, split over HEADERS + CONTINUATION with padding.
    let mut third = BytesMut::new();
    hpack::encode(&request_fields("example.com:50051"), &mut third);
    let (head, tail) = third.split_at(10);
    let mut padded = vec![3u8];
    padded.extend(head);
    padded.extend([0, 0, 0]);
    bytes.extend(frame(HEADERS, PADDED | END_STREAM, 5, &padded));
    bytes.extend(frame(CONTINUATION, END_HEADERS, 5, tail));

    let seen = authorities_seen(bytes, 3, true).await;
    assert_eq!(
        seen,
        [
            Ok("localhost".to_owned()),
            Ok("localhost".to_owned()),
            Ok("example.com:50051".to_owned())
        ]
    );
}

/// The root cause, kept as a test: if `h2` ever accepts such an authority (hyperium/h2#487),
/// this fails and the filter can go.
#[tokio::test]
async fn h2_alone_refuses_a_percent_encoded_authority() {
    let mut bytes = PREFACE.to_vec();
    bytes.extend(frame(
        HEADERS,
        END_HEADERS | END_STREAM,
        1,
        &indexed_literals(&request_fields("%2Fx.sock")),
    ));
    let mut valid = BytesMut::new();
    hpack::encode(&request_fields("localhost"), &mut valid);
    bytes.extend(frame(HEADERS, END_HEADERS | END_STREAM, 3, &valid));
    // h2 resets stream 1 with PROTOCOL_ERROR and only hands over stream 3.
    assert_eq!(authorities_seen(bytes, 1, false).await, [Ok("localhost".to_owned())]);
}

#[tokio::test]
async fn valid_authorities_pass_through_byte_for_byte() {
    let mut block = indexed_literals(&request_fields("localhost"));
    // A Huffman-coded value too: "www.example.com" (RFC 7541 C.4.1) under :authority's index.
    block.put_slice(&[
        0x41, 0x8c, 0xf1, 0xe3, 0xc2, 0xe5, 0xf2, 0x3a, 0x6b, 0xa0, 0xab, 0x90, 0xf4, 0xff,
    ]);
    let mut input = PREFACE.to_vec();
    input.extend(frame(HEADERS, END_HEADERS, 1, &block));
    input.extend(frame(0x0, END_STREAM, 1, b"\0\0\0\0\0"));
    assert_eq!(filtered(&input).await, input);
}

#[tokio::test]
async fn a_malformed_block_is_left_for_h2_to_refuse() {
    let mut input = PREFACE.to_vec();
    // Index 70 does not exist: h2 must see the original bytes and fail the connection.
    input.extend(frame(HEADERS, END_HEADERS | END_STREAM, 1, &[0x80 | 70]));
    input.extend(frame(0x0, 0, 1, b"after"));
    assert_eq!(filtered(&input).await, input);
}

#[test]
fn headers_fragment_strips_padding_and_priority() {
    assert_eq!(headers_fragment(b"abc", 0), Some(&b"abc"[..]));
    assert_eq!(headers_fragment(&[2, b'a', 0, 0], PADDED), Some(&b"a"[..]));
    assert_eq!(headers_fragment(&[0, 0, 0, 1, 9, b'a'], PRIORITY), Some(&b"a"[..]));
    assert_eq!(headers_fragment(&[9, b'a'], PADDED), None);
    assert_eq!(headers_fragment(&[0, 0], PRIORITY), None);
}

#[test]
fn write_header_frames_splits_into_continuations() {
    let mut out = BytesMut::new();
    let block = BytesMut::from(&vec![1u8; MAX_FRAME + 5][..]);
    write_header_frames(7, true, block, MAX_FRAME, &mut out);
    assert_eq!(&out[..9], &[0x00, 0x40, 0x00, HEADERS, END_STREAM, 0, 0, 0, 7]);
    let second = &out[9 + MAX_FRAME..];
    assert_eq!(&second[..9], &[0, 0, 5, CONTINUATION, END_HEADERS, 0, 0, 0, 7]);
    assert_eq!(second.len(), 9 + 5);
}

/// A socket that hands over `data` in reads of at most `chunks[i % chunks.len()]` bytes, then
/// ends (`eof`) or stays silent. Writes go nowhere.
struct Chunked {
    data: Vec<u8>,
    pos: usize,
    chunks: Vec<usize>,
    reads: usize,
    eof: bool,
}

impl Chunked {
    fn new(data: Vec<u8>, chunks: &[usize], eof: bool) -> Chunked {
        Chunked { data, pos: 0, chunks: chunks.to_vec(), reads: 0, eof }
    }
}

impl Chunked {
    /// The next read, or `None` while silent.
    fn next_read(&mut self, room: usize) -> Option<&[u8]> {
        if self.pos == self.data.len() && !self.eof {
            return None;
        }
        let chunk = self.chunks[self.reads % self.chunks.len()];
        self.reads += 1;
        let n = chunk.min(room).min(self.data.len() - self.pos);
        self.pos += n;
        Some(&self.data[self.pos - n..self.pos])
    }
}

impl tokio::io::AsyncRead for Chunked {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.next_read(buf.remaining()) {
            Some(read) => {
                buf.put_slice(read);
                Poll::Ready(Ok(()))
            }
            None => Poll::Pending,
        }
    }
}

impl tokio::io::AsyncWrite for Chunked {
    fn poll_write(self: Pin<&mut Self>, _: &mut Context<'_>, b: &[u8]) -> Poll<io::Result<usize>> {
        Poll::Ready(Ok(b.len()))
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// Everything the filter hands over from `input`, read in `chunks` from the socket and with
/// buffers of `reads[i]` bytes (the last size repeating), and the filter afterwards.
async fn filter_all(
    input: &[u8],
    chunks: &[usize],
    reads: &[usize],
) -> (Vec<u8>, AuthorityFilter<Chunked>) {
    let mut filter =
        AuthorityFilter::new(Chunked::new(input.to_vec(), chunks, true), 64 * 1024, MAX_FRAME);
    let mut output = Vec::new();
    for i in 0.. {
        let mut buf = vec![0; reads[i.min(reads.len() - 1)]];
        let n = tokio::io::AsyncReadExt::read(&mut filter, &mut buf).await.unwrap();
        if n == 0 {
            break;
        }
        output.extend(&buf[..n]);
    }
    (output, filter)
}

/// The socket chunkings and read sizes the tests below try: every split of the first bytes,
/// reads smaller and larger than frames.
const CHUNKS: &[&[usize]] = &[&[1], &[2, 7, 3], &[9], &[100, 1], &[8192], &[usize::MAX]];
const READS: &[&[usize]] = &[&[1], &[5, 64], &[8192], &[70_000]];

/// HTTP/2 frames as (type, flags, stream, payload) after the preface.
fn frames_of(mut bytes: &[u8]) -> Vec<(u8, u8, u32, Vec<u8>)> {
    assert_eq!(&bytes[..PREFACE.len()], PREFACE);
    bytes = &bytes[PREFACE.len()..];
    let mut frames = Vec::new();
    while let Some(head) = Head::parse(bytes) {
        let (len, id) = (head.payload_len(), head.stream_id);
        frames.push((head.kind, head.flags, id, bytes[9..9 + len].to_vec()));
        bytes = &bytes[9 + len..];
    }
    assert!(bytes.is_empty());
    frames
}

/// The header lists `h2` decodes from `bytes`, in order (blocks without padding or priority).
fn header_lists(bytes: &[u8]) -> Vec<Vec<(Bytes, Bytes)>> {
    let mut decoder = hpack::Decoder::new(HEADER_TABLE_SIZE);
    let mut lists = Vec::new();
    let mut block = Vec::new();
    for (kind, flags, _, payload) in frames_of(bytes) {
        if kind == HEADERS || kind == CONTINUATION {
            block.extend(payload);
            if flags & END_HEADERS != 0 {
                let fields = decoder.decode(&block, usize::MAX).unwrap().fields;
                lists.push(fields.into_iter().map(|f| (f.name, f.value)).collect());
                block.clear();
            }
        }
    }
    lists
}

fn data_frames(bytes: &[u8]) -> Vec<(u8, u8, u32, Vec<u8>)> {
    frames_of(bytes).into_iter().filter(|f| f.0 != HEADERS && f.0 != CONTINUATION).collect()
}

fn pairs(fields: &[Field]) -> Vec<(Bytes, Bytes)> {
    fields.iter().map(|f| (f.name.clone(), f.value.clone())).collect()
}

/// A preface, SETTINGS and `first` (its fields entering the client's dynamic table) as stream
/// 1 with a 5-byte message.
fn connection_start(first: &[Field]) -> Vec<u8> {
    let mut bytes = PREFACE.to_vec();
    bytes.extend(frame(0x4, 0, 0, &[]));
    bytes.extend(frame(HEADERS, END_HEADERS, 1, &indexed_literals(first)));
    bytes.extend(frame(0x0, END_STREAM, 1, b"\0\0\0\0\0"));
    bytes
}

#[tokio::test]
async fn a_valid_first_authority_switches_to_pass_through_and_later_bytes_arrive_unchanged() {
    let mut input = connection_start(&request_fields("localhost"));
    // Later: a refused authority, a block that refers to the first one's entries, one that
    // does not decode at all, a PING, and half a frame. None of it is the filter's business.
    input.extend(frame(HEADERS, END_HEADERS, 3, &indexed_literals(&request_fields("%2Fa"))));
    let refs: Vec<u8> = (62..=67).map(|i| 0x80 | i).collect();
    input.extend(frame(HEADERS, END_HEADERS | END_STREAM, 5, &refs));
    input.extend(frame(HEADERS, END_HEADERS, 7, &[0x80 | 120]));
    input.extend(frame(0x6, 0, 0, &[1; 8]));
    input.extend(&frame(0x0, 0, 9, &[2; 100])[..50]);
    for chunks in CHUNKS {
        for reads in READS {
            let (output, filter) = filter_all(&input, chunks, reads).await;
            assert!(output == input, "chunks {chunks:?}, reads {reads:?}");
            assert_eq!(filter.mode, Mode::Passthrough);
            // Nothing is buffered any more: reads go straight into the caller's buffer.
            assert_eq!((filter.raw.capacity(), filter.out.capacity()), (0, 0));
        }
    }
}

/// The trade-off the module docs describe: after a valid first `:authority`, a refused one is
/// `h2`'s to answer (a reset stream), as if there were no filter.
#[tokio::test]
async fn after_a_valid_first_authority_h2_alone_answers_a_refused_one() {
    let mut bytes = connection_start(&request_fields("localhost"));
    bytes.extend(frame(HEADERS, END_HEADERS, 3, &indexed_literals(&request_fields("%2Fa"))));
    let mut valid = BytesMut::new();
    hpack::encode(&request_fields("example.com"), &mut valid);
    bytes.extend(frame(HEADERS, END_HEADERS | END_STREAM, 5, &valid));
    let seen = authorities_seen(bytes, 2, true).await;
    assert_eq!(seen, [Ok("localhost".to_owned()), Ok("example.com".to_owned())]);
}

#[tokio::test]
async fn a_bad_first_authority_still_rewrites_every_later_block_whatever_the_chunking() {
    let bad = request_fields("%2Ftmp%2Fa.sock");
    let mut input = connection_start(&bad);
    // Refers to the first block's entries: :authority is entry 64.
    let refs: Vec<u8> = (62..=67).rev().map(|i| 0x80 | i).collect();
    input.extend(frame(HEADERS, END_HEADERS, 3, &refs));
    input.extend(frame(0x0, 0, 3, &[7; 40_000]));
    // A valid authority, split over HEADERS + CONTINUATION: still re-encoded.
    let mut valid = BytesMut::new();
    hpack::encode(&request_fields("example.com"), &mut valid);
    input.extend(frame(HEADERS, 0, 5, &valid[..3]));
    input.extend(frame(CONTINUATION, END_HEADERS | END_STREAM, 5, &valid[3..]));
    input.extend(frame(0x3, 0, 3, &[0, 0, 0, 8]));

    let replaced = pairs(&request_fields("localhost"));
    let expected = [replaced.clone(), replaced, pairs(&request_fields("example.com"))];
    for chunks in CHUNKS {
        for reads in READS {
            let (output, filter) = filter_all(&input, chunks, reads).await;
            let context = format!("chunks {chunks:?}, reads {reads:?}");
            assert_eq!(filter.mode, Mode::Rewriting, "{context}");
            assert_eq!(header_lists(&output), expected, "{context}");
            assert_eq!(data_frames(&output), data_frames(&input), "{context}");
        }
    }
}

#[tokio::test]
async fn a_block_with_no_authority_before_the_first_keeps_watching() {
    let mut no_authority = request_fields("unused");
    no_authority.retain(|f| f.name != ":authority");
    let input = connection_start(&no_authority);
    let (output, filter) = filter_all(&input, &[usize::MAX], &[8192]).await;
    assert_eq!((output == input, filter.mode), (true, Mode::Watching));

    // A later refused authority is rewritten, its references to the first block decoded.
    let mut bad = input.clone();
    let mut block = vec![0x80 | 66, 0x80 | 62]; // :method and content-type from the first
    block.extend(&indexed_literals(&[field(":authority", "%2Fa")]));
    bad.extend(frame(HEADERS, END_HEADERS | END_STREAM, 3, &block));
    let (output, filter) = filter_all(&bad, &[3], &[8192]).await;
    assert_eq!(filter.mode, Mode::Rewriting);
    let lists = header_lists(&output);
    assert_eq!(lists[0], pairs(&no_authority));
    let second = [field(":method", "POST"), field("content-type", "application/grpc")];
    let mut second = pairs(&second);
    second.push((Bytes::from_static(b":authority"), Bytes::from_static(REPLACEMENT)));
    assert_eq!(lists[1], second);

    // A valid one ends watching.
    let mut valid = input.clone();
    valid.extend(frame(HEADERS, END_HEADERS, 3, &indexed_literals(&request_fields("a.b"))));
    let (output, filter) = filter_all(&valid, &[3], &[8192]).await;
    assert_eq!((output == valid, filter.mode), (true, Mode::Passthrough));
}

#[tokio::test]
async fn frames_larger_than_16_kib_pass_intact_in_every_mode() {
    // h2's largest SETTINGS_MAX_FRAME_SIZE, and a header block over 16 KiB in one frame.
    let data = frame(0x0, 0, 1, &vec![5; (1 << 24) - 1]);
    let mut big = request_fields("localhost");
    big.push(field("x-big", &"v".repeat(20_000)));
    for first in ["%2Fa", "localhost"] {
        let mut input = PREFACE.to_vec();
        input.extend(&data); // while watching
        input.extend(frame(HEADERS, END_HEADERS, 1, &indexed_literals(&request_fields(first))));
        input.extend(&data); // rewriting or passing through
        let mut block = BytesMut::new();
        hpack::encode(&big, &mut block);
        input.extend(frame(HEADERS, END_HEADERS, 3, &block));
        input.extend(frame(0x0, END_STREAM, 3, &vec![6; 100_000]));
        for chunks in [&[16_384 + 9][..], &[1 << 20, 7], &[usize::MAX]] {
            let (output, filter) = filter_all(&input, chunks, &[70_000, 1 << 20]).await;
            if first == "localhost" {
                assert!(output == input, "chunks {chunks:?}");
            } else {
                assert_eq!(filter.mode, Mode::Rewriting);
                assert_eq!(data_frames(&output), data_frames(&input), "chunks {chunks:?}");
                let lists = header_lists(&output);
                assert_eq!(lists[1], pairs(&big), "chunks {chunks:?}");
            }
        }
    }
}

/// A C-core connection (rewritten from its first block), then `second` as the next block, then
/// a block that refers to the first one's table entries. The filter's `limit` is 64 KiB.
async fn after_a_rewrite(second: &[u8]) -> (Vec<u8>, AuthorityFilter<Chunked>) {
    let first = request_fields("%2Ftmp%2Fs.sock");
    let mut input = PREFACE.to_vec();
    input.extend(frame(HEADERS, END_HEADERS | END_STREAM, 1, &indexed_literals(&first)));
    input.extend(frame(HEADERS, END_HEADERS | END_STREAM, 3, second));
    let refs: Vec<u8> = (62..=67).rev().map(|i| 0x80 | i).collect();
    input.extend(frame(HEADERS, END_HEADERS | END_STREAM, 5, &refs));
    filter_all(&input, &[usize::MAX], &[1 << 20]).await
}

fn big_field_block(len: usize) -> Vec<u8> {
    let refs: Vec<u8> = (62..=67).rev().map(|i| 0x80 | i).collect();
    let mut block = BytesMut::from(&refs[..]);
    hpack::encode(&[field("x-big", &"x".repeat(len))], &mut block);
    block.to_vec()
}

// Issue 14: a block over the limit used to switch a rewriting filter to Passthrough, and every
// later block of the C-core client reached h2 with its percent-encoded :authority (refused).
#[tokio::test]
async fn a_block_over_h2s_limit_after_a_rewrite_is_rewritten_and_the_next_one_too() {
    let (output, filter) = after_a_rewrite(&big_field_block(70 * 1024)).await;
    assert_eq!(filter.mode, Mode::Rewriting);
    assert_eq!(filter.breakdown().reason(), None);
    let lists = header_lists(&output);
    assert_eq!(lists.len(), 3);
    let want = pairs(&request_fields("localhost"));
    assert_eq!(lists[0], want);
    // Every field, the oversized one included, so that h2 refuses it as it would the original.
    assert_eq!(lists[1][..6], want[..]);
    assert_eq!(lists[1][6].1.len(), 70 * 1024);
    assert_eq!(lists[2], want);
}

#[tokio::test]
async fn a_block_over_four_times_the_limit_after_a_rewrite_ends_the_connection() {
    let (output, filter) = after_a_rewrite(&big_field_block(257 * 1024)).await;
    assert_eq!(filter.breakdown().reason(), Some(h2::Reason::ENHANCE_YOUR_CALM));
    // The first, rewritten block went to h2; nothing after it did.
    assert_eq!(header_lists(&output), [pairs(&request_fields("localhost"))]);
}

#[tokio::test]
async fn an_undecodable_block_after_a_rewrite_ends_the_connection_with_compression_error() {
    let (output, filter) = after_a_rewrite(&[0x80 | 70]).await;
    assert_eq!(filter.breakdown().reason(), Some(h2::Reason::COMPRESSION_ERROR));
    assert_eq!(header_lists(&output), [pairs(&request_fields("localhost"))]);
}

#[tokio::test]
async fn frames_out_of_place_after_a_rewrite_end_the_connection_with_protocol_error() {
    // HEADERS without END_HEADERS, then DATA where a CONTINUATION is due.
    let mut second = frame(HEADERS, 0, 3, &big_field_block(10));
    second.extend(frame(0x0, 0, 3, b"data"));
    let first = request_fields("%2Ftmp%2Fs.sock");
    let mut input = PREFACE.to_vec();
    input.extend(frame(HEADERS, END_HEADERS | END_STREAM, 1, &indexed_literals(&first)));
    input.extend(second);
    let (output, filter) = filter_all(&input, &[usize::MAX], &[1 << 20]).await;
    assert_eq!(filter.breakdown().reason(), Some(h2::Reason::PROTOCOL_ERROR));
    assert_eq!(header_lists(&output), [pairs(&request_fields("localhost"))]);
}
