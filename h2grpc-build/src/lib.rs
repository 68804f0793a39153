//! Code generation for [h2grpc](https://docs.rs/h2grpc): `.proto` files to Rust messages, server
//! traits and typed clients, from a `build.rs`, with no `protoc` installed.
//!
//! Protos are parsed by [`protox`] (a protobuf compiler written in Rust) and turned into Rust by
//! [`prost_build`] with this crate's [`ServiceGenerator`](prost_build::ServiceGenerator). This
//! crate does not depend on the h2grpc runtime, so a build script compiles only the generator.
//!
//! # The five lines
//!
//! ```no_run
//! // build.rs
//! fn main() -> std::io::Result<()> {
//!     h2grpc_build::compile_protos(&["proto/helloworld.proto"], &["proto"])
//! }
//! ```
//!
//! and in the crate, `pub mod helloworld { h2grpc::include_proto!("helloworld"); }`.
//!
//! # What is generated
//!
//! For each service, say `Greeter` in package `helloworld`, next to prost's messages:
//!
//! - `greeter_server::Greeter`, a trait with one method per RPC taking the call's
//!   `CallContext` first. Each method's default answers UNIMPLEMENTED (ASP.NET Core's
//!   `GreeterBase`), so an implementation overrides only what it serves, with `async fn`:
//!   - unary: `async fn say_hello(&self, ctx, request: HelloRequest) -> Result<HelloReply, Status>`
//!   - server streaming: `(&self, ctx, request, sink: ResponseSink<Resp>) -> Result<(), Status>`
//!   - client streaming: `(&self, ctx, requests: RequestStream<Req>) -> Result<Resp, Status>`
//!   - bidi streaming: `(&self, ctx, requests, sink) -> Result<(), Status>`
//! - `greeter_server::service(implementation) -> Service`, for `Server::builder().add_service`.
//! - `greeter_server::SERVICE_NAME`, `"helloworld.Greeter"`.
//! - `greeter_client::GreeterClient`: `new(channel)`, then one `async` method per RPC taking the
//!   request (unary and server streaming) and `CallOptions`.
//!
//! Request paths are `/package.Service/Method` with the names exactly as in the `.proto`
//! (`/Service/Method` without a package). Rust keywords are escaped the way prost escapes them
//! (`r#type`, `self_`); an RPC named `New` or `Channel` becomes `new_` / `channel_`, leaving
//! the client's own methods alone. Doc comments on services and methods are carried over.
//! Generated code names the runtime only through `::h2grpc::__codegen`
//! ([`Builder::crate_path`] changes the prefix).

#![forbid(unsafe_code)]

mod generator;

use std::fmt::Write as _;
use std::io;
use std::path::{Path, PathBuf};

pub use {prost_build, protox};

/// Compiles `protos` (found through `includes`) into `OUT_DIR`, servers and clients both, and
/// tells Cargo to re-run the build script when any of the `.proto` files changes.
///
/// Each protobuf package becomes one file, `OUT_DIR/<package>.rs` (`_.rs` for files without a
/// package), for `h2grpc::include_proto!("<package>")`.
///
/// ```no_run
/// // build.rs
/// fn main() -> std::io::Result<()> {
///     h2grpc_build::compile_protos(&["proto/helloworld.proto"], &["proto"])
/// }
/// ```
pub fn compile_protos(
    protos: &[impl AsRef<Path>],
    includes: &[impl AsRef<Path>],
) -> io::Result<()> {
    configure().compile(protos, includes)
}

/// A [`Builder`] with every default: servers and clients, into `OUT_DIR`, runtime at `::h2grpc`.
///
/// ```no_run
/// // build.rs of a client-only crate
/// fn main() -> std::io::Result<()> {
///     h2grpc_build::configure()
///         .build_server(false)
///         .compile(&["proto/helloworld.proto"], &["proto"])
/// }
/// ```
pub fn configure() -> Builder {
    Builder::default()
}

/// Configures code generation: what to generate, where, and how generated code names the
/// runtime. Setters take `&mut self` and say their default.
///
/// ```
/// let dir = tempfile::tempdir()?;
/// std::fs::write(
///     dir.path().join("ping.proto"),
///     "syntax = \"proto3\"; package ping; message P {} service Pinger { rpc Ping(P) returns (P); }",
/// )?;
/// h2grpc_build::configure()
///     .build_client(false)
///     .out_dir(dir.path())
///     .emit_rerun_if_changed(false)
///     .compile(&[dir.path().join("ping.proto")], &[dir.path()])?;
/// let code = std::fs::read_to_string(dir.path().join("ping.rs"))?;
/// assert!(code.contains("pub trait Pinger"));
/// assert!(code.contains("\"ping.Pinger\""));
/// assert!(!code.contains("PingerClient"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct Builder {
    build_server: bool,
    build_client: bool,
    out_dir: Option<PathBuf>,
    crate_path: String,
    emit_rerun_if_changed: bool,
}

impl Default for Builder {
    fn default() -> Builder {
        Builder {
            build_server: true,
            build_client: true,
            out_dir: None,
            crate_path: "::h2grpc".to_owned(),
            emit_rerun_if_changed: true,
        }
    }
}

impl Builder {
    /// Whether to generate the server trait and `service` function. Default `true`.
    ///
    /// ```
    /// let mut builder = h2grpc_build::configure();
    /// builder.build_server(false);
    /// ```
    pub fn build_server(&mut self, enable: bool) -> &mut Self {
        self.build_server = enable;
        self
    }

    /// Whether to generate the typed client. Default `true`.
    ///
    /// ```
    /// let mut builder = h2grpc_build::configure();
    /// builder.build_client(false);
    /// ```
    pub fn build_client(&mut self, enable: bool) -> &mut Self {
        self.build_client = enable;
        self
    }

    /// Where the generated files go. Default: the `OUT_DIR` Cargo gives build scripts.
    ///
    /// ```
    /// let mut builder = h2grpc_build::configure();
    /// builder.out_dir("src/generated");
    /// ```
    pub fn out_dir(&mut self, dir: impl Into<PathBuf>) -> &mut Self {
        self.out_dir = Some(dir.into());
        self
    }

    /// The path through which generated code reaches the runtime crate. Default `::h2grpc`;
    /// change it if you renamed the dependency or re-export h2grpc from your own crate.
    ///
    /// ```
    /// let mut builder = h2grpc_build::configure();
    /// builder.crate_path("::my_rpc::h2grpc");
    /// ```
    pub fn crate_path(&mut self, path: impl Into<String>) -> &mut Self {
        self.crate_path = path.into();
        self
    }

    /// Whether [`compile`](Self::compile) prints `cargo:rerun-if-changed` for every `.proto`
    /// file it read (imports included). Default `true`; turn it off outside build scripts.
    ///
    /// ```
    /// let mut builder = h2grpc_build::configure();
    /// builder.emit_rerun_if_changed(false);
    /// ```
    pub fn emit_rerun_if_changed(&mut self, enable: bool) -> &mut Self {
        self.emit_rerun_if_changed = enable;
        self
    }

    /// The generator alone, for a `prost_build::Config` you drive yourself (extern paths,
    /// attributes, a file descriptor set from elsewhere).
    ///
    /// ```no_run
    /// // build.rs
    /// fn main() -> std::io::Result<()> {
    ///     let fds = h2grpc_build::protox::compile(["proto/helloworld.proto"], ["proto"]).map_err(std::io::Error::other)?;
    ///     let mut config = h2grpc_build::prost_build::Config::new();
    ///     config
    ///         .service_generator(h2grpc_build::configure().service_generator())
    ///         .type_attribute(".", "#[derive(Eq, Hash)]")
    ///         .compile_fds(fds)
    /// }
    /// ```
    pub fn service_generator(&self) -> Box<dyn prost_build::ServiceGenerator> {
        Box::new(generator::Generator {
            build_server: self.build_server,
            build_client: self.build_client,
            crate_path: self.crate_path.clone(),
        })
    }

    /// Parses `protos` with [`protox`] (imports are looked up in `includes`; the well-known
    /// `google/protobuf/*.proto` files are built in) and writes one Rust file per package.
    ///
    /// A `.proto` that does not parse or check fails with an [`io::Error`] naming the file, line
    /// and column.
    ///
    /// ```
    /// let dir = tempfile::tempdir()?;
    /// std::fs::write(dir.path().join("bad.proto"), "syntax = \"proto3\";\nmessage M { int32 x = ; }\n")?;
    /// let err = h2grpc_build::configure()
    ///     .out_dir(dir.path())
    ///     .emit_rerun_if_changed(false)
    ///     .compile(&[dir.path().join("bad.proto")], &[dir.path()])
    ///     .unwrap_err();
    /// assert!(err.to_string().contains("bad.proto:2:"), "{err}");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn compile(
        &self,
        protos: &[impl AsRef<Path>],
        includes: &[impl AsRef<Path>],
    ) -> io::Result<()> {
        let mut compiler = protox::Compiler::new(includes).map_err(|e| describe(&e))?;
        compiler.include_source_info(true).include_imports(true);
        for proto in protos {
            compiler.open_file(proto).map_err(|e| describe(&e))?;
        }
        if self.emit_rerun_if_changed {
            for file in compiler.files() {
                if let Some(path) = file.path() {
                    println!("cargo:rerun-if-changed={}", path.display());
                }
            }
        }
        let mut config = prost_build::Config::new();
        config.service_generator(self.service_generator());
        if let Some(dir) = &self.out_dir {
            config.out_dir(dir);
        }
        config.compile_fds(compiler.file_descriptor_set())
    }
}

/// A protox error as `file:line:column: message`, the location read from its diagnostic span.
fn describe(err: &protox::Error) -> io::Error {
    use miette::Diagnostic as _;
    let mut text = String::new();
    let span = err.labels().and_then(|mut labels| labels.next());
    match (err.file(), span) {
        (Some(file), Some(span)) => {
            let (line, column) = err
                .source_code()
                .and_then(|source| source.read_span(span.inner(), 0, 0).ok())
                .map_or((0, 0), |contents| (contents.line() + 1, contents.column() + 1));
            let _ = write!(text, "{file}:{line}:{column}: {err}");
        }
        (Some(file), None) => {
            let _ = write!(text, "{file}: {err}");
        }
        (None, _) => {
            let _ = write!(text, "{err}");
        }
    }
    if err.is_io() || err.is_file_not_found() {
        io::Error::new(io::ErrorKind::NotFound, text)
    } else {
        io::Error::new(io::ErrorKind::InvalidInput, text)
    }
}
