//! A server that describes itself: `helloworld.Greeter` and the health service, with server
//! reflection, on a Unix socket until SIGTERM or Ctrl-C. Tools need no `.proto` to call it:
//!
//! ```sh
//! cargo run --example reflection_server -- /tmp/reflection.sock
//! grpcurl -plaintext -unix /tmp/reflection.sock list
//! grpcurl -plaintext -unix /tmp/reflection.sock describe helloworld.Greeter
//! grpcurl -plaintext -unix -d '{"name": "you"}' /tmp/reflection.sock helloworld.Greeter/SayHello
//! ```
//!
//! `tests/reflection_python.rs` runs Python's `grpcio-reflection` client against it.

use std::path::PathBuf;

use h2grpc::health::HealthReporter;
use h2grpc::{CallContext, Server, Status};

/// The code generated from `proto/helloworld.proto` by `build.rs`, with its descriptors
/// (`FILE_DESCRIPTOR_SET`: build.rs turns on `file_descriptor_set`).
pub mod helloworld {
    h2grpc::include_proto!("helloworld");
}
use helloworld::greeter_server::{self, Greeter};
use helloworld::{HelloReply, HelloRequest};

struct MyGreeter;

impl Greeter for MyGreeter {
    async fn say_hello(&self, _ctx: CallContext, req: HelloRequest) -> Result<HelloReply, Status> {
        Ok(HelloReply { message: format!("Hello, {}!", req.name) })
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let socket = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("h2grpc-reflection.sock"));
    let health = HealthReporter::new();
    let server = Server::builder()
        .add_service(greeter_server::service(MyGreeter))
        .add_service(health.service())
        .add_reflection([helloworld::FILE_DESCRIPTOR_SET]) // health's descriptors are built in
        .bind_unix(&socket)?;
    println!("listening on {}", socket.display());
    // Until SIGTERM or Ctrl-C; then drains, and removes the socket file.
    h2grpc::daemon::serve(server).await?;
    Ok(())
}
