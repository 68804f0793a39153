//! Generates, with protox instead of protoc, from the one bench proto:
//! - the messages (shared by every stack, `bytes` fields as `bytes::Bytes`) and tonic's client
//!   and server, with tonic-prost-build, into `OUT_DIR/bench.rs`;
//! - h2grpc's server trait and client with h2grpc-build's generator, on those same messages
//!   (`extern_path`), into `OUT_DIR/h2grpc/bench.rs`.
use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let fds = protox::compile(["proto/bench.proto"], ["proto"])?;
    tonic_prost_build::configure()
        // `bytes data = 1` as `bytes::Bytes`: decoding slices the received buffer, no copy.
        .bytes(".")
        .compile_fds(fds.clone())?;

    let out = PathBuf::from(std::env::var("OUT_DIR")?).join("h2grpc");
    std::fs::create_dir_all(&out)?;
    let mut config = h2grpc_build::prost_build::Config::new();
    config
        .service_generator(h2grpc_build::configure().service_generator())
        .extern_path(".bench", "crate::proto")
        .out_dir(&out);
    config.compile_fds(fds)?;
    println!("cargo:rerun-if-changed=proto/bench.proto");
    Ok(())
}
