//! Code that the library itself ships generated (so that its users never run the generator)
//! must match what h2grpc-build makes of its proto today. After an intended change:
//! `H2GRPC_BLESS=1 cargo test --test generated`, then review the diff.

use std::path::Path;

fn check(proto: &str, package: &str, checked_in: &str) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = tempfile::tempdir().expect("temp dir");
    h2grpc_build::configure()
        .out_dir(out.path())
        .crate_path("crate")
        .emit_rerun_if_changed(false)
        .compile(&[root.join("proto").join(proto)], &[root.join("proto")])
        .expect("compile");
    let generated = std::fs::read_to_string(out.path().join(format!("{package}.rs"))).unwrap();
    let path = root.join(checked_in);
    if std::env::var_os("H2GRPC_BLESS").is_some_and(|v| v == "1") {
        std::fs::write(&path, &generated).expect("write");
        return;
    }
    let current = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        current == generated,
        "{} is stale: run `H2GRPC_BLESS=1 cargo test --test generated` and review the diff",
        path.display()
    );
}

#[test]
fn the_health_service_code_is_what_the_generator_makes_of_health_proto() {
    check("grpc/health/v1/health.proto", "grpc.health.v1", "src/health/generated.rs");
}
