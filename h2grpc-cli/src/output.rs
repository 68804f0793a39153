//! Where and how things are printed: text or JSON lines, colours only when wanted.

use std::io::{IsTerminal, Write};

use crate::error::CliError;
use crate::Format;

/// A colour (ANSI SGR code).
#[derive(Clone, Copy, Debug)]
pub(crate) enum Paint {
    Bold = 1,
    Dim = 2,
    Red = 31,
    Green = 32,
    Yellow = 33,
    Blue = 34,
    Magenta = 35,
    Cyan = 36,
}

/// Colours on a terminal only, and never when NO_COLOR is set to anything but "".
pub(crate) fn auto_color() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// The printer every command writes through.
#[derive(Debug)]
pub(crate) struct Out {
    pub(crate) format: Format,
    color: bool,
}

impl Out {
    pub(crate) fn new(format: Format, color: bool) -> Out {
        Out { format, color: color && format == Format::Text }
    }

    pub(crate) fn json(&self) -> bool {
        self.format == Format::Json
    }

    /// `text` in `paint`, if colours are on.
    pub(crate) fn paint(&self, paint: Paint, text: &str) -> String {
        if self.color {
            format!("\x1b[{}m{text}\x1b[0m", paint as u8)
        } else {
            text.to_owned()
        }
    }

    /// A line on stdout. A closed pipe (`| head`) is not an error worth reporting.
    pub(crate) fn line(&self, text: &str) {
        let mut stdout = std::io::stdout().lock();
        let _ = writeln!(stdout, "{text}");
        let _ = stdout.flush();
    }

    /// A line on stderr.
    pub(crate) fn note(&self, text: &str) {
        let _ = writeln!(std::io::stderr().lock(), "{text}");
    }

    /// A JSON value on one line of stdout.
    pub(crate) fn value(&self, value: &serde_json::Value) {
        self.line(&value.to_string());
    }

    /// The error, on one line of stderr (a JSON object with `--format json`).
    pub(crate) fn error(&self, err: &CliError) {
        if self.json() {
            let value = serde_json::json!({
                "error": { "code": err.code as i32, "name": err.code.name(), "message": err.message }
            });
            self.note(&value.to_string());
        } else {
            let label = self.paint(Paint::Red, "h2grpc:");
            self.note(&format!("{label} {}", err.message));
        }
    }
}
