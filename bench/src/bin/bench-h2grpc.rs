//! `bench-h2grpc server|client`: the h2grpc stack (see `h2grpc_bench::cli`).
fn main() -> std::process::ExitCode {
    h2grpc_bench::cli::main::<h2grpc_bench::stacks::H2grpc>()
}
