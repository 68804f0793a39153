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
//! # Or: generated code checked in, no build script
//!
//! A crate that would rather not build protox and prost-build at all generates once and commits
//! the result: `h2grpc-build` goes under `[dev-dependencies]`, and a test keeps the files
//! current with [`Builder::compile_checked_in`] (`H2GRPC_BLESS=1 cargo test` rewrites them):
//!
//! ```no_run
//! // tests/generated.rs
//! #[test]
//! fn generated_code_is_current() -> std::io::Result<()> {
//!     h2grpc_build::configure().compile_checked_in(&["proto/helloworld.proto"], &["proto"], "src/generated")
//! }
//! ```
//!
//! and in the crate, `#[rustfmt::skip] #[path = "generated/helloworld.rs"] pub mod helloworld;`.
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
//! - `greeter_client::GreeterClient`: `new(channel)` or `connect(target)` (a target string or
//!   a socket path), then one `async` method per RPC taking the request (unary and server
//!   streaming; by value or by reference) and `CallOptions`.
//! - `greeter_client::SAY_HELLO`, a `Method<HelloRequest, HelloReply>` per RPC: its path and
//!   types, for calls on a `Channel` without the client (`channel.unary(SAY_HELLO, ..)`).
//!
//! Request paths are `/package.Service/Method` with the names exactly as in the `.proto`
//! (`/Service/Method` without a package). Rust keywords are escaped the way prost escapes them
//! (`r#type`, `self_`); an RPC named `New`, `Connect` or `Channel` becomes `new_`, `connect_` or `channel_`, leaving
//! the client's own methods alone. Doc comments on services and methods are carried over.
//! Generated code names the runtime only through `::h2grpc::__codegen`
//! ([`Builder::crate_path`] changes the prefix).
//!
//! With [`Builder::file_descriptor_set`], each package with a service also gets
//! `pub const FILE_DESCRIPTOR_SET: &[u8]`, its `.proto` files as an encoded
//! `google.protobuf.FileDescriptorSet`, for h2grpc's server reflection.

#![forbid(unsafe_code)]

mod checked_in;
mod descriptors;
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
    file_descriptor_set: bool,
}

impl Default for Builder {
    fn default() -> Builder {
        Builder {
            build_server: true,
            build_client: true,
            out_dir: None,
            crate_path: "::h2grpc".to_owned(),
            emit_rerun_if_changed: true,
            file_descriptor_set: false,
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

    /// Whether each package that declares a service gets its file descriptors, for server
    /// reflection. Default `false`.
    ///
    /// [`compile`](Self::compile) then writes `<package>.bin` next to `<package>.rs`: an
    /// encoded `google.protobuf.FileDescriptorSet` with the package's `.proto` files and every
    /// file they import (dependencies first; comments and source locations left out), and the
    /// generated code gets
    ///
    /// ```text
    /// pub const FILE_DESCRIPTOR_SET: &[u8] = include_bytes!("<package>.bin");
    /// ```
    ///
    /// which a server hands to reflection in one line:
    /// `Server::builder().add_reflection([helloworld::FILE_DESCRIPTOR_SET])` (h2grpc's
    /// `reflection` feature). Only `compile` writes the files: a
    /// [`service_generator`](Self::service_generator) never emits the constant.
    ///
    /// ```
    /// let dir = tempfile::tempdir()?;
    /// std::fs::write(
    ///     dir.path().join("ping.proto"),
    ///     "syntax = \"proto3\"; package ping; message P {} service Pinger { rpc Ping(P) returns (P); }",
    /// )?;
    /// h2grpc_build::configure()
    ///     .file_descriptor_set(true)
    ///     .out_dir(dir.path())
    ///     .emit_rerun_if_changed(false)
    ///     .compile(&[dir.path().join("ping.proto")], &[dir.path()])?;
    /// let code = std::fs::read_to_string(dir.path().join("ping.rs"))?;
    /// assert!(code.contains("pub const FILE_DESCRIPTOR_SET: &[u8] = include_bytes!(\"ping.bin\");"));
    /// assert!(dir.path().join("ping.bin").exists());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn file_descriptor_set(&mut self, enable: bool) -> &mut Self {
        self.file_descriptor_set = enable;
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
        Box::new(self.generator(false))
    }

    fn generator(&self, file_descriptor_set: bool) -> generator::Generator {
        generator::Generator {
            build_server: self.build_server,
            build_client: self.build_client,
            crate_path: self.crate_path.clone(),
            file_descriptor_set,
        }
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
        let set = compiler.file_descriptor_set();
        if self.file_descriptor_set {
            let dir = match (&self.out_dir, std::env::var_os("OUT_DIR")) {
                (Some(dir), _) => dir.clone(),
                (None, Some(dir)) => PathBuf::from(dir),
                (None, None) => {
                    return Err(io::Error::other("OUT_DIR is not set: call out_dir(..)"));
                }
            };
            descriptors::write(&set, &dir)?;
        }
        let mut config = prost_build::Config::new();
        config.service_generator(Box::new(self.generator(self.file_descriptor_set)));
        if let Some(dir) = &self.out_dir {
            config.out_dir(dir);
        }
        config.compile_fds(set)
    }

    /// Keeps generated code checked in at `dir` current, from a test: for crates that want no
    /// build script and no protox or prost-build in their normal build.
    ///
    /// Generates `protos` as [`compile`](Self::compile) would (with this builder's settings),
    /// into a temporary directory, and compares each file with the one of the same name in
    /// `dir`. If they all match, returns `Ok`. If one differs or is missing, fails with an error
    /// naming it and the command that rewrites it; with the environment variable
    /// `H2GRPC_BLESS=1`, writes the generated files to `dir` instead (other files in `dir` are
    /// left alone). `cargo:rerun-if-changed` is never printed.
    ///
    /// `h2grpc-build` is then a dev-dependency only:
    ///
    /// ```toml
    /// [dependencies]
    /// h2grpc = "0.1"
    /// prost = "0.14"
    ///
    /// [dev-dependencies]
    /// h2grpc-build = "0.1"
    /// ```
    ///
    /// ```no_run
    /// // tests/generated.rs: `H2GRPC_BLESS=1 cargo test --test generated` writes
    /// // src/generated/helloworld.rs; a plain `cargo test` fails while it is out of date.
    /// #[test]
    /// fn generated_code_is_current() -> std::io::Result<()> {
    ///     h2grpc_build::configure().compile_checked_in(
    ///         &["proto/helloworld.proto"],
    ///         &["proto"],
    ///         "src/generated",
    ///     )
    /// }
    /// ```
    ///
    /// and the crate includes the file as a module, which rustfmt must leave as generated:
    ///
    /// ```ignore
    /// #[rustfmt::skip]
    /// #[path = "generated/helloworld.rs"]
    /// pub mod helloworld;
    /// ```
    ///
    /// Paths are relative to the working directory, which for `cargo test` is the package's
    /// root. The test builds the crate, so bless once before the crate names the module (or
    /// after adding an RPC, before implementing it). For example:
    ///
    /// ```
    /// # std::env::remove_var("H2GRPC_BLESS");
    /// let dir = tempfile::tempdir()?;
    /// std::fs::write(
    ///     dir.path().join("ping.proto"),
    ///     "syntax = \"proto3\"; package ping; message P {} service Pinger { rpc Ping(P) returns (P); }",
    /// )?;
    /// let checked_in = dir.path().join("generated");
    /// let check = || {
    ///     h2grpc_build::configure().compile_checked_in(
    ///         &[dir.path().join("ping.proto")],
    ///         &[dir.path()],
    ///         &checked_in,
    ///     )
    /// };
    /// let err = check().unwrap_err(); // nothing checked in yet
    /// assert!(err.to_string().contains("generated/ping.rs"), "{err}");
    /// assert!(err.to_string().contains("H2GRPC_BLESS=1 cargo test"), "{err}");
    ///
    /// std::env::set_var("H2GRPC_BLESS", "1"); // what `H2GRPC_BLESS=1 cargo test` does
    /// check()?;
    /// assert!(checked_in.join("ping.rs").exists());
    ///
    /// std::env::remove_var("H2GRPC_BLESS");
    /// check()?; // current
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn compile_checked_in(
        &self,
        protos: &[impl AsRef<Path>],
        includes: &[impl AsRef<Path>],
        dir: impl AsRef<Path>,
    ) -> io::Result<()> {
        self.compile_checked_in_with(protos, includes, dir, checked_in::blessing())
    }

    fn compile_checked_in_with(
        &self,
        protos: &[impl AsRef<Path>],
        includes: &[impl AsRef<Path>],
        dir: impl AsRef<Path>,
        bless: bool,
    ) -> io::Result<()> {
        let generated = tempfile::tempdir()?;
        let mut builder = self.clone();
        builder.out_dir(generated.path()).emit_rerun_if_changed(false);
        builder.compile(protos, includes)?;
        checked_in::sync(generated.path(), dir.as_ref(), bless)
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
