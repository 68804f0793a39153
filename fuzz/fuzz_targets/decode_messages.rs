#![no_main]
// Streaming Decoder under any chunking == one-shot decode_all; limits kept.
libfuzzer_sys::fuzz_target!(|data: &[u8]| h2grpc::__fuzz::decode_messages(data));
