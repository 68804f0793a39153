#![no_main]
// -bin and ASCII metadata: received maps, API round trips, joined -bin values.
libfuzzer_sys::fuzz_target!(|data: &[u8]| h2grpc::__fuzz::metadata(data));
