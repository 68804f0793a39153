//! Throughput of the wire core: the Length-Prefixed-Message decoder and encoder.
//!
//! ```sh
//! cargo bench -p h2grpc --bench codec              # every case, about a minute and a half
//! cargo bench -p h2grpc --bench codec -- --quick   # a rough pass
//! cargo bench -p h2grpc --bench codec -- decode/1KiB
//! ```
//!
//! - `decode/<message>/<chunk>`: a stream of messages of one size, cut into chunks of one size
//!   (as DATA frames arrive), pushed into a [`Decoder`] and drained after every push. Chunks:
//!   512 B (small frames, the worst case), 16 KiB (HTTP/2's default `SETTINGS_MAX_FRAME_SIZE`)
//!   and 1 MiB (large frames).
//! - `encode/<message>`: `encode_message` of a `Payload { bytes data = 1; }` (prost + prefix)
//!   into a reused buffer, as a sender's outbox does.
//! - `encode_raw/<message>`: prefix + an already serialized body.
//!
//! Every case handles at least 256 KiB of wire bytes per iteration (one message when the message
//! is larger), and reports throughput in wire bytes per second.

use bytes::{Bytes, BytesMut};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use h2grpc::codec::{encode_message, encode_raw, Decoder, HEADER_LEN};
use std::hint::black_box;
use std::time::Duration;

/// The benchmark proto's `message Payload { bytes data = 1; }`.
#[derive(Clone, PartialEq, prost::Message)]
struct Payload {
    #[prost(bytes = "bytes", tag = "1")]
    data: Bytes,
}

const MESSAGE_SIZES: [(usize, &str); 5] =
    [(0, "0B"), (100, "100B"), (1024, "1KiB"), (64 * 1024, "64KiB"), (4 * 1024 * 1024, "4MiB")];

const CHUNK_SIZES: [(usize, &str); 3] =
    [(512, "512B"), (16 * 1024, "16KiB"), (1024 * 1024, "1MiB")];

/// Wire bytes per iteration, at least.
const BATCH_BYTES: usize = 256 * 1024;

/// How many messages of `size` bytes make one iteration.
fn batch(size: usize) -> usize {
    BATCH_BYTES.div_ceil(HEADER_LEN + size).max(1)
}

fn body(size: usize) -> Bytes {
    Bytes::from((0..size).map(|i| (i % 251) as u8).collect::<Vec<u8>>())
}

fn decode(c: &mut Criterion) {
    let mut group = c.benchmark_group("decode");
    group.warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(2));
    for (size, size_name) in MESSAGE_SIZES {
        let count = batch(size);
        let mut wire = BytesMut::new();
        let one = body(size);
        for _ in 0..count {
            encode_raw(&one, false, &mut wire).expect("encodable");
        }
        let wire = wire.freeze();
        group.throughput(Throughput::Bytes(wire.len() as u64));
        for (chunk, chunk_name) in CHUNK_SIZES {
            let chunks: Vec<Bytes> = (0..wire.len())
                .step_by(chunk)
                .map(|at| wire.slice(at..wire.len().min(at + chunk)))
                .collect();
            group.bench_with_input(
                BenchmarkId::new(size_name, chunk_name),
                &chunks,
                |b, chunks| {
                    b.iter(|| {
                        let mut decoder = Decoder::with_max_len(8 << 20);
                        let mut decoded = 0usize;
                        for c in chunks {
                            decoder.push(c.clone());
                            while let Some(message) = decoder.next().expect("valid stream") {
                                decoded += black_box(message.data).len();
                            }
                        }
                        decoder.finish().expect("whole messages");
                        assert_eq!(decoded, count * size);
                    });
                },
            );
        }
    }
    group.finish();
}

fn encode(c: &mut Criterion) {
    let mut group = c.benchmark_group("encode");
    group.warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(2));
    for (size, size_name) in MESSAGE_SIZES {
        let count = batch(size);
        let message = Payload { data: body(size) };
        let mut buf = BytesMut::new();
        let wire: usize =
            (0..count).map(|_| encode_message(&message, usize::MAX, &mut buf).expect("fits")).sum();
        group.throughput(Throughput::Bytes(wire as u64));
        group.bench_with_input(BenchmarkId::from_parameter(size_name), &message, |b, message| {
            b.iter(|| {
                buf.clear();
                for _ in 0..count {
                    encode_message(black_box(message), usize::MAX, &mut buf).expect("fits");
                }
                black_box(&buf);
            });
        });
    }
    group.finish();

    let mut group = c.benchmark_group("encode_raw");
    group.warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(2));
    for (size, size_name) in MESSAGE_SIZES {
        let count = batch(size);
        let payload = body(size);
        group.throughput(Throughput::Bytes(((HEADER_LEN + size) * count) as u64));
        let mut buf = BytesMut::new();
        group.bench_with_input(BenchmarkId::from_parameter(size_name), &payload, |b, payload| {
            b.iter(|| {
                buf.clear();
                for _ in 0..count {
                    encode_raw(black_box(payload), false, &mut buf).expect("fits");
                }
                black_box(&buf);
            });
        });
    }
    group.finish();
}

criterion_group!(benches, decode, encode);
criterion_main!(benches);
