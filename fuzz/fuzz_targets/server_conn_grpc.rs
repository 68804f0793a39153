#![no_main]
use h2grpc::__fuzz::{server_conn, GrpcCalls};
libfuzzer_sys::fuzz_target!(|calls: h2grpc_fuzz::Input<GrpcCalls>| {
    h2grpc_fuzz::tolerate_h2_counts_drop_assertion();
    server_conn(&calls.0 .0)
});
