//! The README demo: a `helloworld.Greeter` server on a Unix socket in a temp dir, one call
//! through the generated client, a clean shutdown.
//!
//! Run with `cargo run --example greeter`; with `H2GRPC_TRACE=1`, both sides also print the
//! wire trace of the call to stderr.

use h2grpc::trace::Trace;
use h2grpc::{CallContext, CallOptions, Channel, Server, Status};

/// The code generated from `proto/helloworld.proto` by `build.rs`.
pub mod helloworld {
    h2grpc::include_proto!("helloworld");
}
use helloworld::greeter_client::GreeterClient;
use helloworld::greeter_server::{self, Greeter};
use helloworld::{HelloReply, HelloRequest};

struct MyGreeter;

impl Greeter for MyGreeter {
    async fn say_hello(&self, ctx: CallContext, req: HelloRequest) -> Result<HelloReply, Status> {
        let uid = ctx.peer().uid().unwrap_or_default();
        Ok(HelloReply { message: format!("Hello, {}! (your uid is {uid})", req.name) })
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let socket = dir.path().join("greeter.sock");
    let server = Server::builder()
        .add_service(greeter_server::service(MyGreeter))
        .trace(Trace::from_env()) // H2GRPC_TRACE=1: the wire trace on stderr
        .bind_unix(&socket)?;
    let shutdown = server.shutdown_handle();
    let serving = tokio::spawn(server.serve());

    let channel = Channel::builder(&socket)?.trace(Trace::from_env()).connect().await?;
    let client = GreeterClient::new(channel);
    let request = HelloRequest { name: "world".into() };
    let reply = client.say_hello(request, CallOptions::new()).await?;
    println!("{}", reply.into_inner().message);

    shutdown.shutdown();
    serving.await??;
    Ok(())
}
