//! The README demo: a server on a Unix socket in a temp dir, one call, a clean shutdown.
//!
//! Run with `cargo run --example greeter`.

use h2grpc::{CallOptions, Channel, Server, Service, Status};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::temp_dir().join(format!("h2grpc-greeter-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let socket = dir.join("greeter.sock");

    // `String` is protobuf's StringValue: enough for a first call without a .proto.
    let greeter =
        Service::new("helloworld.Greeter").unary("SayHello", |ctx, name: String| async move {
            let uid = ctx.peer().uid().unwrap_or_default();
            Ok::<_, Status>(format!("Hello, {name}! (your uid is {uid})"))
        });
    let server = Server::builder().add_service(greeter).bind_unix(&socket)?;
    let shutdown = server.shutdown_handle();
    let serving = tokio::spawn(server.serve());

    let channel = Channel::connect(&format!("unix:{}", socket.display())).await?;
    let reply: String = channel
        .unary("/helloworld.Greeter/SayHello", &"world".to_string(), CallOptions::new())
        .await?
        .into_inner();
    println!("{reply}");

    shutdown.shutdown();
    serving.await??;
    std::fs::remove_dir(&dir)?;
    Ok(())
}
