//! A session with a server: the connection, where the schema comes from (server reflection,
//! or `--proto` / `--protoset` files), and the `--wire` printer that watches it all.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::time::Duration;

use h2grpc::reflection::{MessageRequest, MessageResponse};
use h2grpc::{CallOptions, Channel, Code};
use prost::Message;
use prost_reflect::prost_types::FileDescriptorProto;
use prost_reflect::DescriptorPool;

use crate::connect::{self, Connection};
use crate::error::CliError;
use crate::output::Out;
use crate::reflection::{Failure, Reflection};
use crate::wire::Wire;
use crate::Global;

/// Where types come from.
#[derive(Debug)]
enum Schema {
    /// `--proto` or `--protoset`: everything known up front.
    Files,
    /// Server reflection, opened on first use; the pool grows with what it sends.
    Reflection(Option<Box<Reflection>>),
}

/// A connection, its schema, its wire printer.
#[derive(Debug)]
pub(crate) struct Session {
    conn: Connection,
    schema: Schema,
    /// The types known so far.
    pub(crate) pool: DescriptorPool,
    wire: Option<Wire>,
    /// Metadata for every call, reflection included (`-H`); no deadline.
    options: CallOptions,
    /// `--timeout`, for the command's call; its deadline starts when the call does.
    timeout: Option<Duration>,
    target: String,
}

impl Session {
    /// Connects, loads `--proto`/`--protoset` files if any, and prints the handshake's frames
    /// with `--wire`.
    pub(crate) async fn open(
        target: &str,
        global: &Global,
        out: &Out,
    ) -> Result<Session, CliError> {
        let options = metadata(global)?;
        let files = !global.proto.is_empty() || !global.protoset.is_empty();
        let pool = if files { load_files(global)? } else { DescriptorPool::new() };
        let conn = connect::connect(target, global).await?;
        if let (Some(info), Some(_)) = (&conn.tls, &global.wire) {
            out.line(&info.render(out.json()));
        }
        let wire =
            conn.log.clone().map(|log| Wire::new(log, global.wire == Some(crate::WireMode::Hex)));
        let schema = if files { Schema::Files } else { Schema::Reflection(None) };
        let target = target.to_owned();
        let timeout = global.timeout;
        let mut session = Session { conn, schema, pool, wire, options, timeout, target };
        session.drain(out);
        Ok(session)
    }

    /// The options of the command's call, made now: `-H` metadata, and `--timeout` from now.
    pub(crate) fn call_options(&self) -> CallOptions {
        match self.timeout {
            Some(timeout) => self.options.clone().timeout(timeout),
            None => self.options.clone(),
        }
    }

    pub(crate) fn channel(&self) -> &Channel {
        &self.conn.channel
    }

    /// Prints the frames that went by since the last call (with `--wire`).
    pub(crate) fn drain(&mut self, out: &Out) {
        if let Some(wire) = &mut self.wire {
            wire.drain(out, &self.pool);
        }
    }

    /// Closes the reflection stream, if open: the schema is complete for this command.
    pub(crate) async fn schema_done(&mut self, out: &Out) {
        if let Schema::Reflection(slot) = &mut self.schema {
            if let Some(reflection) = slot.take() {
                reflection.close().await;
                self.drain(out);
            }
        }
    }

    /// Ends the session: closes reflection and the connection, printing the last frames.
    pub(crate) async fn close(mut self, out: &Out) {
        if let Schema::Reflection(Some(reflection)) =
            std::mem::replace(&mut self.schema, Schema::Files)
        {
            reflection.close().await;
        }
        self.drain(out);
        let Session { conn, mut wire, pool, .. } = self;
        conn.close().await;
        if let Some(wire) = &mut wire {
            wire.drain(out, &pool);
        }
    }

    async fn reflection(&mut self, out: &Out) -> Result<&mut Reflection, CliError> {
        let Schema::Reflection(slot) = &mut self.schema else {
            unreachable!("reflection is only asked for without --proto")
        };
        if slot.is_none() {
            // Reflection has a deadline of its own: a server that never answers is no hang.
            let limit = self.timeout.unwrap_or(REFLECTION_TIMEOUT).max(REFLECTION_TIMEOUT);
            let options = self.options.clone().timeout(limit);
            let opened = Reflection::open(&self.conn.channel, &options).await;
            if let Some(wire) = &mut self.wire {
                wire.drain(out, &self.pool);
            }
            *slot = Some(Box::new(opened?));
        }
        Ok(slot.as_mut().expect("just opened"))
    }

    /// The server's services, sorted.
    pub(crate) async fn services(&mut self, out: &Out) -> Result<Vec<String>, CliError> {
        if let Schema::Files = self.schema {
            let mut names: Vec<String> =
                self.pool.services().map(|s| s.full_name().to_owned()).collect();
            names.sort();
            return Ok(names);
        }
        Ok(self.reflection(out).await?.services.clone())
    }

    /// Makes sure the file declaring `symbol` (a fully-qualified name) is in the pool.
    /// `Ok(false)`: nobody declares it.
    pub(crate) async fn learn(&mut self, symbol: &str, out: &Out) -> Result<bool, CliError> {
        if let Schema::Files = self.schema {
            return Ok(known(&self.pool, symbol));
        }
        if known(&self.pool, symbol) {
            return Ok(true);
        }
        // Some servers (grpcio) know services and messages but not methods or fields by
        // name: their parent's file declares them too.
        let mut name = symbol;
        let files = loop {
            let asked = self
                .reflection(out)
                .await?
                .ask(MessageRequest::FileContainingSymbol(name.to_owned()))
                .await;
            self.drain(out);
            match asked {
                Ok(MessageResponse::FileDescriptorResponse(files)) => {
                    break files.file_descriptor_proto
                }
                Ok(_) => return Err(CliError::invalid("reflection answered with something else")),
                Err(Failure::Answer(Code::NotFound, _)) => match name.rsplit_once('.') {
                    Some((parent, _)) if name == symbol => name = parent,
                    _ => return Ok(false),
                },
                Err(Failure::Answer(code, message)) => {
                    return Err(CliError::rpc("reflection", h2grpc::Status::new(code, message)))
                }
                Err(Failure::Call(err)) => return Err(err),
            }
        };
        let mut protos = HashMap::new();
        for bytes in files {
            let file = FileDescriptorProto::decode(&bytes[..]).map_err(|err| {
                CliError::invalid(format!(
                    "the server sent a file descriptor that does not decode: {err}"
                ))
            })?;
            protos.insert(file.name().to_owned(), file);
        }
        self.complete(protos, out).await?;
        Ok(known(&self.pool, symbol))
    }

    /// Adds `protos` to the pool, asking reflection for the dependencies it left out, in an
    /// order where each file's imports come first.
    async fn complete(
        &mut self,
        mut protos: HashMap<String, FileDescriptorProto>,
        out: &Out,
    ) -> Result<(), CliError> {
        let mut asked = HashSet::new();
        loop {
            let missing: Vec<String> = protos
                .values()
                .flat_map(|f| f.dependency.iter())
                .filter(|d| !protos.contains_key(*d) && self.pool.get_file_by_name(d).is_none())
                .cloned()
                .collect::<HashSet<_>>()
                .into_iter()
                .collect();
            let Some(name) = missing.into_iter().find(|n| !asked.contains(n)) else { break };
            asked.insert(name.clone());
            let answer =
                self.reflection(out).await?.ask(MessageRequest::FileByFilename(name.clone())).await;
            self.drain(out);
            match answer {
                Ok(MessageResponse::FileDescriptorResponse(files)) => {
                    for bytes in files.file_descriptor_proto {
                        if let Ok(file) = FileDescriptorProto::decode(&bytes[..]) {
                            protos.entry(file.name().to_owned()).or_insert(file);
                        }
                    }
                }
                // Not served: the well-known types are built in.
                _ => {
                    if let Some(file) = DescriptorPool::global().get_file_by_name(&name) {
                        protos.insert(name, file.file_descriptor_proto().clone());
                    }
                }
            }
        }
        while !protos.is_empty() {
            let ready: Vec<String> = protos
                .values()
                .filter(|f| f.dependency.iter().all(|d| !protos.contains_key(d)))
                .map(|f| f.name().to_owned())
                .collect();
            if ready.is_empty() {
                return Err(CliError::invalid("the server's files import each other in a cycle"));
            }
            for name in ready {
                let file = protos.remove(&name).expect("listed");
                if self.pool.get_file_by_name(&name).is_some() {
                    continue;
                }
                self.pool.add_file_descriptor_proto(file).map_err(|err| {
                    CliError::invalid(format!(
                        "the server's descriptor for {name} does not load: {err}"
                    ))
                })?;
            }
        }
        Ok(())
    }

    /// Says where the schema came from, for "not found" messages.
    pub(crate) fn where_from(&self) -> String {
        match self.schema {
            Schema::Files => "in the --proto/--protoset files".to_owned(),
            Schema::Reflection(_) => format!("in {}'s reflection", self.target),
        }
    }
}

/// Whether the pool declares `symbol`: a service, method, message, enum or extension.
pub(crate) fn known(pool: &DescriptorPool, symbol: &str) -> bool {
    if pool.get_service_by_name(symbol).is_some()
        || pool.get_message_by_name(symbol).is_some()
        || pool.get_enum_by_name(symbol).is_some()
        || pool.get_extension_by_name(symbol).is_some()
    {
        return true;
    }
    match symbol.rsplit_once('.') {
        Some((service, method)) => pool
            .get_service_by_name(service)
            .is_some_and(|s| s.methods().any(|m| m.name() == method)),
        None => false,
    }
}

/// The `--proto` files (compiled with protox) and `--protoset` files, in one pool.
fn load_files(global: &Global) -> Result<DescriptorPool, CliError> {
    let mut pool = DescriptorPool::new();
    for path in &global.protoset {
        let bytes = std::fs::read(path).map_err(|err| {
            CliError::invalid(format!("cannot read --protoset {}: {err}", path.display()))
        })?;
        pool.decode_file_descriptor_set(&bytes[..]).map_err(|err| {
            CliError::invalid(format!(
                "{} is not a FileDescriptorSet ({err}) — make one with protoc \
                 --include_imports --descriptor_set_out or buf build -o",
                path.display()
            ))
        })?;
    }
    if !global.proto.is_empty() {
        let mut includes: Vec<PathBuf> = global.import_path.clone();
        if includes.is_empty() {
            for proto in &global.proto {
                let dir =
                    proto.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(".".as_ref());
                if !includes.iter().any(|i| i == dir) {
                    includes.push(dir.to_owned());
                }
            }
        }
        let set = protox::compile(&global.proto, &includes).map_err(|err| {
            CliError::invalid(format!(
                "cannot compile --proto files: {err} (set -I DIR for imports)"
            ))
        })?;
        for file in set.file {
            if pool.get_file_by_name(file.name()).is_none() {
                pool.add_file_descriptor_proto(file)
                    .map_err(|err| CliError::invalid(err.to_string()))?;
            }
        }
    }
    Ok(pool)
}

/// How long reading the schema through reflection may take (longer if `--timeout` is).
const REFLECTION_TIMEOUT: Duration = Duration::from_secs(30);

/// `-H` metadata, as call options.
fn metadata(global: &Global) -> Result<CallOptions, CliError> {
    let mut options = CallOptions::new();
    for header in &global.headers {
        let Some((key, value)) = header.split_once(':') else {
            return Err(CliError::invalid(format!("-H {header:?}: write it as 'key: value'")));
        };
        let (key, value) = (key.trim().to_ascii_lowercase(), value.trim());
        options = if key.ends_with("-bin") {
            use base64::Engine;
            let engine = base64::engine::general_purpose::STANDARD_NO_PAD;
            let bytes = engine.decode(value.trim_end_matches('=')).map_err(|err| {
                CliError::invalid(format!("-H {key}: a -bin value is base64 ({err})"))
            })?;
            options.header_bin(&key, &bytes)
        } else {
            options.header(&key, value)
        }
        .map_err(|status| CliError::invalid(format!("-H {header:?}: {}", status.message())))?;
    }
    Ok(options)
}
