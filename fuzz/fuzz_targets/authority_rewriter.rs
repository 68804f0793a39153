#![no_main]
use h2grpc_fuzz::rewriter_case::RewriterCase;
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let case = RewriterCase::from_bytes(data);
    h2grpc::__fuzz::authority_rewriter(&case.bytes, &case.sent, case.read_size);
});
