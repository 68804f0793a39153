use http::HeaderValue;

use super::*;
use crate::codec::decode_all;

#[test]
fn identity_is_the_default_and_always_supported() {
    assert_eq!(Encoding::default(), Encoding::Identity);
    assert!(!Encoding::Identity.is_compressed());
    assert!(AcceptEncoding::default().contains(Encoding::Identity));
    assert!(AcceptEncoding::supported().contains(Encoding::Identity));
    assert_eq!(Encoding::SUPPORTED[0], Encoding::Identity);
}

#[test]
fn names_parse_ignoring_case_and_surrounding_spaces() {
    for encoding in Encoding::SUPPORTED.iter().copied() {
        assert_eq!(Encoding::from_name(encoding.name().as_bytes()), Some(encoding));
        let shouted = format!(" {} ", encoding.name().to_uppercase());
        assert_eq!(Encoding::from_name(shouted.as_bytes()), Some(encoding));
    }
    for unknown in ["", "snappy", "br", "zstd", "x-gzip", "identity,gzip"] {
        assert_eq!(Encoding::from_name(unknown.as_bytes()), None, "{unknown}");
    }
}

#[test]
fn grpc_encoding_absent_or_identity_means_uncompressed() {
    assert_eq!(parse_grpc_encoding(None), Ok(Encoding::Identity));
    let identity = HeaderValue::from_static("identity");
    assert_eq!(parse_grpc_encoding(Some(&identity)), Ok(Encoding::Identity));
}

#[test]
fn an_unknown_grpc_encoding_is_named_with_what_is_supported() {
    let snappy = HeaderValue::from_static("snappy");
    let err = parse_grpc_encoding(Some(&snappy)).unwrap_err();
    assert_eq!(err.name(), "snappy");
    let shown = err.to_string();
    assert!(shown.contains("\"snappy\""), "{shown}");
    assert!(shown.ends_with(&AcceptEncoding::supported().to_string()), "{shown}");
}

#[test]
fn accept_encoding_splits_on_commas_trims_and_joins_repeated_headers() {
    let values = [HeaderValue::from_static(" snappy ,identity"), HeaderValue::from_static("zstd")];
    let accept = AcceptEncoding::parse(&values);
    assert_eq!(accept, AcceptEncoding::default());
    assert_eq!(format!("{accept:?}"), "{Identity}");
    assert_eq!(AcceptEncoding::parse([]), AcceptEncoding::default());
}

#[test]
fn the_advertised_list_is_every_supported_encoding() {
    let header = AcceptEncoding::supported().to_header_value();
    let names: Vec<&str> = header.to_str().unwrap().split(',').collect();
    let supported: Vec<&str> = Encoding::SUPPORTED.iter().map(|e| e.name()).collect();
    assert_eq!(names, supported);
    assert_eq!(AcceptEncoding::parse([&header]), AcceptEncoding::supported());
    assert_eq!(header, ACCEPT_ENCODING);
}

#[test]
fn identity_decompression_still_enforces_the_limit() {
    assert_eq!(&decompress(Encoding::Identity, b"abc", 3).unwrap()[..], b"abc");
    assert_eq!(
        decompress(Encoding::Identity, b"abcd", 3),
        Err(DecodeError::DecompressedTooLarge { max: 3 })
    );
}

#[cfg(not(feature = "compression"))]
#[test]
fn without_the_feature_only_identity_is_spoken() {
    assert_eq!(Encoding::SUPPORTED, &[Encoding::Identity]);
    assert_eq!(AcceptEncoding::supported().to_header_value(), "identity");
    let gzip = HeaderValue::from_static("gzip");
    assert_eq!(parse_grpc_encoding(Some(&gzip)).unwrap_err().name(), "gzip");
}

#[cfg(feature = "compression")]
mod algorithms {
    use bytes::BytesMut;
    use proptest::prelude::*;

    use super::*;

    const COMPRESSED: [Encoding; 2] = [Encoding::Gzip, Encoding::Deflate];

    /// `hello gRPC` as Python's `gzip.compress(.., mtime=0)` and `zlib.compress` write it:
    /// what another implementation puts on the wire must decode.
    const PY_GZIP: &[u8] = &[
        31, 139, 8, 0, 0, 0, 0, 0, 2, 3, 203, 72, 205, 201, 201, 87, 72, 15, 10, 112, 6, 0, 237,
        145, 216, 88, 10, 0, 0, 0,
    ];
    const PY_ZLIB: &[u8] =
        &[120, 156, 203, 72, 205, 201, 201, 87, 72, 15, 10, 112, 6, 0, 20, 170, 3, 129];

    fn packed(encoding: Encoding, data: &[u8]) -> Vec<u8> {
        let mut dst = BytesMut::new();
        compress(encoding, data, &mut dst).unwrap();
        dst.to_vec()
    }

    #[test]
    fn every_supported_encoding_is_advertised() {
        assert_eq!(Encoding::SUPPORTED, &[Encoding::Identity, Encoding::Gzip, Encoding::Deflate]);
        assert_eq!(AcceptEncoding::supported().to_header_value(), "identity,gzip,deflate");
        let accept = AcceptEncoding::parse([&HeaderValue::from_static("gzip")]);
        assert!(accept.contains(Encoding::Gzip) && !accept.contains(Encoding::Deflate));
        assert_eq!(accept.to_string(), "identity,gzip");
    }

    #[test]
    fn another_implementations_gzip_and_zlib_decode() {
        assert_eq!(&decompress(Encoding::Gzip, PY_GZIP, 100).unwrap()[..], b"hello gRPC");
        assert_eq!(&decompress(Encoding::Deflate, PY_ZLIB, 100).unwrap()[..], b"hello gRPC");
    }

    #[test]
    fn gzip_is_rfc_1952_and_deflate_is_zlib_wrapped_not_raw() {
        let gzip = packed(Encoding::Gzip, b"hello gRPC");
        assert_eq!(gzip[..3], [0x1f, 0x8b, 8], "gzip magic and CM=8");
        let zlib = packed(Encoding::Deflate, b"hello gRPC");
        assert_eq!(zlib[0] & 0x0f, 8, "zlib CMF: CM=8 (deflate)");
        assert_eq!((u16::from(zlib[0]) << 8 | u16::from(zlib[1])) % 31, 0, "zlib FCHECK");
        // Raw deflate (what some implementations wrongly send as "deflate") is refused.
        let raw = &zlib[2..zlib.len() - 4];
        assert!(matches!(
            decompress(Encoding::Deflate, raw, 100),
            Err(DecodeError::Decompress { encoding: "deflate", .. })
        ));
    }

    #[test]
    fn decompression_stops_at_the_limit() {
        for encoding in COMPRESSED {
            let wire = packed(encoding, &[5; 1000]);
            assert_eq!(decompress(encoding, &wire, 1000).unwrap().len(), 1000);
            assert_eq!(
                decompress(encoding, &wire, 999),
                Err(DecodeError::DecompressedTooLarge { max: 999 })
            );
            assert_eq!(
                decompress(encoding, &wire, 0),
                Err(DecodeError::DecompressedTooLarge { max: 0 })
            );
        }
    }

    #[test]
    fn a_zip_bomb_is_refused_without_inflating_it() {
        // 64 MiB of zeros packs into about 64 KiB; the limit is 1 MiB.
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        let zeros = vec![0u8; 1 << 20];
        for _ in 0..64 {
            std::io::Write::write_all(&mut encoder, &zeros).unwrap();
        }
        let bomb = encoder.finish().unwrap();
        assert!(bomb.len() < 128 << 10, "{} bytes", bomb.len());
        let started = std::time::Instant::now();
        assert_eq!(
            decompress(Encoding::Gzip, &bomb, 1 << 20),
            Err(DecodeError::DecompressedTooLarge { max: 1 << 20 })
        );
        // Inflating all 64 MiB takes far longer than the first 1 MiB.
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
    }

    #[test]
    fn corrupt_truncated_and_trailing_input_is_a_decompress_error() {
        for encoding in COMPRESSED {
            let wire = packed(encoding, b"some message body, repeated, repeated, repeated");
            let name = encoding.name();
            let cases: [(&str, Vec<u8>); 5] = [
                ("empty", Vec::new()),
                ("garbage", b"definitely not compressed".to_vec()),
                ("truncated by one", wire[..wire.len() - 1].to_vec()),
                ("truncated by half", wire[..wire.len() / 2].to_vec()),
                ("trailing bytes", [&wire[..], b"xyz"].concat()),
            ];
            for (what, input) in cases {
                match decompress(encoding, &input, 1 << 20) {
                    Err(DecodeError::Decompress { encoding: got, reason }) => {
                        assert_eq!(got, name, "{name} {what}");
                        assert!(!reason.is_empty());
                    }
                    other => panic!("{name} {what}: {other:?}"),
                }
            }
        }
    }

    #[test]
    fn encode_compressed_leaves_the_empty_message_uncompressed() {
        for encoding in COMPRESSED {
            let mut dst = BytesMut::new();
            assert_eq!(encode_compressed(&(), encoding, 1024, &mut dst), Ok(5));
            assert_eq!(&dst[..], &[0, 0, 0, 0, 0]);
        }
    }

    #[test]
    fn encode_compressed_sends_uncompressed_what_does_not_shrink() {
        // A short string: gzip's 18 bytes of framing alone outweigh it.
        for encoding in COMPRESSED {
            let mut dst = BytesMut::new();
            let msg = String::from("hi");
            encode_compressed(&msg, encoding, 1024, &mut dst).unwrap();
            assert_eq!(&dst[..], &[0, 0, 0, 0, 4, 0x0a, 2, b'h', b'i']);
        }
    }

    #[test]
    fn encode_compressed_sets_the_flag_and_decodes_back() {
        let msg = vec![0u8; 10_000]; // a BytesValue of zeros: very compressible
        for encoding in COMPRESSED {
            let mut dst = BytesMut::new();
            let n = encode_compressed(&msg, encoding, usize::MAX, &mut dst).unwrap();
            assert_eq!(n, dst.len());
            assert!(n < 200, "{encoding}: {n} bytes");
            let frames = decode_all(dst.freeze(), 1 << 20).unwrap();
            assert!(frames[0].compressed);
            let body = decompress(encoding, &frames[0].data, 1 << 20).unwrap();
            assert_eq!(<Vec<u8> as prost::Message>::decode(body).unwrap(), msg);
        }
    }

    #[test]
    fn encode_compressed_checks_the_send_limit_before_compressing() {
        let msg = vec![0u8; 100]; // 102 bytes serialized, a few once compressed
        let mut dst = BytesMut::new();
        let err = encode_compressed(&msg, Encoding::Gzip, 101, &mut dst).unwrap_err();
        assert_eq!(err, EncodeError { len: 102, max: 101 });
        assert!(dst.is_empty());
    }

    #[test]
    fn encode_compressed_appends_after_earlier_messages() {
        let mut dst = BytesMut::new();
        encode_compressed(&String::from("first"), Encoding::Identity, 64, &mut dst).unwrap();
        let before = dst.len();
        encode_compressed(&vec![1u8; 4096], Encoding::Deflate, 1 << 20, &mut dst).unwrap();
        let frames = decode_all(dst.freeze(), 1 << 20).unwrap();
        assert_eq!(frames.len(), 2);
        assert_eq!(before, 5 + 7);
        assert!(!frames[0].compressed && frames[1].compressed);
    }

    proptest! {
        #[test]
        fn decompress_inverts_compress(
            data in prop::collection::vec(any::<u8>(), 0..4096),
            repeat in 1usize..64,
        ) {
            let data = data.repeat(repeat);
            for encoding in COMPRESSED {
                let wire = packed(encoding, &data);
                prop_assert_eq!(&decompress(encoding, &wire, data.len()).unwrap()[..], &data[..]);
                if !data.is_empty() {
                    prop_assert_eq!(
                        decompress(encoding, &wire, data.len() - 1),
                        Err(DecodeError::DecompressedTooLarge { max: data.len() - 1 })
                    );
                }
            }
        }

        #[test]
        fn decompress_never_panics_on_any_input(
            input in prop::collection::vec(any::<u8>(), 0..512),
            max in 0usize..2048,
        ) {
            for encoding in COMPRESSED {
                if let Ok(out) = decompress(encoding, &input, max) {
                    prop_assert!(out.len() <= max);
                }
            }
        }
    }
}
