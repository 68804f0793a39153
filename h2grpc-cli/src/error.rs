//! One error type for the command: a one-line message that says what to do, and the exit code.

use std::fmt;

use h2grpc::{Code, Status};

/// What went wrong, for the exit code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// The command line or its input: a bad target, JSON, header, an unknown symbol.
    Usage,
    /// The server could not be reached, or does not speak HTTP/2.
    Connect,
    /// A call failed with a status.
    Rpc,
}

/// An error: printed on one line to stderr (`h2grpc: <message>`), exit code from `code`.
#[derive(Clone, Debug)]
pub(crate) struct CliError {
    pub(crate) kind: Kind,
    /// The gRPC code that fits: the exit code of every command but `health`.
    pub(crate) code: Code,
    pub(crate) message: String,
}

impl CliError {
    pub(crate) fn usage(code: Code, message: impl Into<String>) -> CliError {
        CliError { kind: Kind::Usage, code, message: message.into() }
    }

    pub(crate) fn invalid(message: impl Into<String>) -> CliError {
        CliError::usage(Code::InvalidArgument, message)
    }

    pub(crate) fn connect(message: impl Into<String>) -> CliError {
        CliError { kind: Kind::Connect, code: Code::Unavailable, message: message.into() }
    }

    /// A failed call; `what` says which (e.g. "reflection").
    pub(crate) fn rpc(what: &str, status: Status) -> CliError {
        let message = if status.message().is_empty() {
            format!("{what}: {}", status.code().name())
        } else {
            format!("{what}: {} ({})", status.code().name(), status.message())
        };
        CliError { kind: Kind::Rpc, code: status.code(), message }
    }

    /// The exit code: the gRPC code (1 to 16).
    pub(crate) fn exit_code(&self) -> u8 {
        match self.code as i32 {
            0 => 2, // an error with OK would read as success: UNKNOWN
            code => code as u8,
        }
    }

    /// grpc_health_probe's exit codes: 1 arguments, 2 connection, 3 RPC failure.
    pub(crate) fn health_exit_code(&self) -> u8 {
        match self.kind {
            Kind::Usage => 1,
            Kind::Connect => 2,
            Kind::Rpc => 3,
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}
