#![no_main]
use h2grpc::__fuzz::{client_conn, Script};
libfuzzer_sys::fuzz_target!(|script: h2grpc_fuzz::Input<Script>| client_conn(&script.0));
