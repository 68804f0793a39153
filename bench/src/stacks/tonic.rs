//! tonic, the documented way and with its defaults: generated `BenchServer` served over a
//! `UnixListenerStream`; generated `BenchClient` on a `Channel` whose connector opens the Unix
//! socket (tonic's `uds` example).
//!
//! The server gives tonic its best case: the stream handlers return ready streams
//! (`tokio_stream::iter`, and the request stream itself for the echo) instead of the
//! channel-and-task pattern, so tonic's encoder can coalesce as much as it likes.

use std::net::SocketAddr;
use std::path::Path;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use hyper_util::rt::TokioIo;
use tokio::sync::broadcast;
use tokio_stream::{Stream, StreamExt as _};
use tonic::transport::{Endpoint, Server, Uri};
use tonic::{Request, Response, Status, Streaming};

use crate::fanout::{self, Received};
use crate::proto::bench_client::BenchClient;
use crate::proto::bench_server::{Bench, BenchServer};
use crate::{BoxError, Client, Payload, Stack, StreamReq, StreamStats, SubscribeReq};

/// The tonic stack.
#[derive(Debug)]
pub struct Tonic;

/// The `Bench` service. W6's broadcast is what tonic's users write: a
/// `tokio::sync::broadcast` channel and one `BroadcastStream` per subscription (each message
/// encoded once per subscriber, by tonic).
#[derive(Debug)]
pub struct Service {
    /// Taken by the publisher when it starts; dropping it ends every subscription.
    hub: Arc<Mutex<Option<broadcast::Sender<Payload>>>>,
}

impl Service {
    fn new() -> Service {
        let (hub, _) = broadcast::channel(fanout::CAPACITY);
        Service { hub: Arc::new(Mutex::new(Some(hub))) }
    }
}

type PayloadStream = Pin<Box<dyn Stream<Item = Result<Payload, Status>> + Send + 'static>>;

#[tonic::async_trait]
impl Bench for Service {
    async fn unary(&self, request: Request<Payload>) -> Result<Response<Payload>, Status> {
        Ok(Response::new(request.into_inner()))
    }

    type ServerStreamStream = PayloadStream;

    async fn server_stream(
        &self,
        request: Request<StreamReq>,
    ) -> Result<Response<PayloadStream>, Status> {
        let StreamReq { count, size } = request.into_inner();
        let message = Payload { data: Bytes::from(vec![0x5a; size as usize]) };
        let stream = tokio_stream::iter((0..count).map(move |_| Ok(message.clone())));
        Ok(Response::new(Box::pin(stream)))
    }

    type BidiStream = PayloadStream;

    async fn bidi(
        &self,
        request: Request<Streaming<Payload>>,
    ) -> Result<Response<PayloadStream>, Status> {
        // `Streaming<Payload>` already yields `Result<Payload, Status>`: echo it as it is.
        Ok(Response::new(Box::pin(request.into_inner())))
    }

    type SubscribeStream = PayloadStream;

    async fn subscribe(
        &self,
        request: Request<SubscribeReq>,
    ) -> Result<Response<PayloadStream>, Status> {
        let request = request.into_inner();
        let receiver = {
            let slot = self.hub.lock().map_err(|_| Status::internal("poisoned"))?;
            let hub = slot.as_ref().ok_or_else(|| Status::unavailable("already published"))?;
            let receiver = hub.subscribe();
            if hub.receiver_count() == request.subscribers as usize {
                let (hub, slot) = (hub.clone(), self.hub.clone());
                tokio::spawn(async move {
                    let published = fanout::publish(
                        request,
                        || hub.receiver_count(),
                        |m| {
                            let _ = hub.send(m);
                        },
                    );
                    if let Err(err) = published.await {
                        eprintln!("bench-tonic: {err}");
                    }
                    // Dropping every sender ends the subscriptions once they are drained.
                    drop(hub);
                    drop(slot.lock().map(|mut slot| slot.take()));
                });
            }
            receiver
        };
        // A subscriber that lagged skips ahead: drop the lag errors.
        let stream = tokio_stream::wrappers::BroadcastStream::new(receiver)
            .filter_map(|item| item.ok().map(Ok));
        Ok(Response::new(Box::pin(stream)))
    }
}

impl Stack for Tonic {
    const NAME: &'static str = "tonic";
    type Client = TonicClient;

    async fn serve(socket: &Path, ready: impl FnOnce() + Send) -> Result<(), BoxError> {
        if let Some(dir) = crate::tls::dir() {
            use tonic::transport::server::TcpIncoming;
            use tonic::transport::{Identity, ServerTlsConfig};
            let identity = Identity::from_pem(
                crate::tls::read(&dir, "server.pem")?,
                crate::tls::read(&dir, "server.key")?,
            );
            let incoming = TcpIncoming::bind("127.0.0.1:0".parse()?)?.with_nodelay(Some(true));
            crate::tls::publish(socket, incoming.local_addr()?)?;
            ready();
            Server::builder()
                .tls_config(ServerTlsConfig::new().identity(identity))?
                .add_service(BenchServer::new(Service::new()))
                .serve_with_incoming(incoming)
                .await?;
            return Ok(());
        }
        let listener = tokio::net::UnixListener::bind(socket)?;
        ready();
        Server::builder()
            .add_service(BenchServer::new(Service::new()))
            .serve_with_incoming(tokio_stream::wrappers::UnixListenerStream::new(listener))
            .await?;
        Ok(())
    }

    async fn connect(socket: &Path) -> Result<TonicClient, BoxError> {
        if let Some(dir) = crate::tls::dir() {
            use tonic::transport::{Certificate, ClientTlsConfig};
            let tls = ClientTlsConfig::new()
                .ca_certificate(Certificate::from_pem(crate::tls::read(&dir, "ca.pem")?))
                .domain_name("localhost");
            let addr = crate::tls::address(socket)?;
            let channel = Endpoint::from_shared(format!("https://{addr}"))?
                .tls_config(tls)?
                .tcp_nodelay(true)
                .connect()
                .await?;
            return Ok(TonicClient(BenchClient::new(channel)));
        }
        let path = socket.to_path_buf();
        // The URI is required but unused: the connector decides where to connect.
        let channel = Endpoint::try_from("http://[::]:50051")?
            .connect_with_connector(tower::service_fn(move |_: Uri| {
                let path = path.clone();
                async move {
                    Ok::<_, std::io::Error>(TokioIo::new(
                        tokio::net::UnixStream::connect(path).await?,
                    ))
                }
            }))
            .await?;
        Ok(TonicClient(BenchClient::new(channel)))
    }

    async fn serve_tcp(addr: SocketAddr, ready: impl FnOnce(u16) + Send) -> Result<(), BoxError> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        ready(listener.local_addr()?.port());
        let incoming = tokio_stream::wrappers::TcpListenerStream::new(listener).map(|stream| {
            // As tonic's own `serve(addr)` with `tcp_nodelay(true)`.
            stream.inspect(|s| {
                let _ = s.set_nodelay(true);
            })
        });
        Server::builder()
            .add_service(BenchServer::new(Service::new()))
            .serve_with_incoming(incoming)
            .await?;
        Ok(())
    }

    /// tonic's documented balancing: `Channel::balance_list` over one endpoint per server.
    async fn connect_balanced(addrs: Vec<SocketAddr>) -> Result<TonicClient, BoxError> {
        let endpoints = addrs
            .iter()
            .map(|addr| Ok(Endpoint::from_shared(format!("http://{addr}"))?.tcp_nodelay(true)))
            .collect::<Result<Vec<_>, BoxError>>()?;
        let channel = tonic::transport::Channel::balance_list(endpoints.into_iter());
        Ok(TonicClient(BenchClient::new(channel)))
    }
}

/// A generated client on one `Channel` (one connection).
#[derive(Clone, Debug)]
pub struct TonicClient(BenchClient<tonic::transport::Channel>);

impl Client for TonicClient {
    async fn unary(&self, request: Payload) -> Result<Payload, BoxError> {
        Ok(self.0.clone().unary(request).await?.into_inner())
    }

    async fn server_stream(&self, request: StreamReq) -> Result<StreamStats, BoxError> {
        let mut stream = self.0.clone().server_stream(request).await?.into_inner();
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
        let (requests, rx) = tokio::sync::mpsc::channel(1);
        let mut replies = self
            .0
            .clone()
            .bidi(tokio_stream::wrappers::ReceiverStream::new(rx))
            .await?
            .into_inner();
        let mut start = Instant::now();
        for i in 0..warmup + rounds {
            if i == warmup {
                start = Instant::now();
            }
            requests.send(payload.clone()).await?;
            replies.message().await?.ok_or("the server ended the stream early")?;
        }
        let elapsed = start.elapsed();
        drop(requests);
        while replies.message().await?.is_some() {}
        Ok(elapsed)
    }

    async fn subscribe(&self, request: SubscribeReq) -> Result<Received, BoxError> {
        let mut stream = self.0.clone().subscribe(request).await?.into_inner();
        let mut received = Received::default();
        while let Some(message) = stream.message().await? {
            received.record(&message)?;
        }
        Ok(received)
    }
}
