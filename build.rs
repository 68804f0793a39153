//! Build script: compiles `proto/` with the h2grpc-build generator (added with code generation).
fn main() {}
