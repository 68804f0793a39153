//! The golden file: `tests/golden/echo.v1.rs` is what h2grpc-build generates for
//! `tests/golden/echo.proto`, checked in so that any change to the generator's output shows in
//! review. After an intended change: `H2GRPC_BLESS=1 cargo test --test golden`, then review the
//! diff. The checked-in file is also compiled here and served over a Unix socket.

use std::path::Path;

use h2grpc::server::{RequestStream, ResponseSink};
use h2grpc::{CallContext, CallOptions, Channel, Code, Server, Status};

/// The golden file itself, compiled against the runtime.
mod echo {
    #![allow(missing_docs, unreachable_pub)]
    include!("golden/echo.v1.rs");
}
use echo::echo_client::EchoClient;
use echo::echo_server::{self, Echo};
use echo::{EchoReply, EchoRequest, RepeatRequest};

#[test]
fn generated_code_matches_the_golden_file() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let out = tempfile::tempdir().expect("temp dir");
    h2grpc_build::configure()
        .out_dir(out.path())
        .emit_rerun_if_changed(false)
        .compile(&[root.join("echo.proto")], &[&root])
        .expect("compile echo.proto");
    let generated = std::fs::read_to_string(out.path().join("echo.v1.rs")).expect("generated");
    let golden_path = root.join("echo.v1.rs");
    if std::env::var_os("H2GRPC_BLESS").is_some_and(|v| v == "1") {
        std::fs::write(&golden_path, &generated).expect("write the golden file");
        return;
    }
    let golden = std::fs::read_to_string(&golden_path).unwrap_or_default();
    assert!(
        golden == generated,
        "the generated code differs from {}: if the change is intended, run \
         `H2GRPC_BLESS=1 cargo test --test golden` and review the diff.\n--- generated ---\n{generated}",
        golden_path.display()
    );
}

/// Implements two of the five methods; the others keep their UNIMPLEMENTED default.
struct Impl;

impl Echo for Impl {
    async fn say(&self, _ctx: CallContext, request: EchoRequest) -> Result<EchoReply, Status> {
        Ok(EchoReply { text: request.text })
    }

    async fn collect(
        &self,
        _ctx: CallContext,
        mut requests: RequestStream<EchoRequest>,
    ) -> Result<EchoReply, Status> {
        let mut text = String::new();
        while let Some(request) = requests.message().await? {
            text.push_str(&request.text);
        }
        Ok(EchoReply { text })
    }

    async fn chat(
        &self,
        _ctx: CallContext,
        mut requests: RequestStream<EchoRequest>,
        mut sink: ResponseSink<EchoReply>,
    ) -> Result<(), Status> {
        while let Some(request) = requests.message().await? {
            sink.send(EchoReply { text: request.text }).await?;
        }
        Ok(())
    }
}

#[tokio::test]
async fn the_golden_code_serves_and_calls() {
    let dir = tempfile::tempdir().expect("temp dir");
    let socket = dir.path().join("echo.sock");
    let server =
        Server::builder().add_service(echo_server::service(Impl)).bind_unix(&socket).expect("bind");
    let target = server.local_target().expect("bound").to_string();
    let shutdown = server.shutdown_handle();
    let serving = tokio::spawn(server.serve());
    // By socket path, as bound; and by target string.
    let client = EchoClient::connect(&socket).await.expect("connect");
    assert_eq!(client.channel().target().to_string(), target);
    let by_string = EchoClient::new(Channel::connect(&target).await.expect("connect"));
    assert_eq!(by_string.channel().target(), client.channel().target());

    let reply = client.say(EchoRequest { text: "hi".into() }, CallOptions::new()).await;
    assert_eq!(reply.expect("say").into_inner().text, "hi");

    let mut collect = client.collect(CallOptions::new()).await.expect("collect");
    for text in ["a", "b", "c"] {
        collect.send(EchoRequest { text: text.into() }).await.expect("send");
    }
    assert_eq!(collect.finish().await.expect("finish").into_inner().text, "abc");

    let (mut requests, mut replies) = client.chat(CallOptions::new()).await.expect("chat");
    requests.send(EchoRequest { text: "x".into() }).await.expect("send");
    assert_eq!(replies.message().await.expect("reply").expect("one").text, "x");
    requests.close().await.expect("close");
    assert!(replies.message().await.expect("end").is_none());

    // Defaults: UNIMPLEMENTED, naming the method's path.
    let request = RepeatRequest { text: "x".into(), count: 2 };
    let mut repeat = client.repeat(&request, CallOptions::new()).await.expect("repeat");
    let status = repeat.message().await.expect_err("unimplemented");
    assert_eq!(status.code(), Code::Unimplemented);
    assert_eq!(status.message(), "method /echo.v1.Echo/Repeat is not implemented");
    let status = client.ping((), CallOptions::new()).await.expect_err("unimplemented");
    assert_eq!(status.code(), Code::Unimplemented);

    shutdown.shutdown();
    serving.await.expect("join").expect("serve");
}
