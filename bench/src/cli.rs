//! The command line of every stack binary:
//!
//! ```text
//! bench-<stack> server --socket PATH
//!     binds, prints `ready` on stdout, serves until stdin closes (or the process is killed)
//! bench-<stack> client --socket PATH --workload w1|w2|w3-1k|w3-64k|w4 [--quick]
//!     runs one workload on one connection, prints `result <workload> key=value ...`
//! ```

use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use crate::workload::{self, Params, Workload};
use crate::{run_on_worker, BoxError, Stack};

const USAGE: &str = "usage: bench-<stack> server --socket PATH
       bench-<stack> client --socket PATH --workload w1|w2|w3-1k|w3-64k|w4 [--quick]";

enum Command {
    Server { socket: PathBuf },
    Client { socket: PathBuf, workload: Workload, params: Params },
}

fn parse(args: &[String]) -> Result<Command, String> {
    let mut socket = None;
    let mut workload = None;
    let mut params = Params::default();
    let mut rest = args.iter().skip(1);
    while let Some(arg) = rest.next() {
        let mut value = || rest.next().cloned().ok_or_else(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--socket" => socket = Some(PathBuf::from(value()?)),
            "--workload" => workload = Some(value()?.parse::<Workload>()?),
            "--quick" => params = Params::quick(),
            other => return Err(format!("unexpected argument {other:?}")),
        }
    }
    let socket = socket.ok_or("--socket is required")?;
    match args.first().map(String::as_str) {
        Some("server") => Ok(Command::Server { socket }),
        Some("client") => {
            let workload = workload.ok_or("--workload is required")?;
            Ok(Command::Client { socket, workload, params })
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
        Command::Server { socket } => server::<S>(socket),
        Command::Client { socket, workload, params } => client::<S>(socket, workload, params),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("bench-{}: {err}", S::NAME);
            ExitCode::FAILURE
        }
    }
}

fn server<S: Stack>(socket: PathBuf) -> Result<(), BoxError> {
    // The orchestrator holds our stdin: when it closes (or the orchestrator dies), leave.
    std::thread::spawn(|| {
        let mut sink = String::new();
        while std::io::stdin().lock().read_line(&mut sink).is_ok_and(|n| n > 0) {}
        std::process::exit(0);
    });
    let ready = || {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "ready");
        let _ = out.flush();
    };
    run_on_worker(async move { S::serve(&socket, ready).await })?
}

fn client<S: Stack>(socket: PathBuf, workload: Workload, params: Params) -> Result<(), BoxError> {
    let figures = run_on_worker(async move {
        let client = S::connect(&socket).await?;
        workload::run(client, workload, &params).await
    })??;
    println!("result {workload} {figures}");
    Ok(())
}
