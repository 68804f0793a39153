//! `h2grpc`: list, describe and call any gRPC server from the shell, and with `--wire` see every
//! HTTP/2 frame of the connection, decoded.
//!
//! ```sh
//! h2grpc list unix:/tmp/greeter.sock
//! h2grpc describe unix:/tmp/greeter.sock helloworld.Greeter
//! h2grpc call unix:/tmp/greeter.sock helloworld.Greeter/SayHello '{"name": "you"}'
//! h2grpc call --wire unix:/tmp/greeter.sock helloworld.Greeter/SayHello '{"name": "you"}'
//! h2grpc health unix:/tmp/greeter.sock
//! h2grpc list --cacert ca.pem --cert client.pem --key client.key https://localhost:8443
//! ```
//!
//! The exit code of `call` is the call's gRPC status code (0 for OK), so scripts can test it;
//! errors found before calling get the code that fits them (a malformed request:
//! INVALID_ARGUMENT, 3; a server that cannot be reached: UNAVAILABLE, 14). `health` exits as
//! `grpc_health_probe` does.

#![forbid(unsafe_code)]

mod call;
mod connect;
mod describe;
mod error;
mod health;
mod input;
mod output;
mod raw;
mod reflection;
mod source;
mod status;
mod tls;
mod wire;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use h2grpc::Code;

use crate::error::CliError;
use crate::output::Out;

/// Call any gRPC server and see its wire, frame by frame.
#[derive(Parser, Debug)]
#[command(name = "h2grpc", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    #[command(flatten)]
    global: Global,
}

/// Options every command takes, before or after its name.
#[derive(Args, Debug, Clone)]
pub(crate) struct Global {
    /// Print the connection's HTTP/2 frames, both ways, as they go; `--wire=hex` adds each
    /// frame's bytes.
    #[arg(long, global = true, value_enum, num_args = 0..=1, default_missing_value = "text",
          require_equals = true)]
    pub(crate) wire: Option<WireMode>,
    /// Output: `text` for people, `json` for scripts (one JSON object per line).
    #[arg(long, global = true, value_enum, default_value = "text")]
    format: Format,
    /// A .proto file to take the schema from instead of server reflection (repeatable).
    #[arg(long, global = true, value_name = "FILE")]
    proto: Vec<PathBuf>,
    /// Where the imports of --proto files are found (repeatable; default: each file's folder).
    #[arg(long = "import-path", short = 'I', global = true, value_name = "DIR")]
    import_path: Vec<PathBuf>,
    /// A FileDescriptorSet (protoc --descriptor_set_out, buf build -o) to take the schema from
    /// (repeatable).
    #[arg(long, global = true, value_name = "FILE")]
    protoset: Vec<PathBuf>,
    /// Request metadata, `-H 'key: value'` (repeatable); keys ending in `-bin` take base64.
    #[arg(short = 'H', long = "header", global = true, value_name = "KEY: VALUE")]
    headers: Vec<String>,
    /// The call's deadline, sent as grpc-timeout: `500ms`, `2s`, `1m` or seconds (`1.5`).
    #[arg(long, global = true, value_parser = parse_duration, value_name = "DURATION")]
    timeout: Option<Duration>,
    /// How long connecting may take.
    #[arg(long, global = true, value_parser = parse_duration, default_value = "5s",
          value_name = "DURATION")]
    pub(crate) connect_timeout: Duration,
    /// Colours: `auto` (on a terminal, unless NO_COLOR is set), `always` or `never`.
    #[arg(long, global = true, value_enum, default_value = "auto")]
    color: ColorChoice,
    /// Verify the server by the CA certificates in FILE (PEM) instead of Mozilla's roots;
    /// turns TLS on.
    #[arg(long, global = true, value_name = "FILE")]
    pub(crate) cacert: Option<PathBuf>,
    /// Present this client certificate chain (PEM, leaf first) for mutual TLS; with --key.
    #[arg(long, global = true, value_name = "FILE", requires = "key")]
    pub(crate) cert: Option<PathBuf>,
    /// The private key (PEM) of --cert.
    #[arg(long, global = true, value_name = "FILE", requires = "cert")]
    pub(crate) key: Option<PathBuf>,
    /// Send NAME as SNI and verify the server's certificate for it, not for the target's host
    /// (for connecting by IP address); turns TLS on.
    #[arg(long, global = true, value_name = "NAME")]
    pub(crate) servername: Option<String>,
    /// TLS without verifying the server's certificate: for testing only, as anyone on the
    /// path could pose as the server. Turns TLS on.
    #[arg(long, global = true)]
    pub(crate) insecure: bool,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// List the server's services, or one service's methods.
    List {
        /// unix:/path.sock, unix:///abs/path.sock, unix-abstract:name, host:port or https://host:port.
        target: String,
        /// A service (`pkg.Service`) whose methods to list.
        service: Option<String>,
    },
    /// Show the definition of a service, method, message or enum.
    Describe {
        /// unix:/path.sock, unix:///abs/path.sock, unix-abstract:name, host:port or https://host:port.
        target: String,
        /// `pkg.Service`, `pkg.Service.Method` (or `pkg.Service/Method`), `pkg.Message`,
        /// `pkg.Enum`.
        symbol: String,
    },
    /// Call a method: requests in JSON, responses printed as JSON, the status last.
    Call(call::CallArgs),
    /// grpc.health.v1 Check (or Watch); exits like grpc_health_probe: 0 SERVING, 1 bad
    /// arguments, 2 connection failure, 3 RPC failure, 4 not SERVING.
    Health {
        /// unix:/path.sock, unix:///abs/path.sock, unix-abstract:name, host:port or https://host:port.
        target: String,
        /// The service to check; the server as a whole if left out.
        #[arg(default_value = "")]
        service: String,
        /// Stream status changes (Watch) until the server ends the call or Ctrl-C.
        #[arg(long)]
        watch: bool,
    },
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum WireMode {
    /// Frames decoded.
    Text,
    /// Frames decoded, and their bytes in hex.
    Hex,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Format {
    Text,
    Json,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// `500ms`, `2s`, `1.5s`, `1m`, `1h` or plain seconds.
fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (number, unit) = match s.find(|c: char| c.is_ascii_alphabetic()) {
        Some(at) => s.split_at(at),
        None => (s, "s"),
    };
    let scale = match unit {
        "ms" => 0.001,
        "s" => 1.0,
        "m" => 60.0,
        "h" => 3600.0,
        _ => return Err(format!("unknown unit {unit:?}: use ms, s, m or h (e.g. 500ms, 2s)")),
    };
    let value: f64 =
        number.parse().map_err(|_| format!("{s:?} is not a duration: e.g. 500ms, 2s"))?;
    Duration::try_from_secs_f64(value * scale).map_err(|_| format!("{s:?} is not a duration"))
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            let _ = err.print();
            return ExitCode::from(match err.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => 0,
                // grpc_health_probe's code for bad arguments.
                _ if std::env::args().any(|arg| arg == "health") => 1,
                _ => Code::InvalidArgument as u8,
            });
        }
    };
    let color = match cli.global.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => output::auto_color(),
    };
    let out = Out::new(cli.global.format, color);
    let health = matches!(cli.command, Command::Health { .. });
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("h2grpc: cannot start the async runtime: {err}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(run(cli, &out)) {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            out.error(&err);
            ExitCode::from(if health { err.health_exit_code() } else { err.exit_code() })
        }
    }
}

/// Runs the command; `Ok` carries the exit code.
async fn run(cli: Cli, out: &Out) -> Result<u8, CliError> {
    let global = cli.global;
    match cli.command {
        Command::List { target, service } => {
            let mut session = source::Session::open(&target, &global, out).await?;
            let result = describe::list(&mut session, service.as_deref(), out).await;
            session.close(out).await;
            result.map(|()| 0)
        }
        Command::Describe { target, symbol } => {
            let mut session = source::Session::open(&target, &global, out).await?;
            let result = describe::describe(&mut session, &symbol, out).await;
            session.close(out).await;
            result.map(|()| 0)
        }
        Command::Call(args) => call::run(args, &global, out).await,
        Command::Health { target, service, watch } => {
            health::run(&target, &service, watch, &global, out).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_take_units_or_seconds() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2s"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_duration("1.5"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("1m"), Ok(Duration::from_secs(60)));
        assert!(parse_duration("2 parsecs").is_err());
        assert!(parse_duration("-1s").is_err());
    }

    #[test]
    fn the_arguments_parse() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
