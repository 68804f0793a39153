//! TLS and mutual TLS over TCP on 127.0.0.1 (feature `tls`), with certificates made at test
//! time (`tls_pki.rs`): calls work and see who called; every bad handshake fails only its own
//! connection, with an error that names the reason, while the server keeps serving.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use h2grpc::trace::{Kind, MemorySink, Trace};
use h2grpc::transport::tls::rustls;
use h2grpc::transport::tls::{ClientTls, ServerTls};
use h2grpc::{CallContext, CallOptions, Channel, Code, Peer, Service, Status};
use rustls::pki_types::pem::PemObject;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc::UnboundedSender;

use crate::harness::*;
use crate::support::*;
use crate::tls_pki::{Identity, Pki, CLIENT_SPIFFE_ID};

/// One set of certificates for the whole binary: key generation is the slow part.
fn pki() -> &'static Pki {
    static PKI: OnceLock<Pki> = OnceLock::new();
    PKI.get_or_init(Pki::new)
}

fn server_tls(identity: &Identity) -> ServerTls {
    ServerTls::from_pem(&identity.cert_pem, &identity.key_pem).expect("server tls")
}

fn trusting_ca() -> ClientTls {
    ClientTls::new().ca_pem(&pki().ca_pem).expect("ca")
}

fn with_identity(identity: &Identity) -> ClientTls {
    trusting_ca().identity_pem(&identity.cert_pem, &identity.key_pem).expect("client identity")
}

/// Reports the peer of every call and echoes the payload.
fn who(peers: UnboundedSender<Peer>) -> Service {
    Service::new("test.Who").unary("Am", move |ctx: CallContext, req: Payload| {
        let _ = peers.send(ctx.peer().clone());
        async { Ok::<_, Status>(req) }
    })
}

fn echo() -> Service {
    Service::new("test.Who")
        .unary("Am", |_ctx: CallContext, req: Payload| async { Ok::<_, Status>(req) })
}

/// Serves `services` with `tls` on 127.0.0.1, any port; returns it and its `localhost` port.
fn serve_tls(
    tls: ServerTls,
    services: Vec<Service>,
    configure: impl FnOnce(&mut h2grpc::server::Builder),
) -> (Running, u16) {
    let server = builder(services, |b| {
        b.tls(tls);
        configure(b);
    })
    .bind_tcp("127.0.0.1:0")
    .expect("bind tcp");
    let running = Running::spawn(server);
    let port = running.target.rsplit(':').next().and_then(|p| p.parse().ok()).expect("port");
    (running, port)
}

async fn call(channel: &Channel) -> Result<Payload, Status> {
    let options = CallOptions::new().timeout(PATIENCE);
    channel.unary("/test.Who/Am", &payload(100), options).await.map(|r| r.into_inner())
}

/// A call over a fresh channel to `target` with `tls`.
async fn call_with(target: &str, tls: ClientTls) -> Result<Payload, Status> {
    let channel = Channel::builder(target).expect("target").tls(tls).connect_lazy();
    call(&channel).await
}

fn assert_unavailable_naming(result: Result<Payload, Status>, words: &[&str]) -> Status {
    let status = result.expect_err("the handshake should fail");
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
    for word in words {
        assert!(status.message().contains(word), "{word:?} not in {:?}", status.message());
    }
    status
}

#[tokio::test]
async fn a_call_over_tls_works_and_the_handler_sees_tls_1_3_with_alpn_h2() {
    let (tx, mut peers) = events();
    let (server, port) = serve_tls(server_tls(&pki().server), vec![who(tx)], |_| {});
    let reply = call_with(&format!("https://localhost:{port}"), trusting_ca()).await;
    assert_eq!(reply.expect("call over tls"), payload(100));

    let peer = peers.next("the handler's peer").await;
    let tls = peer.tls().expect("a tls peer");
    assert_eq!(tls.protocol_version(), "TLSv1_3");
    assert_eq!(tls.alpn(), Some("h2"));
    assert_eq!(tls.server_name(), Some("localhost"));
    assert!(tls.cipher_suite().starts_with("TLS13_"), "{}", tls.cipher_suite());
    assert!(tls.certificates().is_empty(), "no client certificate was asked for");
    assert!(peer.addr().expect("tcp address").ip().is_loopback(), "{peer:?}");
    assert_eq!(peer.uid(), None);
    server.stop().await;
}

#[tokio::test]
async fn connecting_by_ip_verifies_the_ip_san_and_server_name_overrides_the_name() {
    let (server, port) = serve_tls(server_tls(&pki().server), vec![echo()], |_| {});
    // 127.0.0.1 is an IP SAN of the server certificate.
    assert!(call_with(&format!("127.0.0.1:{port}"), trusting_ca()).await.is_ok());
    // By IP, verifying the name `localhost` instead (ssl_target_name_override).
    let tls = trusting_ca().server_name("localhost");
    assert!(call_with(&format!("127.0.0.1:{port}"), tls).await.is_ok());
    server.stop().await;
}

#[tokio::test]
async fn mtls_puts_the_client_spiffe_id_on_the_peer_and_an_interceptor_admits_only_it() {
    let (tx, mut peers) = events();
    let tls = server_tls(&pki().server).require_client_cert(&pki().ca_pem).expect("mtls");
    let (server, port) = serve_tls(tls, vec![who(tx)], |b| {
        b.intercept(|ctx| {
            let allowed = ctx
                .peer()
                .tls()
                .is_some_and(|tls| tls.uri_sans().any(|uri| uri == CLIENT_SPIFFE_ID));
            if allowed {
                Ok(())
            } else {
                Err(Status::permission_denied("only the test client may call"))
            }
        });
    });
    let target = format!("https://localhost:{port}");
    assert!(call_with(&target, with_identity(&pki().client)).await.is_ok());
    let peer = peers.next("the handler's peer").await;
    let tls = peer.tls().expect("tls peer");
    assert_eq!(tls.uri_sans().collect::<Vec<_>>(), [CLIENT_SPIFFE_ID]);
    assert_eq!(tls.certificates().len(), 1, "the client sent its leaf");

    let refused = call_with(&target, with_identity(&pki().intruder)).await.expect_err("intruder");
    assert_eq!(refused.code(), Code::PermissionDenied, "{refused:?}");
    server.stop().await;
}

#[tokio::test]
async fn mtls_refuses_a_client_without_certificate_or_from_another_ca_and_keeps_serving() {
    let tls = server_tls(&pki().server).require_client_cert(&pki().ca_pem).expect("mtls");
    let sink = MemorySink::new();
    let (server, port) = serve_tls(tls, vec![echo()], |b| {
        b.trace(Trace::new(sink.clone()));
    });
    let target = format!("https://localhost:{port}");
    let status =
        assert_unavailable_naming(call_with(&target, trusting_ca()).await, &["certificate"]);
    assert!(status.message().contains("localhost"), "names the target: {status:?}");
    assert_unavailable_naming(
        call_with(&target, with_identity(&pki().foreign_client)).await,
        &["certificate"],
    );
    assert!(call_with(&target, with_identity(&pki().client)).await.is_ok(), "still serving");
    server.stop().await;

    let refusals: Vec<String> =
        sink.records().into_iter().filter(|r| r.kind == Kind::TlsFailed).map(|r| r.text).collect();
    assert_eq!(refusals.len(), 2, "{refusals:#?}");
    assert!(refusals[0].contains("presented no certificate"), "{}", refusals[0]);
    assert!(refusals[1].contains("unknown issuer"), "{}", refusals[1]);
}

#[tokio::test]
async fn optional_client_certificates_admit_clients_with_and_without_one() {
    let (tx, mut peers) = events();
    let tls = server_tls(&pki().server).accept_client_cert(&pki().ca_pem).expect("optional");
    let (server, port) = serve_tls(tls, vec![who(tx)], |_| {});
    let target = format!("https://localhost:{port}");
    assert!(call_with(&target, trusting_ca()).await.is_ok());
    let anonymous = peers.next("anonymous peer").await;
    assert!(anonymous.tls().expect("tls").certificates().is_empty());
    assert!(call_with(&target, with_identity(&pki().client)).await.is_ok());
    let known = peers.next("known peer").await;
    assert_eq!(known.tls().expect("tls").uri_sans().next(), Some(CLIENT_SPIFFE_ID));
    server.stop().await;
}

#[tokio::test]
async fn the_client_names_why_it_rejects_a_server_certificate() {
    // No roots: the server's CA is unknown.
    let (good, port) = serve_tls(server_tls(&pki().server), vec![echo()], |_| {});
    let target = format!("https://localhost:{port}");
    assert_unavailable_naming(call_with(&target, ClientTls::new()).await, &["unknown issuer"]);
    // An https:// target alone does not trust the test CA either: without a roots feature it
    // trusts nothing, and says so; with one, only public CAs.
    let channel = Channel::lazy(&target).expect("https target");
    let status = assert_unavailable_naming(call(&channel).await, &["unknown issuer"]);
    let no_roots = cfg!(not(any(feature = "tls-webpki-roots", feature = "tls-native-roots")));
    assert_eq!(status.message().contains("trusts no CA yet"), no_roots, "{status:?}");
    good.stop().await;

    let (wrong, port) = serve_tls(server_tls(&pki().wrong_name_server), vec![echo()], |_| {});
    let target = format!("https://localhost:{port}");
    assert_unavailable_naming(call_with(&target, trusting_ca()).await, &["name mismatch"]);
    let renamed = trusting_ca().server_name("elsewhere.example");
    assert!(call_with(&target, renamed).await.is_ok(), "the override verifies the other name");
    wrong.stop().await;

    let (expired, port) = serve_tls(server_tls(&pki().expired_server), vec![echo()], |_| {});
    let target = format!("https://localhost:{port}");
    assert_unavailable_naming(call_with(&target, trusting_ca()).await, &["expired"]);
    expired.stop().await;
}

#[tokio::test]
async fn a_tls_client_against_a_cleartext_port_is_told_it_is_not_tls() {
    let server =
        Running::spawn(builder(vec![echo()], |_| {}).bind_tcp("127.0.0.1:0").expect("bind"));
    let status = call_with(&server.target, trusting_ca()).await.expect_err("not tls");
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
    assert!(status.message().contains("TLS"), "{status:?}");
    let cleartext = Channel::connect(&server.target).await.expect("cleartext still served");
    assert!(call(&cleartext).await.is_ok());
    server.stop().await;
}

#[tokio::test]
async fn a_cleartext_client_against_the_tls_port_fails_and_tls_clients_are_still_served() {
    let sink = MemorySink::new();
    let (server, port) = serve_tls(server_tls(&pki().server), vec![echo()], |b| {
        b.trace(Trace::new(sink.clone()));
    });
    let cleartext = Channel::lazy(format!("127.0.0.1:{port}")).expect("target");
    let status = call(&cleartext).await.expect_err("cleartext against tls");
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
    assert!(status.message().contains("needs an https:// target"), "{status:?}");
    assert!(call_with(&format!("https://localhost:{port}"), trusting_ca()).await.is_ok());
    server.stop().await;
    let refused = sink.records().into_iter().find(|r| r.kind == Kind::TlsFailed).expect("logged");
    assert!(refused.text.contains("does not speak TLS"), "{}", refused.text);
}

#[tokio::test]
async fn a_stalled_handshake_is_dropped_after_the_handshake_timeout_while_others_are_served() {
    let sink = MemorySink::new();
    let (server, port) = serve_tls(server_tls(&pki().server), vec![echo()], |b| {
        b.handshake_timeout(Duration::from_millis(300)).trace(Trace::new(sink.clone()));
    });
    // Connects and says nothing.
    let mut stalled = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.expect("tcp");
    assert!(call_with(&format!("https://localhost:{port}"), trusting_ca()).await.is_ok());
    let mut buf = [0u8; 64];
    let read = within(PATIENCE, "the server to drop the stalled handshake", stalled.read(&mut buf));
    assert_eq!(read.await.expect("read"), 0, "the server closes the stalled connection");
    server.stop().await;
    let refused = sink.records().into_iter().find(|r| r.kind == Kind::TlsFailed).expect("logged");
    assert!(refused.text.contains("did not finish within 300ms"), "{}", refused.text);
}

#[tokio::test]
async fn a_client_without_alpn_or_with_only_another_protocol_is_refused_with_a_log_line() {
    let sink = MemorySink::new();
    let (server, port) = serve_tls(server_tls(&pki().server), vec![echo()], |b| {
        b.trace(Trace::new(sink.clone()));
    });
    let mut roots = rustls::RootCertStore::empty();
    let ca = rustls::pki_types::CertificateDer::from_pem_slice(pki().ca_pem.as_bytes());
    roots.add(ca.expect("ca der")).expect("root");
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_root_certificates(roots)
        .with_no_client_auth(); // and no ALPN
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.expect("tcp");
    let name = rustls::pki_types::ServerName::try_from("localhost").expect("name");
    let mut http11 = config.clone();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let mut tls = connector.connect(name.clone(), tcp).await.expect("the TLS handshake succeeds");
    tls.write_all(b"GET / HTTP/1.1\r\nhost: localhost\r\n\r\n").await.ok();
    let mut buf = Vec::new();
    let read = within(PATIENCE, "the server to close", tls.read_to_end(&mut buf)).await;
    assert!(buf.is_empty(), "no answer but the close: {read:?} {buf:?}");

    // A client offering only http/1.1: rustls refuses it in the handshake.
    http11.alpn_protocols = vec![b"http/1.1".to_vec()];
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.expect("tcp");
    let connector = tokio_rustls::TlsConnector::from(Arc::new(http11));
    let refused = connector.connect(name, tcp).await.expect_err("no common ALPN protocol");
    assert!(refused.to_string().contains("NoApplicationProtocol"), "{refused}");
    assert!(call_with(&format!("https://localhost:{port}"), trusting_ca()).await.is_ok());
    server.stop().await;

    let refusals: Vec<String> =
        sink.records().into_iter().filter(|r| r.kind == Kind::TlsFailed).map(|r| r.text).collect();
    assert_eq!(refusals.len(), 2, "{refusals:#?}");
    assert!(refusals[0].contains("negotiated no ALPN"), "{}", refusals[0]);
    assert!(refusals[1].contains("no ALPN protocol we speak"), "{}", refusals[1]);
}

#[tokio::test]
async fn the_trace_shows_tls_version_cipher_and_alpn_on_both_sides() {
    let (server_sink, client_sink) = (MemorySink::new(), MemorySink::new());
    let (server, port) = serve_tls(server_tls(&pki().server), vec![echo()], |b| {
        b.trace(Trace::new(server_sink.clone()));
    });
    let channel = Channel::builder(format!("https://localhost:{port}"))
        .expect("target")
        .tls(trusting_ca())
        .trace(Trace::new(client_sink.clone()))
        .connect()
        .await
        .expect("connect");
    call(&channel).await.expect("call");
    server.stop().await;
    for (side, sink) in [("client", &client_sink), ("server", &server_sink)] {
        let records = sink.records();
        let tls = records.iter().find(|r| r.kind == Kind::Tls).expect("a TLS event");
        assert_eq!(tls.stream_id, 0);
        assert!(tls.text.starts_with("TLS TLSv1_3, TLS13_"), "{side}: {}", tls.text);
        assert!(tls.text.contains("ALPN h2, SNI localhost"), "{side}: {}", tls.text);
        let request = records.iter().find(|r| r.kind == Kind::RequestHeaders).expect("headers");
        assert!(request.text.contains(":scheme: https"), "{side}: {}", request.text);
    }
}

#[tokio::test]
async fn streaming_compression_deadlines_and_reconnection_work_over_tls() {
    let service =
        Service::new("test.Who")
            .unary("Am", |_ctx: CallContext, req: Payload| async { Ok::<_, Status>(req) })
            .server_streaming(
                "Many",
                |_ctx: CallContext,
                 req: StreamReq,
                 mut sink: h2grpc::server::ResponseSink<Payload>| async move {
                    for _ in 0..req.count {
                        sink.send(payload(req.size as usize)).await?;
                    }
                    Ok::<_, Status>(())
                },
            )
            .unary("Stall", |ctx: CallContext, _req: Payload| async move {
                ctx.cancelled().await;
                Ok::<_, Status>(Payload::default())
            });
    let (server, port) = serve_tls(server_tls(&pki().server), vec![service], |b| {
        b.send_compression(h2grpc::codec::compression::Encoding::Gzip);
    });
    let channel = Channel::builder(format!("https://localhost:{port}"))
        .expect("target")
        .tls(trusting_ca())
        .send_compression(h2grpc::codec::compression::Encoding::Gzip)
        .connect_lazy();
    let request = StreamReq { count: 50, size: 20_000 };
    let mut stream = channel
        .server_streaming::<_, Payload>("/test.Who/Many", &request, CallOptions::new())
        .await
        .expect("stream");
    let mut received = 0;
    while let Some(message) = stream.message().await.expect("message") {
        assert_eq!(message, payload(20_000));
        received += 1;
    }
    assert_eq!(received, 50);
    let options = CallOptions::new().timeout(Duration::from_millis(100));
    let late = channel.unary::<_, Payload>("/test.Who/Stall", &payload(1), options).await;
    assert_eq!(late.expect_err("deadline").code(), Code::DeadlineExceeded);

    // The server goes away and comes back on the same port: the channel reconnects over TLS.
    server.stop().await;
    let again = builder(vec![echo()], |b| {
        b.tls(server_tls(&pki().server));
    })
    .bind_tcp(("127.0.0.1", port))
    .expect("rebind the same port");
    let again = Running::spawn(again);
    let options = CallOptions::new().wait_for_ready(true).timeout(PATIENCE);
    let reply = channel.unary::<_, Payload>("/test.Who/Am", &payload(5), options).await;
    assert_eq!(reply.expect("after reconnecting").into_inner(), payload(5));
    again.stop().await;
}

#[test]
fn bad_pem_fails_with_a_tls_error_that_says_what_is_missing() {
    let err = ServerTls::from_pem("not pem", &pki().server.key_pem).expect_err("no cert");
    assert_eq!(err.kind(), h2grpc::ErrorKind::Tls);
    assert!(err.to_string().contains("BEGIN CERTIFICATE"), "{err}");
    let err = ServerTls::from_pem(&pki().server.cert_pem, "nothing").expect_err("no key");
    assert!(err.to_string().contains("private key"), "{err}");
    let err = ServerTls::from_pem(&pki().server.cert_pem, &pki().client.key_pem).expect_err("pair");
    assert!(err.to_string().contains("do not make a usable pair"), "{err}");
    let err = ClientTls::new().ca_pem("").expect_err("empty ca");
    assert!(err.to_string().contains("CA certificates"), "{err}");
}

#[tokio::test]
async fn a_tap_above_tls_sees_plaintext_http2_on_both_sides() {
    use h2grpc::trace::{frames, Direction, Tap};
    let server = builder(vec![echo()], |_| {}).build_unbound();
    let server_tls = server_tls(&pki().server).require_client_cert(&pki().ca_pem).expect("mtls");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let (peers_tx, mut peers) = events();
    let server_side = tokio::spawn(async move {
        let (tcp, addr) = listener.accept().await.expect("accept");
        let (stream, peer) = server_tls.accept(tcp, Peer::Tcp(addr)).await.expect("tls accept");
        let _ = peers_tx.send(peer.clone());
        let tap = Tap::new(stream);
        let log = tap.log();
        server.serve_connection(tap, peer).await;
        log
    });
    let tls = with_identity(&pki().client);
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.expect("tcp");
    let tap = Tap::new(tls.connect(tcp, "localhost").await.expect("tls connect"));
    let client_log = tap.log();
    let channel = Channel::builder(format!("https://localhost:{port}"))
        .expect("target")
        .tls(tls)
        .connect_with_io(tap)
        .await
        .expect("h2 over the tapped tls stream");
    assert_eq!(call(&channel).await.expect("call"), payload(100));
    let peer = peers.next("the accepted peer").await;
    assert_eq!(peer.tls().and_then(|t| t.uri_sans().next()), Some(CLIENT_SPIFFE_ID));
    drop(channel);
    let server_log = within(PATIENCE, "the connection to end", server_side).await.expect("task");

    let sent = frames(&client_log.bytes(Direction::Send));
    assert_eq!(sent[0].type_name(), "PREFACE", "the client tap sees plaintext HTTP/2");
    assert!(sent.iter().any(|f| f.type_name() == "HEADERS" && f.stream_id == 1));
    let received = frames(&server_log.bytes(Direction::Recv));
    assert_eq!(received[0].type_name(), "PREFACE", "the server tap sees plaintext HTTP/2");
    let data = received.iter().find(|f| f.type_name() == "DATA").expect("the request message");
    assert_eq!(data.stream_id, 1);
}

#[tokio::test]
async fn keepalive_over_tls_notices_a_server_that_stops_answering() {
    use std::sync::atomic::{AtomicBool, Ordering};
    let (started, mut starts) = events::<()>();
    let service = Service::new("test.Who").unary("Wait", move |ctx: CallContext, _req: Payload| {
        let started = started.clone();
        async move {
            let _ = started.send(());
            ctx.cancelled().await;
            Ok::<_, Status>(Payload::default())
        }
    });
    let server = builder(vec![service], |_| {}).build_unbound();
    let (client_io, server_io) = tokio::net::UnixStream::pair().expect("socket pair");
    let frozen = Arc::new(AtomicBool::new(false));
    let server_io = crate::keepalive::Freezable { io: server_io, frozen: frozen.clone() };
    let server_tls = server_tls(&pki().server);
    tokio::spawn(async move {
        let (stream, peer) = server_tls.accept(server_io, Peer::Unknown).await.expect("accept");
        server.serve_connection(stream, peer).await;
    });
    let tls = trusting_ca();
    let stream = tls.connect(client_io, "localhost").await.expect("tls connect");
    let channel = Channel::builder("https://localhost")
        .expect("target")
        .tls(tls)
        .keepalive_interval(Duration::from_millis(100))
        .keepalive_timeout(Duration::from_millis(200))
        .connect_with_io(stream)
        .await
        .expect("connect");
    let call = tokio::spawn(async move {
        channel.unary::<_, Payload>("/test.Who/Wait", &payload(1), CallOptions::new()).await
    });
    starts.next("the handler to start").await;
    frozen.store(true, Ordering::SeqCst); // below TLS: the server's socket stops moving bytes
    let status = within(PATIENCE, "keepalive to fail the call", call).await.expect("task");
    let status = status.expect_err("the server froze");
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
    assert!(status.message().contains("keepalive"), "{status:?}");
}

#[tokio::test]
async fn shutdown_does_not_wait_for_a_stalled_tls_handshake() {
    let (server, port) = serve_tls(server_tls(&pki().server), vec![echo()], |b| {
        b.handshake_timeout(Duration::from_secs(600));
    });
    let mut stalled = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.expect("tcp");
    // A served call proves the stalled connection was accepted before shutdown began.
    assert!(call_with(&format!("https://localhost:{port}"), trusting_ca()).await.is_ok());
    server.stop().await; // within PATIENCE, far below the 600 s handshake timeout
    let mut buf = [0u8; 16];
    let read = within(PATIENCE, "the stalled connection to close", stalled.read(&mut buf)).await;
    assert_eq!(read.expect("read"), 0);
}

#[tokio::test]
async fn a_server_selecting_no_alpn_is_refused_unless_the_client_assumes_http2() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let chain = rustls::pki_types::CertificateDer::pem_slice_iter(pki().server.cert_pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .expect("chain");
    let key = rustls::pki_types::PrivateKeyDer::from_pem_slice(pki().server.key_pem.as_bytes());
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_no_client_auth()
        .with_single_cert(chain, key.expect("key"))
        .expect("config"); // and no ALPN
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let server = Arc::new(builder(vec![echo()], |_| {}).build_unbound());
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let (acceptor, server) = (acceptor.clone(), server.clone());
            tokio::spawn(async move {
                if let Ok(stream) = acceptor.accept(tcp).await {
                    server.serve_connection(stream, Peer::Unknown).await;
                }
            });
        }
    });
    let target = format!("https://localhost:{port}");
    assert_unavailable_naming(
        call_with(&target, trusting_ca()).await,
        &["did not negotiate ALPN h2"],
    );
    let reply = call_with(&target, trusting_ca().assume_http2(true)).await;
    assert_eq!(reply.expect("with assume_http2"), payload(100));
}

#[tokio::test]
async fn tls_over_a_unix_socket_keeps_the_callers_uid_beside_its_certificate() {
    let (tx, mut peers) = events();
    let tls = server_tls(&pki().server).require_client_cert(&pki().ca_pem).expect("mtls");
    let server = spawn_with(Transport::Unix, vec![who(tx)], |b| {
        b.tls(tls);
    });
    // A unix: target verifies the name `localhost`, as it sends `:authority: localhost`.
    assert!(call_with(&server.target, with_identity(&pki().client)).await.is_ok());
    let peer = peers.next("the handler's peer").await;
    assert_eq!(peer.uid(), Some(this_uid()), "{peer:?}");
    assert!(matches!(peer.tls().map(|t| t.transport()), Some(Peer::Unix { .. })), "{peer:?}");
    assert_eq!(peer.tls().and_then(|t| t.uri_sans().next()), Some(CLIENT_SPIFFE_ID));
    server.stop().await;
}

/// This process's uid, as the kernel stamps it on a file it creates.
fn this_uid() -> u32 {
    use std::os::unix::fs::MetadataExt;
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("me"), b"").expect("write");
    std::fs::metadata(dir.path().join("me")).expect("metadata").uid()
}
