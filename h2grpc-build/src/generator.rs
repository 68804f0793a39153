//! The [`prost_build::ServiceGenerator`] that writes h2grpc servers and clients.
//!
//! For a service `Greeter` in package `helloworld` it appends two modules to the package's file:
//!
//! ```text
//! pub mod greeter_server {            pub mod greeter_client {
//!     pub const SERVICE_NAME: &str;       pub struct GreeterClient { channel }
//!     pub trait Greeter { .. }            impl GreeterClient { new, channel, say_hello, .. }
//!     pub fn service(impl) -> Service }  }
//! ```
//!
//! The text is written here line by line, already indented the way `rustfmt` would (prost-build
//! runs without its `prettyplease` pass, so what this file writes is what users read). Generated
//! code names runtime items only through `{crate_path}::__codegen`, aliased `codegen` inside
//! each module, so no proto name can shadow them.

use std::fmt::Write as _;

use heck::ToSnakeCase;
use prost_build::{Comments, Method, Service};

/// The four call kinds, from the two `stream` keywords of an `rpc`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Unary,
    ServerStreaming,
    ClientStreaming,
    Bidi,
}

impl Kind {
    fn of(method: &Method) -> Kind {
        match (method.client_streaming, method.server_streaming) {
            (false, false) => Kind::Unary,
            (false, true) => Kind::ServerStreaming,
            (true, false) => Kind::ClientStreaming,
            (true, true) => Kind::Bidi,
        }
    }

    /// The `Service` builder method, also the words used in docs.
    fn builder(self) -> &'static str {
        match self {
            Kind::Unary => "unary",
            Kind::ServerStreaming => "server_streaming",
            Kind::ClientStreaming => "client_streaming",
            Kind::Bidi => "bidi_streaming",
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Kind::Unary => "Unary call",
            Kind::ServerStreaming => "Server-streaming call",
            Kind::ClientStreaming => "Client-streaming call",
            Kind::Bidi => "Bidirectional-streaming call",
        }
    }
}

/// Writes an h2grpc server module and client module for every service prost-build meets.
///
/// Obtain one from [`Builder::service_generator`](crate::Builder::service_generator) to drive
/// `prost_build::Config` yourself.
#[derive(Clone, Debug)]
pub(crate) struct Generator {
    pub(crate) build_server: bool,
    pub(crate) build_client: bool,
    pub(crate) crate_path: String,
    /// Emit `FILE_DESCRIPTOR_SET` (the caller writes the `.bin` it includes).
    pub(crate) file_descriptor_set: bool,
}

impl prost_build::ServiceGenerator for Generator {
    fn generate(&mut self, service: Service, buf: &mut String) {
        let service = ServiceNames::new(&service);
        if self.build_server {
            self.server(&service, buf);
        }
        if self.build_client {
            self.client(&service, buf);
        }
    }

    fn finalize_package(&mut self, package: &str, buf: &mut String) {
        if !self.file_descriptor_set {
            return;
        }
        let file = crate::descriptors::file_name(package, "bin");
        buf.push_str(
            "/// This package's `.proto` files and every file they import, as an encoded\n",
        );
        buf.push_str("/// `google.protobuf.FileDescriptorSet`: for server reflection,\n");
        buf.push_str("/// `Server::builder().add_reflection([FILE_DESCRIPTOR_SET])`.\n");
        let _ = writeln!(buf, "pub const FILE_DESCRIPTOR_SET: &[u8] = include_bytes!(\"{file}\");");
    }
}

/// A service with every name the output needs, computed once.
struct ServiceNames<'a> {
    service: &'a Service,
    /// `helloworld.Greeter`, or `Greeter` without a package: the `:path` prefix (case-sensitive).
    full_name: String,
    /// `Greeter`: the server trait.
    trait_name: &'a str,
    /// `greeter`: the stem of `greeter_server` and `greeter_client`.
    module_stem: String,
    methods: Vec<MethodNames<'a>>,
}

struct MethodNames<'a> {
    method: &'a Method,
    kind: Kind,
    /// The Rust method name, with keywords escaped and client-reserved names suffixed by `_`.
    ident: String,
    /// `/helloworld.Greeter/SayHello`.
    path: String,
    input: String,
    output: String,
}

/// Lines longer than this are broken the way rustfmt would break them (its default width).
const MAX_WIDTH: usize = 100;

/// Names of the generated client's own methods, which an RPC's name must not take.
const CLIENT_RESERVED: &[&str] = &["new", "connect", "channel"];

impl<'a> ServiceNames<'a> {
    fn new(service: &'a Service) -> ServiceNames<'a> {
        let full_name = if service.package.is_empty() {
            service.proto_name.clone()
        } else {
            format!("{}.{}", service.package, service.proto_name)
        };
        let methods = service
            .methods
            .iter()
            .map(|method| MethodNames {
                method,
                kind: Kind::of(method),
                ident: if CLIENT_RESERVED.contains(&method.name.as_str()) {
                    format!("{}_", method.name)
                } else {
                    method.name.clone()
                },
                path: format!("/{full_name}/{}", method.proto_name),
                input: rust_type(&method.input_type),
                output: rust_type(&method.output_type),
            })
            .collect();
        ServiceNames {
            service,
            full_name,
            trait_name: &service.name,
            module_stem: service.proto_name.to_snake_case(),
            methods,
        }
    }
}

/// The message type as seen from inside a generated module: one level deeper than prost's
/// package module, so relative paths get `super::`. `()` (google.protobuf.Empty) and absolute
/// paths (`::prost_types::Any`) stay as they are.
fn rust_type(ty: &str) -> String {
    if ty == "()" || ty.starts_with("::") || ty.starts_with("crate::") {
        ty.to_owned()
    } else {
        format!("super::{ty}")
    }
}

/// Whether the proto gives no doc comment (detached comments do not count).
fn is_empty(comments: &Comments) -> bool {
    comments.leading.is_empty() && comments.trailing.is_empty()
}

/// Appends the proto's doc comments (leading, then trailing; detached ones are not docs), then
/// `extra` lines, each as `///` at `indent` levels of four spaces.
fn docs(buf: &mut String, indent: u8, comments: &Comments, extra: &[&str]) {
    let proto = Comments {
        leading_detached: Vec::new(),
        leading: comments.leading.clone(),
        trailing: comments.trailing.clone(),
    };
    proto.append_with_indent(indent, buf);
    let pad = "    ".repeat(indent as usize);
    if !is_empty(comments) && !extra.is_empty() {
        let _ = writeln!(buf, "{pad}///");
    }
    for line in extra {
        if line.is_empty() {
            let _ = writeln!(buf, "{pad}///");
        } else {
            let _ = writeln!(buf, "{pad}/// {line}");
        }
    }
}

impl Generator {
    fn server(&self, s: &ServiceNames<'_>, buf: &mut String) {
        let (full, name, krate) = (&s.full_name, s.trait_name, &self.crate_path);
        let _ = writeln!(
            buf,
            "/// Server side of `{full}`: implement `{name}`, serve it with `service`."
        );
        let _ = writeln!(buf, "pub mod {}_server {{", s.module_stem);
        let _ = writeln!(buf, "    use {krate}::__codegen as codegen;");
        buf.push('\n');
        let _ = writeln!(
            buf,
            "    /// The fully-qualified service name: request paths are `/{full}/Method`."
        );
        let _ = writeln!(buf, "    pub const SERVICE_NAME: &str = \"{full}\";");
        buf.push('\n');
        let title = format!("The `{full}` service.");
        let mut lines: Vec<&str> = Vec::new();
        if is_empty(&s.service.comments) {
            lines.extend([title.as_str(), ""]);
        }
        lines.extend([
            "Every method's default implementation answers UNIMPLEMENTED: implement the",
            "methods you serve, with `async fn` if you like.",
        ]);
        docs(buf, 1, &s.service.comments, &lines);
        let _ = writeln!(buf, "    pub trait {name}: Send + Sync + 'static {{");
        for (i, m) in s.methods.iter().enumerate() {
            if i > 0 {
                buf.push('\n');
            }
            self.trait_method(m, buf);
        }
        buf.push_str("    }\n\n");
        self.service_fn(s, buf);
        buf.push_str("}\n");
    }

    fn trait_method(&self, m: &MethodNames<'_>, buf: &mut String) {
        let line = format!("{} `{}`.", m.kind.describe(), m.path);
        docs(buf, 2, &m.method.comments, &[&line]);
        let _ = writeln!(buf, "        fn {}(", m.ident);
        buf.push_str("            &self,\n");
        buf.push_str("            ctx: codegen::CallContext,\n");
        let (input, output) = (&m.input, &m.output);
        let (args, ok) = match m.kind {
            Kind::Unary => (vec![format!("request: {input}")], output.as_str()),
            Kind::ServerStreaming => (
                vec![format!("request: {input}"), format!("sink: codegen::ResponseSink<{output}>")],
                "()",
            ),
            Kind::ClientStreaming => {
                (vec![format!("requests: codegen::RequestStream<{input}>")], output.as_str())
            }
            Kind::Bidi => (
                vec![
                    format!("requests: codegen::RequestStream<{input}>"),
                    format!("sink: codegen::ResponseSink<{output}>"),
                ],
                "()",
            ),
        };
        for arg in &args {
            let _ = writeln!(buf, "            {arg},");
        }
        let output = format!("Result<{ok}, codegen::Status>");
        let line = format!("        ) -> impl codegen::Future<Output = {output}> + Send {{");
        if line.len() <= MAX_WIDTH {
            let _ = writeln!(buf, "{line}");
        } else {
            let _ = writeln!(buf, "        ) -> impl codegen::Future<");
            let _ = writeln!(buf, "            Output = {output},");
            let _ = writeln!(buf, "        > + Send {{");
        }
        let names: Vec<&str> = args.iter().map(|a| a.split(':').next().unwrap_or("")).collect();
        let _ = writeln!(buf, "            let _ = (ctx, {});", names.join(", "));
        buf.push_str("            async {\n");
        let _ = writeln!(
            buf,
            "                let message = \"method {} is not implemented\";",
            m.path
        );
        buf.push_str("                Err(codegen::Status::unimplemented(message))\n");
        buf.push_str("            }\n");
        buf.push_str("        }\n");
    }

    fn service_fn(&self, s: &ServiceNames<'_>, buf: &mut String) {
        let name = s.trait_name;
        // The implementation's type parameter must not be the trait's own name.
        let t = if name == "T" { "Impl" } else { "T" };
        let _ = writeln!(buf, "    /// A routable service for `Server::builder().add_service(..)`, calling `implementation`.");
        let _ = writeln!(
            buf,
            "    pub fn service<{t}: {name}>(implementation: {t}) -> codegen::Service {{"
        );
        if s.methods.is_empty() {
            buf.push_str("        let _ = implementation;\n");
            buf.push_str("        codegen::Service::new(SERVICE_NAME)\n");
            buf.push_str("    }\n");
            return;
        }
        buf.push_str("        let implementation = codegen::Arc::new(implementation);\n");
        buf.push_str("        codegen::Service::new(SERVICE_NAME)\n");
        for m in &s.methods {
            let args = match m.kind {
                Kind::Unary => "ctx, request",
                Kind::ServerStreaming => "ctx, request, sink",
                Kind::ClientStreaming => "ctx, requests",
                Kind::Bidi => "ctx, requests, sink",
            };
            let (builder, proto_name, ident) = (m.kind.builder(), &m.method.proto_name, &m.ident);
            let _ = writeln!(buf, "            .{builder}(\"{proto_name}\", {{");
            buf.push_str(
                "                let implementation = codegen::Arc::clone(&implementation);\n",
            );
            let _ = writeln!(buf, "                move |{args}| {{");
            buf.push_str(
                "                    let implementation = codegen::Arc::clone(&implementation);\n",
            );
            let call = format!("<{t} as {name}>::{ident}(&implementation, {args}).await");
            let line = format!("                    async move {{ {call} }}");
            if line.len() <= MAX_WIDTH {
                let _ = writeln!(buf, "{line}");
            } else {
                buf.push_str("                    async move {\n");
                let _ = writeln!(buf, "                        {call}");
                buf.push_str("                    }\n");
            }
            buf.push_str("                }\n");
            buf.push_str("            })\n");
        }
        buf.push_str("    }\n");
    }

    fn client(&self, s: &ServiceNames<'_>, buf: &mut String) {
        let (full, krate) = (&s.full_name, &self.crate_path);
        let client = format!("{}Client", s.trait_name);
        let _ = writeln!(buf, "/// Client side of `{full}`: `{client}`.");
        let _ = writeln!(buf, "pub mod {}_client {{", s.module_stem);
        let _ = writeln!(buf, "    use {krate}::__codegen as codegen;");
        buf.push('\n');
        for m in &s.methods {
            self.method_handle(m, buf);
        }
        docs(
            buf,
            1,
            &s.service.comments,
            &[
                &format!("A typed client of `{full}`: one method per RPC, each taking its"),
                "`CallOptions`. Cheap to clone; clones share the channel.",
            ],
        );
        buf.push_str("    #[derive(Clone, Debug)]\n");
        let _ = writeln!(buf, "    pub struct {client} {{");
        buf.push_str("        channel: codegen::Channel,\n");
        buf.push_str("    }\n\n");
        let _ = writeln!(buf, "    impl {client} {{");
        buf.push_str("        /// A client making its calls on `channel`.\n");
        buf.push_str("        pub fn new(channel: codegen::Channel) -> Self {\n");
        let _ = writeln!(buf, "            {client} {{ channel }}");
        buf.push_str("        }\n\n");
        buf.push_str("        /// Connects a new channel to `target`: a target string (`\"unix:/run/app.sock\"`,\n");
        buf.push_str("        /// `\"host:port\"`), a `Target` or a Unix socket `Path`.\n");
        buf.push_str(
            "        pub async fn connect(target: impl codegen::IntoTarget) -> Result<Self, codegen::Error> {\n",
        );
        buf.push_str("            Ok(Self::new(codegen::Channel::connect(target).await?))\n");
        buf.push_str("        }\n\n");
        buf.push_str("        /// The channel the calls go through.\n");
        buf.push_str("        pub fn channel(&self) -> &codegen::Channel {\n");
        buf.push_str("            &self.channel\n");
        buf.push_str("        }\n");
        for m in &s.methods {
            buf.push('\n');
            self.client_method(m, buf);
        }
        buf.push_str("    }\n");
        buf.push_str("}\n");
    }

    /// `pub const SAY_HELLO: Method<Req, Resp>`, the typed handle the client calls through,
    /// also usable with `Channel` directly.
    fn method_handle(&self, m: &MethodNames<'_>, buf: &mut String) {
        let (input, output, path) = (&m.input, &m.output, &m.path);
        let name = m.method.name.trim_start_matches("r#").to_ascii_uppercase();
        let _ = writeln!(buf, "    /// `{path}`: its path, request and response types.");
        let ty = format!("codegen::Method<{input}, {output}>");
        let line = format!("    pub const {name}: {ty} = codegen::Method::new(\"{path}\");");
        if line.len() <= MAX_WIDTH {
            let _ = writeln!(buf, "{line}");
        } else {
            let _ = writeln!(
                buf,
                "    pub const {name}: {ty} =\n        codegen::Method::new(\"{path}\");"
            );
        }
        buf.push('\n');
    }

    fn client_method(&self, m: &MethodNames<'_>, buf: &mut String) {
        let line = format!("{} `{}`.", m.kind.describe(), m.path);
        docs(buf, 2, &m.method.comments, &[&line]);
        let (input, output) = (&m.input, &m.output);
        let _ = writeln!(buf, "        pub async fn {}(", m.ident);
        buf.push_str("            &self,\n");
        if matches!(m.kind, Kind::Unary | Kind::ServerStreaming) {
            let _ = writeln!(buf, "            request: impl codegen::Borrow<{input}>,");
        }
        buf.push_str("            options: codegen::CallOptions,\n");
        let (returns, call) = match m.kind {
            Kind::Unary => (format!("codegen::Response<{output}>"), "unary"),
            Kind::ServerStreaming => {
                (format!("codegen::ResponseStream<{output}>"), "server_streaming")
            }
            Kind::ClientStreaming => {
                (format!("codegen::ClientStreamingCall<{input}, {output}>"), "client_streaming")
            }
            Kind::Bidi => (
                format!("(codegen::RequestSink<{input}>, codegen::ResponseStream<{output}>)"),
                "bidi_streaming",
            ),
        };
        let line = format!("        ) -> Result<{returns}, codegen::Status> {{");
        if line.len() <= MAX_WIDTH {
            let _ = writeln!(buf, "{line}");
        } else {
            let _ = writeln!(buf, "        ) -> Result<\n            {returns},\n            codegen::Status,\n        > {{");
        }
        let request = if matches!(m.kind, Kind::Unary | Kind::ServerStreaming) {
            buf.push_str("            let request = codegen::Borrow::borrow(&request);\n");
            "request, "
        } else {
            ""
        };
        let handle = m.method.name.trim_start_matches("r#").to_ascii_uppercase();
        let line = format!("            self.channel.{call}({handle}, {request}options).await");
        if line.len() <= MAX_WIDTH {
            let _ = writeln!(buf, "{line}");
        } else {
            buf.push_str("            self.channel\n");
            let _ = writeln!(buf, "                .{call}({handle}, {request}options)");
            buf.push_str("                .await\n");
        }
        buf.push_str("        }\n");
    }
}

#[cfg(test)]
mod tests;
