//! Message sizes: empty to the 4 MiB default limit in every call kind and direction, one byte
//! over it on either side, raised limits, and a long stream of large messages.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use h2grpc::client::Channel;
use h2grpc::server::ResponseSink;
use h2grpc::{CallOptions, Code, Service, Status};

use crate::raw;
use crate::support::*;

const MIB: usize = 1 << 20;
/// The default receive limit on both sides: 4 MiB of message bytes (the 5-byte prefix aside).
const LIMIT: usize = 4 * MIB;

/// A payload whose encoded message is exactly `len` bytes (0, or at least 2: field tag and
/// length come first). Contents follow [`payload`]'s pattern; cached, as building large ones
/// is slow in debug builds and both ends compare against them.
fn sized(len: usize) -> Payload {
    static CACHE: OnceLock<Mutex<HashMap<usize, Payload>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    let mut cache = cache.lock().unwrap();
    cache
        .entry(len)
        .or_insert_with(|| {
            if len == 0 {
                return Payload::default();
            }
            let data = (1..=5)
                .filter_map(|k| len.checked_sub(1 + k))
                .find(|&d| prost::encoding::encoded_len_varint(d as u64) == len - 1 - d)
                .expect("an encodable length");
            let p = payload(data);
            assert_eq!(prost::Message::encoded_len(&p), len);
            p
        })
        .clone()
}

fn encoded_len(p: &Payload) -> usize {
    prost::Message::encoded_len(p)
}

async fn echo(channel: &Channel, p: &Payload) -> Result<Payload, Status> {
    Ok(channel.unary("/sizes.Svc/Echo", p, CallOptions::new()).await?.into_inner())
}

fn service() -> Service {
    Service::new("sizes.Svc")
        .unary("Echo", |_ctx, req: Payload| async move { Ok::<_, Status>(req) })
        // Replies with a message of `size` encoded bytes.
        .unary(
            "Make",
            |_ctx, req: StreamReq| async move { Ok::<_, Status>(sized(req.size as usize)) },
        )
        // Sends `count` messages of `size` encoded bytes.
        .server_streaming(
            "Download",
            |_ctx, req: StreamReq, mut sink: ResponseSink<Payload>| async move {
                let p = sized(req.size as usize);
                for _ in 0..req.count {
                    sink.send(&p).await?;
                }
                Ok(())
            },
        )
        // Checks every message's contents; answers with the count and total encoded size.
        .client_streaming("Upload", |_ctx, mut reqs| async move {
            let mut got = StreamReq::default();
            while let Some(p) = reqs.message().await? {
                let p: Payload = p;
                let len = encoded_len(&p);
                if p != sized(len) {
                    return Err(Status::data_loss(format!("message {} was corrupted", got.count)));
                }
                got.count += 1;
                got.size += len as u32;
            }
            Ok(got)
        })
        .bidi_streaming("Echo2", |_ctx, mut reqs, mut sink| async move {
            while let Some(p) = reqs.message().await? {
                let p: Payload = p;
                sink.send(p).await?;
            }
            Ok(())
        })
}

/// One message of `len` encoded bytes through each call kind, checked at the other end.
async fn every_kind_carries(channel: &Channel, len: usize) {
    let p = sized(len);
    let echoed = channel.unary::<_, Payload>("/sizes.Svc/Echo", &p, CallOptions::new()).await;
    assert!(echoed.unwrap().into_inner() == p, "unary echo of {len} bytes");

    let req = StreamReq { count: 1, size: len as u32 };
    let mut down = channel
        .server_streaming::<_, Payload>("/sizes.Svc/Download", &req, CallOptions::new())
        .await
        .unwrap();
    assert!(down.message().await.unwrap() == Some(p.clone()), "download of {len} bytes");
    assert_eq!(down.message().await.unwrap(), None);

    let mut up = channel
        .client_streaming::<Payload, StreamReq>("/sizes.Svc/Upload", CallOptions::new())
        .await
        .unwrap();
    up.send(&p).await.unwrap();
    let got = up.finish().await.unwrap().into_inner();
    assert_eq!(got, StreamReq { count: 1, size: len as u32 }, "upload of {len} bytes");

    let (mut tx, mut rx) = channel
        .bidi_streaming::<Payload, Payload>("/sizes.Svc/Echo2", CallOptions::new())
        .await
        .unwrap();
    tx.send(&p).await.unwrap();
    assert!(rx.message().await.unwrap() == Some(p.clone()), "bidi echo of {len} bytes");
    tx.close().await.unwrap();
    assert_eq!(rx.message().await.unwrap(), None);
}

#[tokio::test]
async fn zero_one_and_four_mebibyte_messages_cross_in_every_call_kind() {
    for transport in TRANSPORTS {
        let server = spawn_with(transport, vec![service()], |_| {});
        let channel = server.channel().await;
        for len in [0, MIB, LIMIT] {
            every_kind_carries(&channel, len).await;
        }
        server.stop().await;
    }
}

fn assert_too_large(status: &Status, len: usize, max: usize) {
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    assert_eq!(
        status.message(),
        format!("received message larger than max ({len} vs. {max})"),
        "{status:?}"
    );
}

#[tokio::test]
async fn a_message_over_the_limit_is_resource_exhausted_on_server_receive() {
    for transport in TRANSPORTS {
        let server = spawn_with(transport, vec![service()], |_| {});
        let channel = server.channel().await;
        let big = sized(LIMIT + 1);

        let err = channel
            .unary::<_, Payload>("/sizes.Svc/Echo", &big, CallOptions::new())
            .await
            .unwrap_err();
        assert_too_large(&err, LIMIT + 1, LIMIT);

        let mut up = channel
            .client_streaming::<Payload, StreamReq>("/sizes.Svc/Upload", CallOptions::new())
            .await
            .unwrap();
        up.send(sized(10)).await.unwrap();
        // The server may fail the call while this send is still in flight; the status comes
        // from `finish` either way.
        let _ = up.send(&big).await;
        assert_too_large(&up.finish().await.unwrap_err(), LIMIT + 1, LIMIT);

        // The connection survives: the next call at the limit goes through.
        assert_eq!(encoded_len(&echo(&channel, &sized(LIMIT)).await.unwrap()), LIMIT);
        server.stop().await;
    }
}

#[tokio::test]
async fn a_message_over_the_limit_is_resource_exhausted_on_client_receive() {
    for transport in TRANSPORTS {
        let server = spawn_with(transport, vec![service()], |_| {});
        let channel = server.channel().await;
        let too_big = StreamReq { count: 1, size: (LIMIT + 1) as u32 };

        let err = channel
            .unary::<_, Payload>("/sizes.Svc/Make", &too_big, CallOptions::new())
            .await
            .unwrap_err();
        assert_too_large(&err, LIMIT + 1, LIMIT);

        let req = StreamReq { count: 2, ..too_big };
        let mut down = channel
            .server_streaming::<_, Payload>("/sizes.Svc/Download", &req, CallOptions::new())
            .await
            .unwrap();
        assert_too_large(&down.message().await.unwrap_err(), LIMIT + 1, LIMIT);

        let ok = StreamReq { count: 1, size: LIMIT as u32 };
        let made = channel.unary::<_, Payload>("/sizes.Svc/Make", &ok, CallOptions::new()).await;
        assert_eq!(encoded_len(&made.unwrap().into_inner()), LIMIT);
        server.stop().await;
    }
}

#[tokio::test]
async fn an_oversized_length_prefix_is_refused_before_the_body_arrives() {
    for transport in TRANSPORTS {
        let server = spawn_with(transport, vec![service()], |_| {});
        let mut send = raw::connect(&server).await;
        let request = raw::request("/sizes.Svc/Echo").body(()).unwrap();
        let (response, mut body) = send.send_request(request, false).unwrap();
        // Only the 5-byte prefix of a 4 MiB + 1 message, and the stream left open.
        let mut prefix = vec![0];
        prefix.extend_from_slice(&(LIMIT as u32 + 1).to_be_bytes());
        body.send_data(prefix.into(), false).unwrap();
        let reply = tokio::time::timeout(std::time::Duration::from_secs(10), raw::read(response))
            .await
            .expect("the server answers without waiting for the message body");
        assert_too_large(&reply.status(), LIMIT + 1, LIMIT);
        server.stop().await;
    }
}

#[tokio::test]
async fn raised_receive_limits_apply_to_their_own_side_only() {
    for transport in TRANSPORTS {
        let server = spawn_with(transport, vec![service()], |b| {
            b.max_recv_message_len(2 * LIMIT);
        });
        let big = sized(LIMIT + 1);

        // The server takes it now, but a default channel refuses the echo.
        let default = server.channel().await;
        let err = default
            .unary::<_, Payload>("/sizes.Svc/Echo", &big, CallOptions::new())
            .await
            .unwrap_err();
        assert_too_large(&err, LIMIT + 1, LIMIT);

        let raised = Channel::builder(&server.target)
            .unwrap()
            .max_recv_message_len(2 * LIMIT)
            .connect()
            .await
            .unwrap();
        let echoed = raised.unary::<_, Payload>("/sizes.Svc/Echo", &big, CallOptions::new());
        assert!(echoed.await.unwrap().into_inner() == big);

        // And the raised server limit is still a limit.
        let err = raised
            .unary::<_, Payload>("/sizes.Svc/Echo", &sized(2 * LIMIT + 1), CallOptions::new())
            .await
            .unwrap_err();
        assert_too_large(&err, 2 * LIMIT + 1, 2 * LIMIT);
        server.stop().await;
    }
}

#[tokio::test]
async fn a_lowered_server_limit_rejects_what_the_default_accepts() {
    for transport in TRANSPORTS {
        let server = spawn_with(transport, vec![service()], |b| {
            b.max_recv_message_len(1024);
        });
        let channel = server.channel().await;
        assert_eq!(encoded_len(&echo(&channel, &sized(1024)).await.unwrap()), 1024);
        assert_too_large(&echo(&channel, &sized(1025)).await.unwrap_err(), 1025, 1024);
        server.stop().await;
    }
}

#[tokio::test]
async fn a_mebibyte_message_streams_64_times_each_way() {
    const COUNT: u32 = 64;
    for transport in TRANSPORTS {
        let server = spawn_with(transport, vec![service()], |_| {});
        let channel = server.channel().await;
        let p = sized(MIB);

        // Both directions at once: the requests go out from another task while the echoes
        // come back, so flow control works both ways at the same time. (One message of each
        // size per call kind is in `zero_one_and_four_mebibyte_messages_cross_in_every_call_kind`.)
        let (mut tx, mut rx) = channel
            .bidi_streaming::<Payload, Payload>("/sizes.Svc/Echo2", CallOptions::new())
            .await
            .unwrap();
        let sent = p.clone();
        let sender = tokio::spawn(async move {
            for _ in 0..COUNT {
                tx.send(&sent).await?;
            }
            tx.close().await
        });
        let mut echoed = 0;
        while let Some(m) = rx.message().await.unwrap() {
            assert!(m == p, "echo {echoed} differs");
            echoed += 1;
        }
        sender.await.unwrap().unwrap();
        assert_eq!(echoed, COUNT, "{transport:?}");

        server.stop().await;
    }
}
