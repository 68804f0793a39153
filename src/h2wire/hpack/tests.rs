use super::*;
use bytes::BytesMut;

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.split_whitespace().collect();
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}

fn text(b: &Bytes) -> &str {
    std::str::from_utf8(b).unwrap()
}

fn pairs(block: &Block) -> Vec<(&str, &str)> {
    block.fields.iter().map(|f| (text(&f.name), text(&f.value))).collect()
}

fn decode_rfc_requests(blocks: [&str; 3]) {
    let mut decoder = Decoder::new(4096);
    let mut want = vec![
        (":method", "GET"),
        (":scheme", "http"),
        (":path", "/"),
        (":authority", "www.example.com"),
    ];
    let block = decoder.decode(&hex(blocks[0]), 1 << 20).unwrap();
    assert_eq!(pairs(&block), want);
    assert_eq!(decoder.size, 57);
    want.push(("cache-control", "no-cache"));
    let block = decoder.decode(&hex(blocks[1]), 1 << 20).unwrap();
    assert_eq!(pairs(&block), want);
    assert_eq!(decoder.size, 110);
    let block = decoder.decode(&hex(blocks[2]), 1 << 20).unwrap();
    assert_eq!(
        pairs(&block),
        [
            (":method", "GET"),
            (":scheme", "https"),
            (":path", "/index.html"),
            (":authority", "www.example.com"),
            ("custom-key", "custom-value"),
        ]
    );
    assert_eq!(decoder.size, 164);
}

#[test]
fn decode_reads_rfc_7541_c3_requests_without_huffman() {
    decode_rfc_requests([
        "8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d",
        "8286 84be 5808 6e6f 2d63 6163 6865",
        "8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65",
    ]);
}

#[test]
fn decode_reads_rfc_7541_c4_requests_with_huffman() {
    decode_rfc_requests([
        "8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff",
        "8286 84be 5886 a8eb 1064 9cbf",
        "8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf",
    ]);
}

#[test]
fn encode_round_trips_through_decode_and_keeps_sensitivity() {
    let fields = vec![
        Field { name: ":authority".into(), value: "x".repeat(300).into(), sensitive: false },
        Field { name: "authorization".into(), value: "secret".into(), sensitive: true },
    ];
    let mut wire = BytesMut::new();
    encode(&fields, &mut wire);
    let mut decoder = Decoder::new(4096);
    assert_eq!(decoder.decode(&wire, 1 << 20).unwrap().fields, fields);
    assert_eq!(decoder.size, 0, "nothing was added to the table");
}

#[test]
fn decode_evicts_and_resizes_like_the_encoder() {
    let mut decoder = Decoder::new(100);
    // Literal with incremental indexing, new name: "aaaa" = "bbbb" (40 bytes with overhead).
    let entry = hex("40 04 61616161 04 62626262");
    decoder.decode(&[entry.clone(), entry.clone(), entry].concat(), 1 << 20).unwrap();
    assert_eq!((decoder.table.len(), decoder.size), (2, 80), "the oldest was evicted");
    // A size update to 0 empties it; one above SETTINGS_HEADER_TABLE_SIZE is an error.
    decoder.decode(&hex("20"), 1 << 20).unwrap();
    assert_eq!((decoder.table.len(), decoder.size), (0, 0));
    assert_eq!(
        decoder.decode(&hex("3f 46"), 1 << 20).unwrap_err(),
        DecodeError::BadSizeUpdate(101)
    );
}

#[test]
fn decode_rejects_bad_indexes_and_truncation() {
    let mut decoder = Decoder::new(4096);
    assert_eq!(decoder.decode(&hex("80"), 100).unwrap_err(), DecodeError::BadIndex(0));
    assert_eq!(decoder.decode(&hex("be"), 100).unwrap_err(), DecodeError::BadIndex(62));
    assert_eq!(decoder.decode(&hex("41 05 6162"), 100).unwrap_err(), DecodeError::Truncated);
    assert_eq!(
        decoder.decode(&hex("ff ff ff ff ff 7f"), 100).unwrap_err(),
        DecodeError::IntegerOverflow
    );
}

#[test]
fn decode_stops_keeping_fields_past_the_limit_but_keeps_the_table() {
    let mut decoder = Decoder::new(4096);
    // Insert one 1000-byte value, then reference it 100 times.
    let mut src = BytesMut::new();
    src.put_u8(0x40);
    encode_string(b"x", &mut src);
    encode_string(&[b'v'; 1000], &mut src);
    src.put_slice(&[0xbe; 100]);
    let decoded = decoder.decode(&src, 4000).unwrap();
    assert!(decoded.truncated);
    assert_eq!(decoded.fields.len(), 4, "kept until the list passed 4000 bytes");
    assert_eq!(decoder.table.len(), 1);
}
