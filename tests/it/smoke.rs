use h2grpc::{CallOptions, Service, Status};

use crate::support::*;

fn echo() -> Service {
    Service::new("test.Echo")
        .unary("Unary", |_ctx, req: Payload| async move { Ok::<_, Status>(req) })
        .server_streaming("Stream", |_ctx, req: StreamReq, mut sink| async move {
            for _ in 0..req.count {
                sink.send(payload(req.size as usize)).await?;
            }
            Ok(())
        })
        .client_streaming("Sum", |_ctx, mut reqs| async move {
            let mut total = 0usize;
            while let Some(p) = reqs.message().await? {
                let p: Payload = p;
                total += p.data.len();
            }
            Ok::<_, Status>(StreamReq { count: total as u32, size: 0 })
        })
        .bidi_streaming("Chat", |_ctx, mut reqs, mut sink| async move {
            while let Some(p) = reqs.message().await? {
                let p: Payload = p;
                sink.send(p).await?;
            }
            Ok(())
        })
}

#[tokio::test]
async fn smoke_all_four_kinds() {
    for transport in TRANSPORTS {
        smoke_over(transport).await;
    }
}

async fn smoke_over(transport: Transport) {
    let server = spawn_with(transport, vec![echo()], |_| {});
    let ch = server.channel().await;
    let r: Payload =
        ch.unary("/test.Echo/Unary", &payload(10), CallOptions::new()).await.unwrap().into_inner();
    assert_eq!(r, payload(10));
    let mut s = ch
        .server_streaming::<_, Payload>(
            "/test.Echo/Stream",
            &StreamReq { count: 5, size: 3 },
            CallOptions::new(),
        )
        .await
        .unwrap();
    let mut n = 0;
    while let Some(m) = s.message().await.unwrap() {
        assert_eq!(m, payload(3));
        n += 1;
    }
    assert_eq!(n, 5);
    let mut c = ch
        .client_streaming::<Payload, StreamReq>("/test.Echo/Sum", CallOptions::new())
        .await
        .unwrap();
    c.send(payload(7)).await.unwrap();
    c.send(payload(8)).await.unwrap();
    assert_eq!(c.finish().await.unwrap().into_inner().count, 15);
    let (mut tx, mut rx) =
        ch.bidi_streaming::<Payload, Payload>("/test.Echo/Chat", CallOptions::new()).await.unwrap();
    for i in 0..3 {
        tx.send(payload(i)).await.unwrap();
        assert_eq!(rx.message().await.unwrap().unwrap(), payload(i));
    }
    tx.close().await.unwrap();
    assert!(rx.message().await.unwrap().is_none());
    let err = ch
        .unary::<_, Payload>("/test.Echo/Nope", &payload(1), CallOptions::new())
        .await
        .unwrap_err();
    assert_eq!(err.code(), h2grpc::Code::Unimplemented);
    server.stop().await;
}
