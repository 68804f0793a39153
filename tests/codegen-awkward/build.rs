//! Compiles every proto in `tests/protos/awkward/` with h2grpc-build, as a user's build.rs would.

fn main() -> std::io::Result<()> {
    let dir = std::path::Path::new("../protos/awkward");
    let mut protos: Vec<_> =
        std::fs::read_dir(dir)?.map(|entry| entry.map(|e| e.path())).collect::<Result<_, _>>()?;
    protos.retain(|p| p.extension().is_some_and(|ext| ext == "proto"));
    protos.sort();
    h2grpc_build::compile_protos(&protos, &[dir])
}
