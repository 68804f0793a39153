#![no_main]
use h2grpc::__fuzz::{server_conn, Script};
libfuzzer_sys::fuzz_target!(|script: h2grpc_fuzz::Input<Script>| server_conn(&script.0));
