//! Code that the library itself ships generated (so that its users never run the generator)
//! must match what h2grpc-build makes of its proto today, and so must the file descriptor sets
//! it ships for server reflection. After an intended change:
//! `H2GRPC_BLESS=1 cargo test --test generated`, then review the diff.

use std::path::Path;

/// Generates `proto` (package `package`) with descriptor sets, and compares the result with
/// `dir/generated.rs` (unless `rust` is false: only the descriptor set is shipped) and
/// `dir/<package>.bin`.
fn check(proto: &str, package: &str, dir: &str, rust: bool) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = tempfile::tempdir().expect("temp dir");
    h2grpc_build::configure()
        .out_dir(out.path())
        .crate_path("crate")
        .emit_rerun_if_changed(false)
        .file_descriptor_set(true)
        .compile(&[root.join("proto").join(proto)], &[root.join("proto")])
        .expect("compile");
    let mut pairs = vec![(format!("{package}.bin"), format!("{package}.bin"))];
    if rust {
        pairs.push((format!("{package}.rs"), "generated.rs".to_owned()));
    }
    for (made, shipped) in pairs {
        let generated = std::fs::read(out.path().join(&made)).expect("generated file");
        let path = root.join(dir).join(shipped);
        if std::env::var_os("H2GRPC_BLESS").is_some_and(|v| v == "1") {
            std::fs::write(&path, &generated).expect("write");
            continue;
        }
        let current = std::fs::read(&path).unwrap_or_default();
        assert!(
            current == generated,
            "{} is stale: run `H2GRPC_BLESS=1 cargo test --test generated` and review the diff",
            path.display()
        );
    }
}

#[test]
fn the_health_service_code_is_what_the_generator_makes_of_health_proto() {
    check("grpc/health/v1/health.proto", "grpc.health.v1", "src/health", true);
}

#[test]
fn the_reflection_service_code_is_what_the_generator_makes_of_reflection_proto() {
    check("grpc/reflection/v1/reflection.proto", "grpc.reflection.v1", "src/reflection", true);
}

#[test]
fn the_v1alpha_reflection_descriptors_are_what_the_generator_makes_of_its_proto() {
    // v1alpha is served with the v1 code (the two are the same on the wire); only its
    // descriptors are shipped, for reflection to describe itself.
    let proto = "grpc/reflection/v1alpha/reflection.proto";
    check(proto, "grpc.reflection.v1alpha", "src/reflection", false);
}

/// The google.rpc error model (`status.proto`, `error_details.proto`) and the two well-known
/// types it uses (`Any`, `Duration`), generated as plain prost messages into
/// `src/status/details/` for the `error-details` feature: no prost-types, no build script.
#[test]
fn the_error_details_code_is_what_prost_makes_of_the_google_rpc_protos() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = tempfile::tempdir().expect("temp dir");
    let protos = ["google/rpc/status.proto", "google/rpc/error_details.proto"];
    let fds = h2grpc_build::protox::compile(protos, [root.join("proto")]).expect("compile");
    h2grpc_build::prost_build::Config::new()
        .compile_well_known_types()
        // Any and Duration come from protox's copies of the well-known types: their long
        // upstream comments stay there.
        .disable_comments([".google.protobuf"])
        .out_dir(out.path())
        .compile_fds(fds)
        .expect("generate");
    for file in ["google.rpc.rs", "google.protobuf.rs"] {
        let generated = std::fs::read(out.path().join(file)).expect("generated file");
        let path = root.join("src/status/details").join(file);
        if std::env::var_os("H2GRPC_BLESS").is_some_and(|v| v == "1") {
            std::fs::write(&path, &generated).expect("write");
            continue;
        }
        let current = std::fs::read(&path).unwrap_or_default();
        assert!(
            current == generated,
            "{} is stale: run `H2GRPC_BLESS=1 cargo test --test generated` and review the diff",
            path.display()
        );
    }
}
