//! h2grpc, with its default settings: the hand-written `Service` builder and `Channel`.
//!
//! (Switches to the generated `bench_server`/`bench_client` once code generation lands; the
//! generated code calls the same `Service` and `Channel` methods.)

use std::path::Path;
use std::time::{Duration, Instant};

use bytes::Bytes;
use h2grpc::server::{RequestStream, ResponseSink};
use h2grpc::{CallOptions, Channel, Server, Service, Status};

use crate::{paths, BoxError, Client, Payload, Stack, StreamReq, StreamStats};

/// The h2grpc stack.
#[derive(Debug)]
pub struct H2grpc;

/// The `Bench` service: echo, a stream of `count` × `size`, echo per message.
pub fn service() -> Service {
    Service::new("bench.Bench")
        .unary("Unary", |_ctx, request: Payload| async move { Ok::<_, Status>(request) })
        .server_streaming(
            "ServerStream",
            |_ctx, request: StreamReq, mut sink: ResponseSink<Payload>| async move {
                let message = Payload { data: Bytes::from(vec![0x5a; request.size as usize]) };
                for _ in 0..request.count {
                    sink.send(&message).await?;
                }
                Ok(())
            },
        )
        .bidi_streaming(
            "Bidi",
            |_ctx, mut requests: RequestStream<Payload>, mut sink: ResponseSink<Payload>| async move {
                while let Some(message) = requests.message().await? {
                    sink.send(message).await?;
                }
                Ok(())
            },
        )
}

impl Stack for H2grpc {
    const NAME: &'static str = "h2grpc";
    type Client = H2grpcClient;

    async fn serve(socket: &Path, ready: impl FnOnce() + Send) -> Result<(), BoxError> {
        let server = Server::builder().add_service(service()).bind_unix(socket)?;
        ready();
        server.serve().await?;
        Ok(())
    }

    async fn connect(socket: &Path) -> Result<H2grpcClient, BoxError> {
        let channel = Channel::connect(&format!("unix:{}", socket.display())).await?;
        Ok(H2grpcClient(channel))
    }
}

/// A `Channel` on one connection.
#[derive(Clone, Debug)]
pub struct H2grpcClient(Channel);

impl Client for H2grpcClient {
    async fn unary(&self, request: Payload) -> Result<Payload, BoxError> {
        let reply =
            self.0.unary::<Payload, Payload>(paths::UNARY, &request, CallOptions::new()).await?;
        Ok(reply.into_inner())
    }

    async fn server_stream(&self, request: StreamReq) -> Result<StreamStats, BoxError> {
        let mut stream = self
            .0
            .server_streaming::<StreamReq, Payload>(
                paths::SERVER_STREAM,
                &request,
                CallOptions::new(),
            )
            .await?;
        let mut stats = StreamStats::default();
        while let Some(message) = stream.message().await? {
            stats.messages += 1;
            stats.bytes += message.data.len() as u64;
        }
        Ok(stats)
    }

    async fn ping_pong(
        &self,
        payload: Payload,
        warmup: u32,
        rounds: u32,
    ) -> Result<Duration, BoxError> {
        let (mut sink, mut replies) =
            self.0.bidi_streaming::<Payload, Payload>(paths::BIDI, CallOptions::new()).await?;
        let mut start = Instant::now();
        for i in 0..warmup + rounds {
            if i == warmup {
                start = Instant::now();
            }
            sink.send(&payload).await?;
            replies.message().await?.ok_or("the server ended the stream early")?;
        }
        let elapsed = start.elapsed();
        sink.close().await?;
        while replies.message().await?.is_some() {}
        Ok(elapsed)
    }
}
