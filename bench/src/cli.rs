//! The command line of every stack binary:
//!
//! ```text
//! bench-<stack> server --socket PATH
//!     binds, prints `ready` on stdout, serves until stdin closes (or the process is killed)
//! bench-<stack> client --socket PATH --workload w1|w2|w3-1k|w3-64k|w4|w5|w6|w7-1|w7-3
//!                      [--quick] [--server-pid PID]
//!     runs one workload, prints `result <workload> key=value ...` (w5 reads the server's
//!     memory through PID; w7-* need H2GRPC_BENCH_TLS, as the server does)
//! bench-<stack> server --tcp ADDR
//!     binds TCP ADDR (127.0.0.1:0), prints `ready PORT`, serves until stdin closes
//! bench-<stack> client --balance ADDR,ADDR,... --workload w2 [--quick]
//!     runs the workload on one client balancing round-robin over the servers
//! ```

use std::io::{BufRead, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::workload::{self, Params, Workload};
use crate::{run_on_worker, BoxError, Stack};

const USAGE: &str = "usage: bench-<stack> server --socket PATH | --tcp ADDR
       bench-<stack> client --socket PATH | --balance ADDR,... --workload w1|...|w7-3 [--quick] [--server-pid PID]";

/// Where a server listens or a client connects.
enum Place {
    Socket(PathBuf),
    Tcp(Vec<SocketAddr>),
}

enum Command {
    Server { place: Place },
    Client { place: Place, workload: Workload, params: Params, server_pid: Option<u32> },
}

fn parse(args: &[String]) -> Result<Command, String> {
    let mut place = None;
    let mut workload = None;
    let mut params = Params::default();
    let mut server_pid = None;
    let mut rest = args.iter().skip(1);
    while let Some(arg) = rest.next() {
        let mut value = || rest.next().cloned().ok_or_else(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--socket" => place = Some(Place::Socket(PathBuf::from(value()?))),
            "--tcp" | "--balance" => {
                let list = value()?;
                let addrs = list.split(',').map(str::parse).collect::<Result<_, _>>();
                place = Some(Place::Tcp(addrs.map_err(|e| format!("{arg} {list}: {e}"))?));
            }
            "--workload" => workload = Some(value()?.parse::<Workload>()?),
            "--quick" => params = Params::quick(),
            "--server-pid" => {
                server_pid = Some(value()?.parse().map_err(|e| format!("--server-pid: {e}"))?)
            }
            other => return Err(format!("unexpected argument {other:?}")),
        }
    }
    let place = place.ok_or("--socket (or --tcp, --balance) is required")?;
    match args.first().map(String::as_str) {
        Some("server") => Ok(Command::Server { place }),
        Some("client") => {
            let workload = workload.ok_or("--workload is required")?;
            Ok(Command::Client { place, workload, params, server_pid })
        }
        _ => Err("expected `server` or `client`".into()),
    }
}

/// The `main` of `bench-<stack>`.
pub fn main<S: Stack>() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let command = match parse(&args) {
        Ok(command) => command,
        Err(err) => {
            eprintln!("bench-{}: {err}\n{USAGE}", S::NAME);
            return ExitCode::from(2);
        }
    };
    let result = match command {
        Command::Server { place } => server::<S>(place),
        Command::Client { place, workload, params, server_pid } => {
            client::<S>(place, workload, params, server_pid)
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("bench-{}: {err}", S::NAME);
            ExitCode::FAILURE
        }
    }
}

fn server<S: Stack>(place: Place) -> Result<(), BoxError> {
    // The orchestrator holds our stdin: when it closes (or the orchestrator dies), leave.
    std::thread::spawn(|| {
        let mut sink = String::new();
        while std::io::stdin().lock().read_line(&mut sink).is_ok_and(|n| n > 0) {}
        std::process::exit(0);
    });
    let ready = |port: Option<u16>| {
        let mut out = std::io::stdout().lock();
        let _ = match port {
            Some(port) => writeln!(out, "ready {port}"),
            None => writeln!(out, "ready"),
        };
        let _ = out.flush();
    };
    match place {
        Place::Socket(socket) => {
            run_on_worker(async move { S::serve(&socket, || ready(None)).await })?
        }
        Place::Tcp(addrs) => {
            let addr = *addrs.first().ok_or("--tcp needs an address")?;
            run_on_worker(async move { S::serve_tcp(addr, move |port| ready(Some(port))).await })?
        }
    }
}

fn client<S: Stack>(
    place: Place,
    workload: Workload,
    params: Params,
    server_pid: Option<u32>,
) -> Result<(), BoxError> {
    if workload.tls() && crate::tls::dir().is_none() {
        return Err(format!("{workload} runs over TLS: set {}", crate::tls::ENV).into());
    }
    let figures = run_on_worker(async move {
        match (&place, workload) {
            (Place::Socket(socket), Workload::W5) => {
                let pid = server_pid.ok_or("w5 needs --server-pid")?;
                return crate::many::w5::<S>(socket, &params, pid).await;
            }
            (Place::Socket(socket), Workload::W6) => {
                return crate::many::w6::<S>(socket, &params).await
            }
            _ => {}
        }
        let client = match place {
            Place::Socket(socket) => S::connect(&socket).await?,
            Place::Tcp(addrs) => S::connect_balanced(addrs).await?,
        };
        workload::run(client, workload, &params).await
    })??;
    println!("result {workload} {figures}");
    Ok(())
}
