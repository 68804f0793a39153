//! The generator's output, checked piece by piece on hand-built services. The whole output for
//! one proto is pinned by the golden file in the workspace's `tests/golden/`, and compiled and
//! called by `tests/codegen-awkward/`.

use prost_build::ServiceGenerator as _;

use super::*;

fn method(proto_name: &str, input: &str, output: &str, client: bool, server: bool) -> Method {
    Method {
        name: proto_name.to_snake_case(),
        proto_name: proto_name.to_owned(),
        comments: Comments::default(),
        input_type: input.to_owned(),
        output_type: output.to_owned(),
        input_proto_type: String::new(),
        output_proto_type: String::new(),
        options: Default::default(),
        client_streaming: client,
        server_streaming: server,
    }
}

fn service(package: &str, name: &str, methods: Vec<Method>) -> Service {
    Service {
        name: name.to_owned(),
        proto_name: name.to_owned(),
        package: package.to_owned(),
        comments: Comments::default(),
        methods,
        options: Default::default(),
    }
}

fn generate(service: Service) -> String {
    let mut generator = Generator {
        build_server: true,
        build_client: true,
        crate_path: "::h2grpc".to_owned(),
        file_descriptor_set: false,
    };
    let mut buf = String::new();
    generator.generate(service, &mut buf);
    buf
}

#[test]
fn paths_are_package_service_method_exactly_as_in_the_proto() {
    let code = generate(service(
        "my.pkg.v1",
        "EchoService",
        vec![method("SayHTTP", "Req", "Resp", false, false)],
    ));
    assert!(code.contains("pub const SERVICE_NAME: &str = \"my.pkg.v1.EchoService\";"), "{code}");
    assert!(code.contains(".unary(\"SayHTTP\", {"), "{code}");
    assert!(code.contains("\"/my.pkg.v1.EchoService/SayHTTP\""), "{code}");
    assert!(code.contains("pub mod echo_service_server {"), "{code}");
    assert!(code.contains("pub mod echo_service_client {"), "{code}");
}

#[test]
fn package_less_services_have_no_leading_dot() {
    let code = generate(service("", "Svc", vec![method("Do", "Req", "Resp", false, false)]));
    assert!(code.contains("SERVICE_NAME: &str = \"Svc\";"), "{code}");
    assert!(code.contains("\"/Svc/Do\""), "{code}");
}

#[test]
fn each_call_kind_gets_its_signature_and_builder() {
    let code = generate(service(
        "k",
        "Kinds",
        vec![
            method("One", "Req", "Resp", false, false),
            method("Down", "Req", "Resp", false, true),
            method("Up", "Req", "Resp", true, false),
            method("Both", "Req", "Resp", true, true),
        ],
    ));
    for expected in [
        "        fn one(\n            &self,\n            ctx: codegen::CallContext,\n            request: super::Req,\n        ) -> impl codegen::Future<Output = Result<super::Resp, codegen::Status>> + Send {",
        "            request: super::Req,\n            sink: codegen::ResponseSink<super::Resp>,\n        ) -> impl codegen::Future<Output = Result<(), codegen::Status>> + Send {",
        "            requests: codegen::RequestStream<super::Req>,\n        ) -> impl codegen::Future<Output = Result<super::Resp, codegen::Status>> + Send {",
        "            requests: codegen::RequestStream<super::Req>,\n            sink: codegen::ResponseSink<super::Resp>,\n        ) -> impl codegen::Future<Output = Result<(), codegen::Status>> + Send {",
        ".unary(\"One\"",
        ".server_streaming(\"Down\"",
        ".client_streaming(\"Up\"",
        ".bidi_streaming(\"Both\"",
        ") -> Result<codegen::Response<super::Resp>, codegen::Status> {",
        ") -> Result<codegen::ResponseStream<super::Resp>, codegen::Status> {",
        ") -> Result<codegen::ClientStreamingCall<super::Req, super::Resp>, codegen::Status> {",
        // Past 100 columns: broken as rustfmt would.
        ") -> Result<\n            (codegen::RequestSink<super::Req>, codegen::ResponseStream<super::Resp>),\n            codegen::Status,\n        > {",
    ] {
        assert!(code.contains(expected), "missing {expected:?} in\n{code}");
    }
}

#[test]
fn default_methods_answer_unimplemented_naming_the_path() {
    let code = generate(service("p", "S", vec![method("M", "A", "B", false, false)]));
    assert!(code.contains("let message = \"method /p.S/M is not implemented\";"), "{code}");
    assert!(code.contains("Err(codegen::Status::unimplemented(message))"), "{code}");
}

#[test]
fn keyword_method_names_are_escaped_and_client_names_kept_free() {
    // prost-build escapes keywords in `Method::name` already: `r#type`, `self_`.
    let mut keyword = method("Type", "A", "B", false, false);
    keyword.name = "r#type".to_owned();
    let code = generate(service(
        "p",
        "S",
        vec![
            keyword,
            method("New", "A", "B", false, false),
            method("Channel", "A", "B", false, false),
        ],
    ));
    assert!(code.contains("fn r#type("), "{code}");
    assert!(code.contains("<T as S>::r#type(&implementation, ctx, request)"), "{code}");
    assert!(code.contains("pub async fn new_("), "{code}");
    assert!(code.contains("pub async fn channel_("), "{code}");
    assert!(code.contains(".unary(\"New\""), "{code}");
}

#[test]
fn message_types_are_seen_from_one_module_deeper() {
    assert_eq!(rust_type("HelloRequest"), "super::HelloRequest");
    assert_eq!(rust_type("super::other::Msg"), "super::super::other::Msg");
    assert_eq!(rust_type("outer::Inner"), "super::outer::Inner");
    assert_eq!(rust_type("()"), "()");
    assert_eq!(rust_type("::prost_types::Any"), "::prost_types::Any");
}

#[test]
fn a_service_named_t_gets_another_type_parameter() {
    let code = generate(service("p", "T", vec![method("M", "A", "B", false, false)]));
    assert!(code.contains("pub fn service<Impl: T>(implementation: Impl)"), "{code}");
    assert!(code.contains("<Impl as T>::m(&implementation"), "{code}");
}

#[test]
fn a_service_without_methods_still_builds_a_service() {
    let code = generate(service("p", "Empty", vec![]));
    assert!(code.contains("let _ = implementation;\n        codegen::Service::new(SERVICE_NAME)\n"));
}

#[test]
fn proto_comments_become_docs_before_the_generated_lines() {
    let mut m = method("Hello", "A", "B", false, false);
    m.comments.leading = vec![" Says hello.".to_owned(), " See [the spec].".to_owned()];
    let mut s = service("p", "S", vec![m]);
    s.comments.leading = vec![" The service.".to_owned()];
    s.comments.leading_detached = vec![vec![" license header".to_owned()]];
    let code = generate(s);
    assert!(
        code.contains("    /// The service.\n    ///\n    /// Every method's default"),
        "{code}"
    );
    assert!(
        code.contains("        /// Says hello.\n        /// See \\[the spec\\].\n        ///\n        /// Unary call `/p.S/Hello`.\n        fn hello("),
        "{code}"
    );
    assert!(
        code.contains("        /// Unary call `/p.S/Hello`.\n        pub async fn hello("),
        "{code}"
    );
    assert!(!code.contains("license header"), "{code}");
}

#[test]
fn server_and_client_can_each_be_left_out() {
    let s = service("p", "S", vec![method("M", "A", "B", false, false)]);
    let mut buf = String::new();
    Generator {
        build_server: false,
        build_client: true,
        crate_path: "crate".to_owned(),
        file_descriptor_set: false,
    }
    .generate(s.clone(), &mut buf);
    assert!(!buf.contains("s_server") && buf.contains("pub mod s_client"), "{buf}");
    assert!(buf.contains("use crate::__codegen as codegen;"), "{buf}");
    let mut buf = String::new();
    Generator {
        build_server: true,
        build_client: false,
        crate_path: "::h2grpc".to_owned(),
        file_descriptor_set: false,
    }
    .generate(s, &mut buf);
    assert!(buf.contains("pub mod s_server") && !buf.contains("s_client"), "{buf}");
}

#[test]
fn the_descriptor_set_constant_is_emitted_once_per_package_only_when_asked() {
    let mut generator = Generator {
        build_server: true,
        build_client: true,
        crate_path: "::h2grpc".to_owned(),
        file_descriptor_set: true,
    };
    let mut buf = String::new();
    generator.finalize_package("grpc.health.v1", &mut buf);
    assert!(
        buf.ends_with(
            "pub const FILE_DESCRIPTOR_SET: &[u8] = include_bytes!(\"grpc.health.v1.bin\");\n"
        ),
        "{buf}"
    );
    generator.file_descriptor_set = false;
    let mut buf = String::new();
    generator.finalize_package("p", &mut buf);
    assert!(buf.is_empty(), "{buf}");
}
