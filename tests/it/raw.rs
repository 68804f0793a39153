//! A raw `h2` client, to send what the h2grpc client never would and to see the exact wire.

use bytes::{Bytes, BytesMut};
use h2::client::{ResponseFuture, SendRequest};
use http::{HeaderMap, Request, StatusCode};

use crate::support::TestServer;

/// An HTTP/2 connection to a test server, over its Unix socket or TCP port.
pub(crate) async fn connect(server: &TestServer) -> SendRequest<Bytes> {
    async fn handshake<IO>(io: IO) -> SendRequest<Bytes>
    where
        IO: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    {
        let (send, conn) = h2::client::handshake(io).await.expect("h2 handshake");
        tokio::spawn(async move {
            let _ = conn.await;
        });
        send
    }
    if server.target.starts_with("unix:") {
        handshake(tokio::net::UnixStream::connect(&server.path).await.expect("connect")).await
    } else {
        handshake(tokio::net::TcpStream::connect(&server.target).await.expect("connect")).await
    }
}

/// A well-formed gRPC request for `path`, as the spec's Request-Headers describe it.
pub(crate) fn request(path: &str) -> http::request::Builder {
    Request::post(format!("http://localhost{path}"))
        .header("content-type", "application/grpc")
        .header("te", "trailers")
}

/// `msg` as one Length-Prefixed-Message.
pub(crate) fn frame(msg: &impl prost::Message) -> Bytes {
    let mut buf = BytesMut::new();
    h2grpc::codec::encode_message(msg, usize::MAX, &mut buf).expect("encode");
    buf.freeze()
}

/// Everything the server sent back on one stream.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) http_status: StatusCode,
    pub(crate) headers: HeaderMap,
    /// The response headers ended the stream: Trailers-Only (or a bare HTTP error).
    pub(crate) trailers_only: bool,
    pub(crate) body: Bytes,
    pub(crate) trailers: Option<HeaderMap>,
}

impl Reply {
    /// The header block that carries `grpc-status`: the headers for Trailers-Only, else the
    /// trailers.
    pub(crate) fn status_block(&self) -> &HeaderMap {
        if self.trailers_only {
            &self.headers
        } else {
            self.trailers.as_ref().expect("trailers")
        }
    }

    pub(crate) fn grpc_status(&self) -> Option<&str> {
        self.status_block().get("grpc-status").map(|v| v.to_str().unwrap())
    }

    /// The status as the h2grpc client reads it from these headers.
    pub(crate) fn status(&self) -> h2grpc::Status {
        h2grpc::Status::from_headers(self.status_block()).expect("a grpc-status")
    }
}

/// Reads a whole response, releasing flow-control capacity as DATA arrives.
pub(crate) async fn read(response: ResponseFuture) -> Reply {
    let response = response.await.expect("a response");
    let (parts, mut body) = response.into_parts();
    let trailers_only = body.is_end_stream();
    let mut data = BytesMut::new();
    while let Some(chunk) = body.data().await {
        let chunk = chunk.expect("response body");
        let _ = body.flow_control().release_capacity(chunk.len());
        data.extend_from_slice(&chunk);
    }
    let trailers = body.trailers().await.expect("response trailers");
    Reply {
        http_status: parts.status,
        headers: parts.headers,
        trailers_only,
        body: data.freeze(),
        trailers,
    }
}

/// Sends `request` with `body` and END_STREAM, and reads the response.
pub(crate) async fn call(
    send: &mut SendRequest<Bytes>,
    request: Request<()>,
    body: Bytes,
) -> Reply {
    let mut ready = send.clone().ready().await.expect("ready");
    let (response, mut stream) = ready.send_request(request, false).expect("send request");
    stream.send_data(body, true).expect("send body");
    read(response).await
}

/// A scripted gRPC server on a Unix socket in a temp dir: it answers every request with
/// `respond`'s headers, body and trailers, whatever was asked. Returns the target to dial and
/// the temp dir, which must outlive the server.
pub(crate) fn serve_scripted(
    respond: impl Fn() -> (http::Response<()>, Bytes, Option<HeaderMap>) + Send + Sync + 'static,
) -> (String, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("scripted.sock");
    let listener = tokio::net::UnixListener::bind(&path).expect("bind");
    let respond = std::sync::Arc::new(respond);
    tokio::spawn(async move {
        while let Ok((io, _)) = listener.accept().await {
            let respond = respond.clone();
            tokio::spawn(async move {
                let Ok(mut conn) = h2::server::handshake(io).await else { return };
                while let Some(Ok((_request, mut sender))) = conn.accept().await {
                    let (head, body, trailers) = respond();
                    let end = body.is_empty() && trailers.is_none();
                    let Ok(mut stream) = sender.send_response(head, end) else { continue };
                    if !body.is_empty() {
                        let _ = stream.send_data(body, trailers.is_none());
                    }
                    if let Some(trailers) = trailers {
                        let _ = stream.send_trailers(trailers);
                    }
                }
            });
        }
    });
    (format!("unix:{}", path.display()), dir)
}
