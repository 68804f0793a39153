//! `bench-balance`: W2 (64 callers, unary) over TCP on 127.0.0.1, one client balancing
//! round-robin over 3 server processes, against the same client on 1 server; h2grpc
//! (`ipv4:` target, `round_robin`) and tonic (`Channel::balance_list`) side by side in one run.
//! Prints a Markdown table (and writes it to `--out` if given), for BENCHMARKS.md.
//!
//! ```text
//! bench-balance [--rounds N] [--quick] [--stacks h2grpc,tonic] [--out FILE] [--bin-dir DIR]
//! ```
//!
//! Rounds alternate stacks and server counts (h2grpc×1, tonic×1, h2grpc×3, tonic×3, ...); the
//! table gives medians. Every process has one busy thread: with 3 servers, 4 processes share
//! the machine's cores, so the gain measures spreading, bounded by the cores there are.

use std::fmt::Write as _;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};

use h2grpc_bench::workload::Figures;
use h2grpc_bench::BoxError;

const SERVERS: [usize; 2] = [1, 3];

struct Server(Child, u16);

impl Server {
    fn start(bin: &Path) -> Result<Server, BoxError> {
        let mut child = Command::new(bin)
            .args(["server", "--tcp", "127.0.0.1:0"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
        let mut line = String::new();
        BufReader::new(child.stdout.take().ok_or("no stdout")?).read_line(&mut line)?;
        let port = line.trim().strip_prefix("ready ").and_then(|p| p.parse().ok());
        match port {
            Some(port) => Ok(Server(child, port)),
            None => {
                let _ = child.kill();
                let _ = child.wait();
                Err(format!("{} server did not start: {line:?}", bin.display()).into())
            }
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        drop(self.0.stdin.take()); // the server leaves when its stdin closes
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn w2(bin: &Path, servers: usize, quick: bool) -> Result<f64, BoxError> {
    let servers = (0..servers).map(|_| Server::start(bin)).collect::<Result<Vec<_>, _>>()?;
    let list: Vec<String> = servers.iter().map(|s| format!("127.0.0.1:{}", s.1)).collect();
    let mut command = Command::new(bin);
    command.args(["client", "--balance", &list.join(","), "--workload", "w2"]);
    if quick {
        command.arg("--quick");
    }
    let output = command.stderr(Stdio::inherit()).output()?;
    let out = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        return Err(format!("{} client failed: {}", bin.display(), output.status).into());
    }
    let (_, figures): (_, Figures) =
        out.lines().find_map(Figures::parse_line).ok_or("no result line")?;
    figures.get("calls_per_s").ok_or_else(|| "no calls_per_s".into())
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn run() -> Result<(), BoxError> {
    let mut rounds = 3;
    let mut quick = false;
    let mut stacks = vec!["h2grpc".to_owned(), "tonic".to_owned()];
    let mut out = None;
    let mut bin_dir: PathBuf =
        std::env::current_exe()?.parent().ok_or("no executable directory")?.to_path_buf();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--rounds" => rounds = value()?.parse()?,
            "--quick" => quick = true,
            "--stacks" => stacks = value()?.split(',').map(str::to_owned).collect(),
            "--out" => out = Some(PathBuf::from(value()?)),
            "--bin-dir" => bin_dir = value()?.into(),
            other => return Err(format!("unexpected argument {other:?}").into()),
        }
    }
    let mut samples: Vec<Vec<Vec<f64>>> = vec![vec![Vec::new(); SERVERS.len()]; stacks.len()];
    for round in 0..rounds {
        for (n, servers) in SERVERS.iter().enumerate() {
            for (s, stack) in stacks.iter().enumerate() {
                let calls = w2(&bin_dir.join(format!("bench-{stack}")), *servers, quick)?;
                eprintln!("round {}: {stack} × {servers} servers: {calls:.0} calls/s", round + 1);
                samples[s][n].push(calls);
            }
        }
    }
    let mut table = String::from(
        "| W2 unary, 64 callers, TCP 127.0.0.1 (calls/s, median) | 1 server | 3 servers, \
         round-robin | 3 vs 1 |\n|---|---:|---:|---:|\n",
    );
    for (stack, per_count) in stacks.iter().zip(&mut samples) {
        let one = median(&mut per_count[0]);
        let three = median(&mut per_count[1]);
        let how =
            if stack == "tonic" { "`Channel::balance_list`" } else { "`ipv4:` + `round_robin`" };
        writeln!(table, "| {stack} ({how}) | {one:.0} | {three:.0} | {:.2}× |", three / one)?;
    }
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    writeln!(table, "\n{rounds} rounds{}; {cores} cores.", if quick { ", --quick" } else { "" })?;
    print!("{table}");
    if let Some(out) = out {
        std::fs::write(out, table)?;
    }
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("bench-balance: {err}");
            ExitCode::FAILURE
        }
    }
}
