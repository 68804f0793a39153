//! Compiles `proto/grpc/testing/test.proto` (the interop service, shared with h2grpc and the
//! other peers) for tonic, without protoc: protox parses it into a file descriptor set and
//! tonic-prost-build generates the messages, the server trait and the client.
use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../proto");
    let test_proto = root.join("grpc/testing/test.proto");
    let fds = protox::compile([&test_proto], [&root])?;
    for file in ["empty.proto", "messages.proto", "test.proto"] {
        println!("cargo:rerun-if-changed={}", root.join("grpc/testing").join(file).display());
    }
    // The encoded set, for tonic-reflection (`--reflection`).
    let out = PathBuf::from(std::env::var("OUT_DIR")?);
    std::fs::write(out.join("grpc_testing_descriptor.bin"), prost::Message::encode_to_vec(&fds))?;
    tonic_prost_build::configure().compile_fds(fds)?;
    Ok(())
}
