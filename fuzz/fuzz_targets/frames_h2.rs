#![no_main]
libfuzzer_sys::fuzz_target!(|bytes: &[u8]| h2grpc::__fuzz::frames_h2(bytes));
