//! Build script: compiles every `.proto` under `proto/` (sorted; imports resolved from `proto/`)
//! into `OUT_DIR` with h2grpc-build, for `h2grpc::include_proto!` in examples and tests. New
//! protos dropped anywhere under `proto/` are picked up without touching this file.
//!
//! It runs only with the `protos` feature, which this crate's own tests and examples enable
//! through a dev-dependency on itself: users of h2grpc do not compile the generator.

#[cfg(feature = "protos")]
use std::path::{Path, PathBuf};

#[cfg(not(feature = "protos"))]
fn main() {}

#[cfg(feature = "protos")]
fn main() -> std::io::Result<()> {
    println!("cargo:rerun-if-changed=proto");
    let mut protos = Vec::new();
    find_protos(Path::new("proto"), &mut protos)?;
    protos.sort();
    h2grpc_build::compile_protos(&protos, &["proto"])
}

#[cfg(feature = "protos")]
fn find_protos(dir: &Path, found: &mut Vec<PathBuf>) -> std::io::Result<()> {
    if !dir.is_dir() {
        return Ok(()); // e.g. a packaged crate without its example protos
    }
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            find_protos(&path, found)?;
        } else if path.extension().is_some_and(|ext| ext == "proto") {
            found.push(path);
        }
    }
    Ok(())
}
