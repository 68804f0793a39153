#![no_main]
// Any header map parses without panicking; render -> parse round-trips.
libfuzzer_sys::fuzz_target!(|data: &[u8]| h2grpc::__fuzz::status_trailers(data));
