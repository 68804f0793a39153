//! `bench-floor server|client`: the floor stack (see `h2grpc_bench::cli`).
fn main() -> std::process::ExitCode {
    h2grpc_bench::cli::main::<h2grpc_bench::stacks::Floor>()
}
