#![no_main]
use h2grpc::__fuzz::{server_conn, Script};
libfuzzer_sys::fuzz_target!(|script: h2grpc_fuzz::Input<Script>| {
    h2grpc_fuzz::tolerate_h2_counts_drop_assertion();
    server_conn(&script.0)
});
