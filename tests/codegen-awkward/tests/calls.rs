//! Each awkward proto's generated code, implemented and called over a Unix socket: the paths on
//! the wire are exactly `/package.Service/Method` (or `/Service/Method`), case-sensitive.

use codegen_awkward::awkward::{empty, keywords, nested, same, two};
use codegen_awkward::packageless;
use h2grpc::server::{RequestStream, ResponseSink};
use h2grpc::{CallContext, CallOptions, Channel, Code, Server, Service, Status};

/// Serves `services` on a Unix socket in a temp dir (bound before `serve` is spawned).
struct Running {
    channel: Channel,
    shutdown: h2grpc::server::ShutdownHandle,
    serving: tokio::task::JoinHandle<Result<(), h2grpc::Error>>,
    _dir: tempfile::TempDir,
}

async fn serve(services: Vec<Service>) -> Running {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut builder = Server::builder();
    for service in services {
        builder.add_service(service);
    }
    let server = builder.bind_unix(dir.path().join("awkward.sock")).expect("bind");
    let target = server.local_target().expect("bound").to_string();
    let shutdown = server.shutdown_handle();
    let serving = tokio::spawn(server.serve());
    let channel = Channel::connect(&target).await.expect("connect");
    Running { channel, shutdown, serving, _dir: dir }
}

impl Running {
    async fn stop(self) {
        self.shutdown.shutdown();
        self.serving.await.expect("join").expect("serve");
    }
}

struct Packageless;
impl packageless::svc_server::Svc for Packageless {
    async fn method(
        &self,
        ctx: CallContext,
        ping: packageless::Ping,
    ) -> Result<packageless::Pong, Status> {
        assert_eq!(ctx.method(), "/Svc/Method");
        Ok(packageless::Pong { text: ping.text })
    }
}

#[tokio::test]
async fn a_package_less_service_is_at_slash_service_slash_method() {
    assert_eq!(packageless::svc_server::SERVICE_NAME, "Svc");
    let running = serve(vec![packageless::svc_server::service(Packageless)]).await;
    let client = packageless::svc_client::SvcClient::new(running.channel.clone());
    let ping = packageless::Ping { text: "hi".into() };
    let pong = client.method(&ping, CallOptions::new()).await.expect("call").into_inner();
    assert_eq!(pong.text, "hi");
    // The same call by raw path, and paths are case-sensitive.
    let raw =
        running.channel.unary::<_, packageless::Pong>("/Svc/Method", &ping, CallOptions::new());
    assert_eq!(raw.await.expect("raw call").into_inner().text, "hi");
    let wrong =
        running.channel.unary::<_, packageless::Pong>("/svc/method", &ping, CallOptions::new());
    assert_eq!(wrong.await.expect_err("case matters").code(), Code::Unimplemented);
    running.stop().await;
}

struct Alpha;
impl two::alpha_server::Alpha for Alpha {
    async fn name(&self, _ctx: CallContext, who: two::Who) -> Result<two::Who, Status> {
        Ok(two::Who { name: format!("alpha:{}", who.name) })
    }
}

struct Beta;
impl two::beta_server::Beta for Beta {
    async fn count(
        &self,
        _ctx: CallContext,
        mut whos: RequestStream<two::Who>,
    ) -> Result<two::Who, Status> {
        let mut n = 0;
        while whos.message().await?.is_some() {
            n += 1;
        }
        Ok(two::Who { name: n.to_string() })
    }
}

#[tokio::test]
async fn two_services_of_one_file_are_both_served_and_defaults_answer_unimplemented() {
    let running =
        serve(vec![two::alpha_server::service(Alpha), two::beta_server::service(Beta)]).await;
    let alpha = two::alpha_client::AlphaClient::new(running.channel.clone());
    let beta = two::beta_client::BetaClient::new(running.channel.clone());
    let who = two::Who { name: "x".into() };
    assert_eq!(
        alpha.name(&who, CallOptions::new()).await.expect("alpha").into_inner().name,
        "alpha:x"
    );
    let mut count = beta.count(CallOptions::new()).await.expect("count");
    count.send(&who).await.expect("send");
    count.send(&who).await.expect("send");
    assert_eq!(count.finish().await.expect("finish").into_inner().name, "2");
    // Beta does not implement Name: the default answers UNIMPLEMENTED, naming the path.
    let status = beta.name(&who, CallOptions::new()).await.expect_err("unimplemented");
    assert_eq!(status.code(), Code::Unimplemented);
    assert_eq!(status.message(), "method /awkward.two.Beta/Name is not implemented");
    running.stop().await;
}

struct Words;
impl keywords::keywords_server::Keywords for Words {
    async fn r#type(&self, _ctx: CallContext, w: keywords::Word) -> Result<keywords::Word, Status> {
        Ok(keywords::Word { word: format!("type:{}", w.word) })
    }

    async fn self_(&self, _ctx: CallContext, w: keywords::Word) -> Result<keywords::Word, Status> {
        Ok(keywords::Word { word: format!("self:{}", w.word) })
    }

    async fn r#async(
        &self,
        _ctx: CallContext,
        mut words: RequestStream<keywords::Word>,
        mut sink: ResponseSink<keywords::Word>,
    ) -> Result<(), Status> {
        while let Some(w) = words.message().await? {
            sink.send(keywords::Word { word: format!("async:{}", w.word) }).await?;
        }
        Ok(())
    }

    async fn new_(&self, _ctx: CallContext, w: keywords::Word) -> Result<keywords::Word, Status> {
        Ok(keywords::Word { word: format!("new:{}", w.word) })
    }
}

#[tokio::test]
async fn methods_named_like_keywords_keep_their_proto_names_on_the_wire() {
    let running = serve(vec![keywords::keywords_server::service(Words)]).await;
    let client = keywords::keywords_client::KeywordsClient::new(running.channel.clone());
    let w = keywords::Word { word: "w".into() };
    let o = CallOptions::new;
    assert_eq!(client.r#type(&w, o()).await.expect("type").into_inner().word, "type:w");
    assert_eq!(client.self_(&w, o()).await.expect("self").into_inner().word, "self:w");
    assert_eq!(client.new_(&w, o()).await.expect("new").into_inner().word, "new:w");
    let (mut tx, mut rx) = client.r#async(o()).await.expect("async");
    tx.send(&w).await.expect("send");
    assert_eq!(rx.message().await.expect("reply").expect("one").word, "async:w");
    tx.close().await.expect("close");
    let mut stream = client.channel_(&w, o()).await.expect("channel_");
    assert_eq!(stream.message().await.expect_err("default").code(), Code::Unimplemented);
    // On the wire, the proto's names: /awkward.keywords.Keywords/Type.
    let raw =
        running.channel.unary::<_, keywords::Word>("/awkward.keywords.Keywords/Type", &w, o());
    assert_eq!(raw.await.expect("raw").into_inner().word, "type:w");
    running.stop().await;
}

struct Nothing;
impl empty::nothing_server::Nothing for Nothing {
    async fn unary(&self, _ctx: CallContext, (): ()) -> Result<(), Status> {
        Ok(())
    }

    async fn down(
        &self,
        _ctx: CallContext,
        (): (),
        mut sink: ResponseSink<()>,
    ) -> Result<(), Status> {
        for _ in 0..3 {
            sink.send(()).await?;
        }
        Ok(())
    }

    async fn up(&self, _ctx: CallContext, mut empties: RequestStream<()>) -> Result<(), Status> {
        let mut n = 0;
        while empties.message().await?.is_some() {
            n += 1;
        }
        match n {
            2 => Ok(()),
            n => Err(Status::invalid_argument(format!("expected 2 empties, got {n}"))),
        }
    }

    async fn both(
        &self,
        _ctx: CallContext,
        mut empties: RequestStream<()>,
        mut sink: ResponseSink<()>,
    ) -> Result<(), Status> {
        while empties.message().await?.is_some() {
            sink.send(()).await?;
        }
        Ok(())
    }
}

#[tokio::test]
async fn google_protobuf_empty_streams_in_every_call_kind() {
    let running = serve(vec![empty::nothing_server::service(Nothing)]).await;
    let client = empty::nothing_client::NothingClient::new(running.channel.clone());
    client.unary((), CallOptions::new()).await.expect("unary");
    let mut down = client.down((), CallOptions::new()).await.expect("down");
    let mut n = 0;
    while down.message().await.expect("message").is_some() {
        n += 1;
    }
    assert_eq!(n, 3);
    let mut up = client.up(CallOptions::new()).await.expect("up");
    up.send(()).await.expect("send");
    up.send(()).await.expect("send");
    up.finish().await.expect("finish");
    let (mut tx, mut rx) = client.both(CallOptions::new()).await.expect("both");
    for _ in 0..3 {
        tx.send(()).await.expect("send");
        assert_eq!(rx.message().await.expect("reply"), Some(()));
    }
    tx.close().await.expect("close");
    assert_eq!(rx.message().await.expect("end"), None);
    running.stop().await;
}

struct Deep;
impl nested::deeper::v1::deep_server::Deep for Deep {
    async fn up(
        &self,
        _ctx: CallContext,
        base: nested::Base,
    ) -> Result<nested::base::Inner, Status> {
        Ok(nested::base::Inner { n: base.text.len() as i32 })
    }

    async fn local(
        &self,
        _ctx: CallContext,
        part: nested::deeper::v1::local::Part,
    ) -> Result<nested::Base, Status> {
        Ok(nested::Base { text: part.n.to_string() })
    }
}

#[tokio::test]
async fn nested_packages_use_outer_and_nested_message_types() {
    use nested::deeper::v1::{deep_client::DeepClient, deep_server};
    assert_eq!(deep_server::SERVICE_NAME, "awkward.nested.deeper.v1.Deep");
    let running = serve(vec![deep_server::service(Deep)]).await;
    let client = DeepClient::new(running.channel.clone());
    let base = nested::Base { text: "four".into() };
    assert_eq!(client.up(&base, CallOptions::new()).await.expect("up").into_inner().n, 4);
    let part = nested::deeper::v1::local::Part { n: 7 };
    assert_eq!(client.local(part, CallOptions::new()).await.expect("local").into_inner().text, "7");
    running.stop().await;
}

struct Finder;
impl same::finder_server::Finder for Finder {
    async fn lookup(&self, _ctx: CallContext, l: same::Lookup) -> Result<same::Lookup, Status> {
        Ok(same::Lookup { key: l.key.to_uppercase() })
    }
}

struct Statuses;
impl same::service_server::Service for Statuses {
    async fn status(&self, _ctx: CallContext, s: same::Status) -> Result<same::Status, Status> {
        Ok(same::Status { code: s.code + 1 })
    }
}

#[tokio::test]
async fn names_shared_by_messages_methods_and_the_runtime_do_not_clash() {
    let running =
        serve(vec![same::finder_server::service(Finder), same::service_server::service(Statuses)])
            .await;
    let finder = same::finder_client::FinderClient::new(running.channel.clone());
    let key = same::Lookup { key: "k".into() };
    assert_eq!(finder.lookup(key, CallOptions::new()).await.expect("lookup").into_inner().key, "K");
    let service = same::service_client::ServiceClient::new(running.channel.clone());
    let status = same::Status { code: 1 };
    let reply = service.status(status, CallOptions::new()).await.expect("status").into_inner();
    assert_eq!(reply.code, 2);
    running.stop().await;
}
