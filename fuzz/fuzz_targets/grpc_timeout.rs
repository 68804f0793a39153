#![no_main]
// parse accepts exactly the grammar; accepted values re-encode and parse equal.
libfuzzer_sys::fuzz_target!(|data: &[u8]| h2grpc::__fuzz::grpc_timeout(data));
