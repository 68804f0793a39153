use bytes::Bytes;
use h2::Reason;
use tokio::io::DuplexStream;

use super::*;

#[test]
fn every_http_status_in_the_table_maps_as_the_spec_says() {
    let table = [
        (400, Code::Internal),
        (401, Code::Unauthenticated),
        (403, Code::PermissionDenied),
        (404, Code::Unimplemented),
        (429, Code::Unavailable),
        (431, Code::Internal),
        (502, Code::Unavailable),
        (503, Code::Unavailable),
        (504, Code::Unavailable),
    ];
    for (status, code) in table {
        assert_eq!(code_from_http_status(status), code, "{status}");
    }
}

#[test]
fn http_statuses_outside_the_table_including_200_and_500_are_unknown() {
    for status in [0, 100, 200, 204, 302, 402, 405, 415, 430, 432, 500, 501, 505, 599, u16::MAX] {
        assert_eq!(code_from_http_status(status), Code::Unknown, "{status}");
    }
}

#[test]
fn from_http_status_names_the_status_in_the_message() {
    let status = Status::from_http_status(503);
    assert_eq!(status.code(), Code::Unavailable);
    assert_eq!(status.message(), "HTTP status 503 without grpc-status");
}

#[test]
fn every_h2_reason_maps_as_the_spec_says() {
    let table = [
        (Reason::NO_ERROR, Code::Internal),
        (Reason::PROTOCOL_ERROR, Code::Internal),
        (Reason::INTERNAL_ERROR, Code::Internal),
        (Reason::FLOW_CONTROL_ERROR, Code::Internal),
        (Reason::SETTINGS_TIMEOUT, Code::Internal),
        (Reason::STREAM_CLOSED, Code::Internal),
        (Reason::FRAME_SIZE_ERROR, Code::Internal),
        (Reason::REFUSED_STREAM, Code::Unavailable),
        (Reason::CANCEL, Code::Cancelled),
        (Reason::COMPRESSION_ERROR, Code::Internal),
        (Reason::CONNECT_ERROR, Code::Internal),
        (Reason::ENHANCE_YOUR_CALM, Code::ResourceExhausted),
        (Reason::INADEQUATE_SECURITY, Code::PermissionDenied),
        (Reason::HTTP_1_1_REQUIRED, Code::Internal),
    ];
    for (reason, code) in table {
        assert_eq!(code_from_h2_reason(reason), code, "{reason:?}");
    }
}

#[test]
fn unknown_h2_reasons_are_internal() {
    for raw in [14, 0xFF, u32::MAX] {
        assert_eq!(code_from_h2_reason(Reason::from(raw)), Code::Internal, "{raw}");
    }
}

#[test]
fn a_bare_h2_reason_error_is_internal_with_its_text() {
    let status = Status::from_h2_error(&h2::Error::from(Reason::CANCEL));
    assert_eq!(status.code(), Code::Internal);
    assert!(status.message().starts_with("http/2 error: "), "{status}");
}

/// A client and a server h2 connection joined by an in-memory pipe. The client connection
/// task is spawned; the server connection is handed back to drive.
async fn pair() -> (h2::client::SendRequest<Bytes>, h2::server::Connection<DuplexStream, Bytes>) {
    let (client_io, server_io) = tokio::io::duplex(64 * 1024);
    let server = tokio::spawn(h2::server::handshake(server_io));
    let (send, conn) = h2::client::handshake(client_io).await.unwrap();
    tokio::spawn(conn);
    (send, server.await.unwrap().unwrap())
}

fn request() -> http::Request<()> {
    http::Request::post("http://localhost/pkg.Svc/Method").body(()).unwrap()
}

async fn status_after_peer_reset(reason: Reason) -> Status {
    let (mut send, mut server) = pair().await;
    let (response, _body) = send.send_request(request(), false).unwrap();
    let (_req, mut respond) = server.accept().await.unwrap().unwrap();
    respond.send_reset(reason);
    tokio::spawn(async move { while server.accept().await.is_some() {} });
    Status::from_h2_error(&response.await.unwrap_err())
}

#[tokio::test]
async fn a_stream_reset_by_the_peer_maps_through_the_reason_table() {
    let status = status_after_peer_reset(Reason::CANCEL).await;
    assert_eq!(status.code(), Code::Cancelled);
    assert_eq!(status.message(), "stream reset by peer: CANCEL");
    let status = status_after_peer_reset(Reason::REFUSED_STREAM).await;
    assert_eq!(status.code(), Code::Unavailable);
    assert_eq!(status.message(), "stream reset by peer: REFUSED_STREAM");
}

#[tokio::test]
async fn a_stream_reset_locally_maps_through_the_reason_table() {
    let (mut send, server) = pair().await;
    tokio::spawn(async move {
        let mut server = server;
        while server.accept().await.is_some() {}
    });
    let (response, mut body) = send.send_request(request(), false).unwrap();
    body.send_reset(Reason::CANCEL);
    let status = Status::from_h2_error(&response.await.unwrap_err());
    assert_eq!(status.code(), Code::Cancelled);
    assert_eq!(status.message(), "stream reset locally: CANCEL");
}

#[tokio::test]
async fn a_goaway_from_the_peer_is_unavailable() {
    use tokio::io::AsyncWriteExt as _;
    // A scripted peer: empty SETTINGS, then GOAWAY(last_stream_id 0, ENHANCE_YOUR_CALM), so
    // the client's stream 1 is above the last processed id and fails with the GOAWAY.
    const SETTINGS: [u8; 9] = [0, 0, 0, 0x4, 0, 0, 0, 0, 0];
    const GOAWAY: [u8; 17] = [0, 0, 8, 0x7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 11];
    let (client_io, mut peer) = tokio::io::duplex(64 * 1024);
    let (mut send, conn) = h2::client::handshake(client_io).await.unwrap();
    let (response, _body) = send.send_request(request(), false).unwrap();
    peer.write_all(&SETTINGS).await.unwrap();
    peer.write_all(&GOAWAY).await.unwrap();
    tokio::spawn(conn);
    let err = response.await.unwrap_err();
    assert!(err.is_go_away(), "{err:?}");
    let status = Status::from_h2_error(&err);
    assert_eq!(status.code(), Code::Unavailable);
    assert!(status.message().starts_with("connection closing: "), "{status}");
    drop(peer);
}

#[tokio::test]
async fn a_lost_connection_is_unavailable() {
    let (mut send, server) = pair().await;
    let (response, _body) = send.send_request(request(), false).unwrap();
    drop(server);
    let err = response.await.unwrap_err();
    assert!(err.is_io(), "{err:?}");
    let status = Status::from_h2_error(&err);
    assert_eq!(status.code(), Code::Unavailable);
    assert!(status.message().starts_with("connection lost: "), "{status}");
}

#[tokio::test]
async fn a_misuse_of_the_h2_api_is_internal() {
    let (mut send, _server) = pair().await;
    let mut bad = request();
    bad.headers_mut().insert("connection", http::HeaderValue::from_static("close"));
    let err = send.send_request(bad, true).unwrap_err();
    let status = Status::from_h2_error(&err);
    assert_eq!(status.code(), Code::Internal);
    assert!(status.message().starts_with("http/2 error: user error"), "{status}");
}

#[test]
fn the_server_reads_any_reset_or_failure_as_cancelled_and_the_client_reads_the_table() {
    let server = from_reset(Side::Server, Reason::CANCEL);
    assert_eq!(server.code(), Code::Cancelled);
    assert_eq!(server.message(), "the client cancelled the call");
    assert_eq!(from_reset(Side::Server, Reason::ENHANCE_YOUR_CALM).code(), Code::Cancelled);
    assert_eq!(from_reset(Side::Client, Reason::ENHANCE_YOUR_CALM).code(), Code::ResourceExhausted);
    assert_eq!(from_reset(Side::Client, Reason::REFUSED_STREAM).code(), Code::Unavailable);
    // A failure that is no reset (here a bare reason): the connection, for the server.
    let failed = h2::Error::from(Reason::PROTOCOL_ERROR);
    assert_eq!(from_h2_error(Side::Server, &failed).code(), Code::Cancelled);
    assert_eq!(from_h2_error(Side::Client, &failed).code(), Code::Internal);
}
