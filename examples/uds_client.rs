//! The client half of the inter-process example: one call to `uds_server` over its Unix socket.
//!
//! ```sh
//! cargo run --example uds_client -- /tmp/greeter.sock you  # defaults: the server's, "world"
//! ```

use std::path::PathBuf;
use std::time::Duration;

use h2grpc::CallOptions;

/// The code generated from `proto/helloworld.proto` by `build.rs`.
pub mod helloworld {
    h2grpc::include_proto!("helloworld");
}
use helloworld::greeter_client::GreeterClient;
use helloworld::HelloRequest;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args_os().skip(1);
    let socket = args
        .next()
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("h2grpc-greeter.sock"));
    let name = args.next().map_or("world".into(), |n| n.to_string_lossy().into_owned());

    let client = GreeterClient::connect(&socket).await?; // the socket's path, as bound
    let options = CallOptions::new().timeout(Duration::from_secs(5));
    let reply = client.say_hello(HelloRequest { name }, options).await?;
    println!("{}", reply.into_inner().message);
    Ok(())
}
