//! `bench-relay`: sits between a client and a server on Unix sockets, relays one connection,
//! and counts what crosses it in each direction: reads (one per burst the writer flushed, at
//! most), bytes, and HTTP/2 frames by type with DATA payload bytes. `bench/counts` uses it for
//! the per-message table of `bench/PROFILE.md`; it is the same for every stack, so it sees
//! tonic's and the floor's frames as well as h2grpc's.
//!
//! ```text
//! bench-relay --listen CLIENT_SIDE.sock --connect SERVER.sock
//!     prints `listening`, relays the first connection, then prints one line per direction:
//!     `c2s reads=.. bytes=.. DATA=.. data_bytes=.. HEADERS=.. ...` and exits
//! ```

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{UnixListener, UnixStream};

use h2grpc_bench::BoxError;

const PREFACE: usize = 24;
const TYPES: [&str; 10] = [
    "DATA",
    "HEADERS",
    "PRIORITY",
    "RST_STREAM",
    "SETTINGS",
    "PUSH_PROMISE",
    "PING",
    "GOAWAY",
    "WINDOW_UPDATE",
    "CONTINUATION",
];

/// What one direction carried.
#[derive(Default)]
struct Counts {
    reads: u64,
    bytes: u64,
    frames: BTreeMap<&'static str, u64>,
    data_bytes: u64,
}

impl Counts {
    fn line(&self, name: &str) -> String {
        let mut line = format!("{name} reads={} bytes={}", self.reads, self.bytes);
        for (kind, n) in &self.frames {
            line.push_str(&format!(" {kind}={n}"));
        }
        line.push_str(&format!(" data_bytes={}", self.data_bytes));
        line
    }
}

/// Copies `from` to `to`, walking the frame headers (after the preface, if `preface`).
async fn relay(
    mut from: tokio::net::unix::OwnedReadHalf,
    mut to: tokio::net::unix::OwnedWriteHalf,
    preface: bool,
) -> Counts {
    let mut counts = Counts::default();
    let mut buf = vec![0u8; 256 * 1024];
    // Bytes still to skip (preface, frame payloads), and a partial frame head.
    let mut skip = if preface { PREFACE } else { 0 };
    let mut head = Vec::with_capacity(9);
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        counts.reads += 1;
        counts.bytes += n as u64;
        let mut chunk = &buf[..n];
        while !chunk.is_empty() {
            if skip > 0 {
                let k = skip.min(chunk.len());
                skip -= k;
                chunk = &chunk[k..];
                continue;
            }
            let k = (9 - head.len()).min(chunk.len());
            head.extend_from_slice(&chunk[..k]);
            chunk = &chunk[k..];
            if head.len() == 9 {
                let len =
                    usize::from(head[0]) << 16 | usize::from(head[1]) << 8 | usize::from(head[2]);
                let kind = TYPES.get(usize::from(head[3])).copied().unwrap_or("UNKNOWN");
                *counts.frames.entry(kind).or_default() += 1;
                if kind == "DATA" {
                    counts.data_bytes += len as u64;
                }
                skip = len;
                head.clear();
            }
        }
        if to.write_all(&buf[..n]).await.is_err() {
            break;
        }
    }
    let _ = to.shutdown().await;
    counts
}

async fn run(listen: PathBuf, connect: PathBuf) -> Result<(), BoxError> {
    let listener = UnixListener::bind(&listen)?;
    println!("listening");
    let (client, _) = listener.accept().await?;
    let server = UnixStream::connect(&connect).await?;
    let (client_read, client_write) = client.into_split();
    let (server_read, server_write) = server.into_split();
    let c2s = tokio::spawn(relay(client_read, server_write, true));
    let s2c = tokio::spawn(relay(server_read, client_write, false));
    println!("{}", c2s.await?.line("c2s"));
    println!("{}", s2c.await?.line("s2c"));
    let _ = std::fs::remove_file(&listen);
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (listen, connect) = match args.as_slice() {
        [l, a, c, b] if l == "--listen" && c == "--connect" => (a.into(), b.into()),
        _ => {
            eprintln!("usage: bench-relay --listen CLIENT_SIDE.sock --connect SERVER.sock");
            return ExitCode::from(2);
        }
    };
    let result = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(BoxError::from)
        .and_then(|rt| rt.block_on(run(listen, connect)));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("bench-relay: {err}");
            ExitCode::FAILURE
        }
    }
}
