//! The server half of the inter-process example: `helloworld.Greeter` on a Unix socket, telling
//! each caller who the kernel says it is (`SO_PEERCRED`), until Ctrl-C.
//!
//! ```sh
//! cargo run --example uds_server -- /tmp/greeter.sock    # default: <temp dir>/h2grpc-greeter.sock
//! cargo run --example uds_client -- /tmp/greeter.sock you  # in another terminal
//! ```

use std::path::PathBuf;

use h2grpc::{CallContext, Server, Status};

/// The code generated from `proto/helloworld.proto` by `build.rs`.
pub mod helloworld {
    h2grpc::include_proto!("helloworld");
}
use helloworld::greeter_server::{self, Greeter};
use helloworld::{HelloReply, HelloRequest};

struct CredGreeter;

impl Greeter for CredGreeter {
    async fn say_hello(&self, ctx: CallContext, req: HelloRequest) -> Result<HelloReply, Status> {
        let peer = ctx.peer();
        let (pid, uid) = (peer.pid().unwrap_or_default(), peer.uid().unwrap_or_default());
        Ok(HelloReply { message: format!("Hello, {}! You are pid {pid}, uid {uid}.", req.name) })
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let socket = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("h2grpc-greeter.sock"));
    let server = Server::builder()
        .add_service(greeter_server::service(CredGreeter))
        .socket_mode(0o600) // only this user may connect
        .bind_unix(&socket)?;
    let shutdown = server.shutdown_handle();
    let serving = tokio::spawn(server.serve());
    println!("listening on {}", socket.display());

    tokio::signal::ctrl_c().await?;
    println!("shutting down");
    shutdown.shutdown(); // stops accepting, finishes in-flight calls, removes the socket file
    serving.await??;
    Ok(())
}
