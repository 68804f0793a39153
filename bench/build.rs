//! Generates the bench proto's messages (shared by every stack) and tonic's client and server,
//! with protox instead of protoc.
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let fds = protox::compile(["proto/bench.proto"], ["proto"])?;
    tonic_prost_build::configure()
        // `bytes data = 1` as `bytes::Bytes`: decoding slices the received buffer, no copy.
        .bytes(".")
        .compile_fds(fds)?;
    println!("cargo:rerun-if-changed=proto/bench.proto");
    Ok(())
}
