use super::hpack::Field;
use super::*;
use bytes::Bytes;
use tokio::io::AsyncWriteExt;

trait Io: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send {}
impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send> Io for T {}

const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

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
    let len = payload.len();
    let mut f = vec![(len >> 16) as u8, (len >> 8) as u8, len as u8, kind, flags];
    f.extend(stream_id.to_be_bytes());
    f.extend(payload);
    f
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
            Box::new(AuthorityFilter::new(server, 16 * 1024))
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

    let (mut client, server) = tokio::io::duplex(1 << 16);
    client.write_all(&input).await.unwrap();
    drop(client);
    let mut filtered = Vec::new();
    tokio::io::AsyncReadExt::read_to_end(
        &mut AuthorityFilter::new(server, 16 * 1024),
        &mut filtered,
    )
    .await
    .unwrap();
    assert_eq!(filtered, input);
}

#[tokio::test]
async fn a_malformed_block_is_left_for_h2_to_refuse() {
    let mut input = PREFACE.to_vec();
    // Index 70 does not exist: h2 must see the original bytes and fail the connection.
    input.extend(frame(HEADERS, END_HEADERS | END_STREAM, 1, &[0x80 | 70]));
    input.extend(frame(0x0, 0, 1, b"after"));
    let (mut client, server) = tokio::io::duplex(1 << 16);
    client.write_all(&input).await.unwrap();
    drop(client);
    let mut filtered = Vec::new();
    tokio::io::AsyncReadExt::read_to_end(
        &mut AuthorityFilter::new(server, 16 * 1024),
        &mut filtered,
    )
    .await
    .unwrap();
    assert_eq!(filtered, input);
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
    write_header_frames(7, true, BytesMut::from(&vec![1u8; MAX_FRAME + 5][..]), &mut out);
    assert_eq!(&out[..9], &[0x00, 0x40, 0x00, HEADERS, END_STREAM, 0, 0, 0, 7]);
    let second = &out[9 + MAX_FRAME..];
    assert_eq!(&second[..9], &[0, 0, 5, CONTINUATION, END_HEADERS, 0, 0, 0, 7]);
    assert_eq!(second.len(), 9 + 5);
}
