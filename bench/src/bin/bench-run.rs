//! `bench-run`: runs the end-to-end workloads for every stack in alternating rounds and writes
//! `BENCHMARKS.md`. Normally started by `bench/run`, which builds everything first.
//!
//! ```text
//! bench-run [--rounds N] [--quick] [--stacks h2grpc,tonic,floor] [--workloads w1,w2,...]
//!           [--out BENCHMARKS.md] [--footprint FILE] [--criterion DIR] [--raw FILE]
//!           [--command "how it was started"] [--tls-certs DIR] [--no-pin]
//! ```
//!
//! For each round, for each workload, for each stack (A B C A B C ...): start
//! `bench-<stack> server` on a fresh socket, wait for its `ready`, run `bench-<stack> client`,
//! read the server's peak RSS (`VmHWM` in `/proc/<pid>/status`), stop the server.
//!
//! With two cores or more (and `taskset` on PATH), the server runs pinned to CPU 0 and the
//! client to CPU 1 (`taskset -c`): on a small machine, unpinned figures measure the
//! scheduler's placement as much as the stacks. The TLS workloads (`w7-*`) run only with
//! `--tls-certs DIR` (the files of `cargo run --example tls_test_certs -- DIR`), which is set
//! as `H2GRPC_BENCH_TLS` for their two processes; the floor has no TLS and no broadcast, so it
//! sits out `w6` and `w7-*`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use h2grpc_bench::workload::{Figures, Workload};
use h2grpc_bench::BoxError;

const STACKS: [&str; 3] = ["h2grpc", "tonic", "floor"];
/// A client that takes longer than this is killed and the run fails.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(300);

struct Options {
    rounds: usize,
    quick: bool,
    stacks: Vec<String>,
    workloads: Vec<Workload>,
    out: PathBuf,
    footprint: Option<PathBuf>,
    criterion: Option<PathBuf>,
    raw: Option<PathBuf>,
    command: String,
    bin_dir: PathBuf,
    tls_certs: Option<PathBuf>,
    pin: bool,
}

/// Whether `stack` runs `workload`.
fn runs(stack: &str, workload: Workload) -> bool {
    !(stack == "floor" && (workload == Workload::W6 || workload.tls()))
}

/// `program` under `taskset -c cpu` when pinning, else `program` itself.
fn pinned(program: &Path, cpu: Option<&str>) -> Command {
    match cpu {
        Some(cpu) => {
            let mut command = Command::new("taskset");
            command.args(["-c", cpu]).arg(program);
            command
        }
        None => Command::new(program),
    }
}

fn parse_options() -> Result<Options, BoxError> {
    let exe = std::env::current_exe()?;
    let mut options = Options {
        rounds: 3,
        quick: false,
        stacks: STACKS.iter().map(|s| s.to_string()).collect(),
        workloads: Workload::ALL.to_vec(),
        out: PathBuf::from("BENCHMARKS.md"),
        footprint: None,
        criterion: None,
        raw: None,
        command: "bench/run".to_owned(),
        bin_dir: exe.parent().ok_or("no executable directory")?.to_path_buf(),
        tls_certs: None,
        pin: std::thread::available_parallelism().is_ok_and(|n| n.get() >= 2)
            && Command::new("taskset").arg("-V").output().is_ok_and(|o| o.status.success()),
    };
    let mut args = std::env::args().skip(1);
    let mut rounds_set = false;
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--rounds" => {
                options.rounds = value()?.parse()?;
                rounds_set = true;
            }
            "--quick" => options.quick = true,
            "--stacks" => options.stacks = value()?.split(',').map(str::to_owned).collect(),
            "--workloads" => {
                options.workloads =
                    value()?.split(',').map(str::parse).collect::<Result<_, String>>()?
            }
            "--out" => options.out = value()?.into(),
            "--footprint" => options.footprint = Some(value()?.into()),
            "--criterion" => options.criterion = Some(value()?.into()),
            "--raw" => options.raw = Some(value()?.into()),
            "--command" => options.command = value()?,
            "--bin-dir" => options.bin_dir = value()?.into(),
            "--tls-certs" => options.tls_certs = Some(value()?.into()),
            "--no-pin" => options.pin = false,
            other => return Err(format!("unexpected argument {other:?}").into()),
        }
    }
    if options.quick && !rounds_set {
        options.rounds = 1;
    }
    if options.tls_certs.is_none() {
        options.workloads.retain(|w| !w.tls());
    }
    if let Some(bad) = options.stacks.iter().find(|s| !STACKS.contains(&s.as_str())) {
        return Err(format!("unknown stack {bad:?}").into());
    }
    Ok(options)
}

/// One measurement: the client's figures plus the server's peak RSS.
#[derive(Clone, Debug)]
struct Sample {
    round: usize,
    workload: Workload,
    stack: String,
    figures: Figures,
}

struct Server {
    child: Child,
}

impl Server {
    fn start(bin: &Path, socket: &Path, options: &Options, tls: bool) -> Result<Server, BoxError> {
        let mut command = pinned(bin, options.pin.then_some("0"));
        if let (true, Some(dir)) = (tls, &options.tls_certs) {
            command.env(h2grpc_bench::tls::ENV, dir);
        }
        let mut child = command
            .args(["server", "--socket"])
            .arg(socket)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line)?;
        if line.trim() != "ready" {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("{} server did not start", bin.display()).into());
        }
        Ok(Server { child })
    }

    /// Peak resident set size so far, in KiB.
    fn peak_rss_kib(&self) -> Result<f64, BoxError> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))?;
        let line = status.lines().find(|l| l.starts_with("VmHWM:")).ok_or("no VmHWM")?;
        let kib = line.split_whitespace().nth(1).ok_or("bad VmHWM")?;
        Ok(kib.parse()?)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        drop(self.child.stdin.take()); // the server leaves when its stdin closes
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn run_client(
    bin: &Path,
    socket: &Path,
    workload: Workload,
    options: &Options,
    server: &Server,
) -> Result<Figures, BoxError> {
    let mut command = pinned(bin, options.pin.then_some("1"));
    command.args(["client", "--socket"]).arg(socket).args(["--workload", workload.name()]);
    if workload == Workload::W5 {
        command.args(["--server-pid", &server.child.id().to_string()]);
    }
    if options.quick {
        command.arg("--quick");
    }
    if let (true, Some(dir)) = (workload.tls(), &options.tls_certs) {
        command.env(h2grpc_bench::tls::ENV, dir);
    }
    let mut child = command.stdout(Stdio::piped()).spawn()?;
    let deadline = Instant::now() + CLIENT_TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("{} client {workload} timed out", bin.display()).into());
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut out = String::new();
    std::io::Read::read_to_string(&mut child.stdout.take().ok_or("no stdout")?, &mut out)?;
    if !status.success() {
        return Err(format!("{} client {workload} failed: {status}", bin.display()).into());
    }
    let (got, figures) = out
        .lines()
        .find_map(Figures::parse_line)
        .ok_or_else(|| format!("no result line from {} client: {out:?}", bin.display()))?;
    if got != workload {
        return Err(format!("asked for {workload}, got {got}").into());
    }
    Ok(figures)
}

fn measure(
    options: &Options,
    dir: &Path,
    round: usize,
    workload: Workload,
    stack: &str,
) -> Result<Sample, BoxError> {
    let bin = options.bin_dir.join(format!("bench-{stack}"));
    let socket = dir.join(format!("{stack}-{workload}-{round}.sock"));
    let server = Server::start(&bin, &socket, options, workload.tls())?;
    let mut figures = run_client(&bin, &socket, workload, options, &server)?;
    figures.0.push(("server_rss_mib".to_owned(), server.peak_rss_kib()? / 1024.0));
    drop(server);
    let _ = std::fs::remove_file(&socket);
    Ok(Sample { round, workload, stack: stack.to_owned(), figures })
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n == 0 {
        f64::NAN
    } else if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

/// A figure over the rounds: its median, and its spread (half of max − min, as a fraction of
/// the median).
#[derive(Clone, Copy, Debug)]
struct Stat {
    median: f64,
    spread: f64,
}

/// Stats by (workload, stack, figure).
type Medians = BTreeMap<(String, String, String), Stat>;

fn medians(samples: &[Sample]) -> Medians {
    let mut all: BTreeMap<(String, String, String), Vec<f64>> = BTreeMap::new();
    for s in samples {
        for (key, value) in &s.figures.0 {
            all.entry((s.workload.to_string(), s.stack.clone(), key.clone()))
                .or_default()
                .push(*value);
        }
    }
    all.into_iter()
        .map(|(k, mut v)| {
            let median = median(&mut v);
            let (min, max) = (v[0], v[v.len() - 1]);
            (k, Stat { median, spread: (max - min) / 2.0 / median })
        })
        .collect()
}

/// A headline row: which figure, whether lower is better, and the issue's target ratio
/// against tonic.
struct Row {
    label: &'static str,
    workload: Workload,
    key: &'static str,
    lower_is_better: bool,
    target: Option<f64>,
}

const fn row(
    label: &'static str,
    workload: Workload,
    key: &'static str,
    lower_is_better: bool,
    target: Option<f64>,
) -> Row {
    Row { label, workload, key, lower_is_better, target }
}

/// The headline rows, with issue 22's targets.
const ROWS: &[Row] = &[
    row("W1 unary latency p50 (µs)", Workload::W1, "p50_us", true, Some(0.5)),
    row("W1 unary latency p99 (µs)", Workload::W1, "p99_us", true, None),
    row("W1 unary latency mean (µs)", Workload::W1, "mean_us", true, None),
    row("W2 unary, 64 callers (calls/s)", Workload::W2, "calls_per_s", false, Some(1.5)),
    row("W3 stream 1 KiB (msg/s)", Workload::W3Small, "msg_per_s", false, Some(1.5)),
    row("W3 stream 1 KiB (MiB/s)", Workload::W3Small, "mib_per_s", false, None),
    row("W3 stream 64 KiB (MiB/s)", Workload::W3Large, "mib_per_s", false, Some(1.5)),
    row("W3 stream 64 KiB (msg/s)", Workload::W3Large, "msg_per_s", false, None),
    row("W4 bidi ping-pong (round trips/s)", Workload::W4, "rt_per_s", false, Some(1.3)),
    row("W5 server RSS per idle connection (KiB)", Workload::W5, "kib_per_conn", true, Some(0.7)),
    row("W5 server RSS, 1,000 connected (MiB)", Workload::W5, "rss_all_mib", true, None),
    row("W5 server RSS after they left (MiB)", Workload::W5, "rss_after_mib", true, None),
    row("W6 broadcast deliveries (msg/s)", Workload::W6, "deliveries_per_s", false, Some(2.0)),
    row("W6 publish to receipt p50 (µs)", Workload::W6, "p50_us", true, None),
    row("W6 publish to receipt p99 (µs)", Workload::W6, "p99_us", true, Some(1.0)),
    row("W7 TLS unary latency p50 (µs)", Workload::W7Unary, "p50_us", true, None),
    row("W7 TLS stream 1 KiB (msg/s)", Workload::W7Stream, "msg_per_s", false, None),
];

fn fmt_value(v: f64) -> String {
    if v.is_nan() {
        "–".to_owned()
    } else if v >= 10_000.0 {
        let s = format!("{v:.0}");
        // Thousands separators.
        let mut out = String::new();
        for (i, c) in s.chars().enumerate() {
            if i > 0 && (s.len() - i) % 3 == 0 {
                out.push(',');
            }
            out.push(c);
        }
        out
    } else if v >= 100.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

fn ratio(a: f64, b: f64) -> f64 {
    a / b
}

fn fmt_ratio(r: f64) -> String {
    if r.is_nan() {
        "–".to_owned()
    } else {
        format!("{r:.2}")
    }
}

/// Peak server RSS of a stack: the largest of its per-workload medians over W1–W4 (W5 and W6
/// hold 1,000 connections or subscriptions on purpose, and have rows of their own).
fn peak_rss(medians: &Medians, stack: &str) -> f64 {
    medians
        .iter()
        .filter(|((w, s, k), _)| {
            s == stack
                && k == "server_rss_mib"
                && ["w1", "w2", "w3-1k", "w3-64k", "w4"].contains(&w.as_str())
        })
        .map(|(_, v)| v.median)
        .fold(f64::NAN, f64::max)
}

fn results_table(out: &mut String, options: &Options, medians: &Medians) {
    let none = Stat { median: f64::NAN, spread: f64::NAN };
    let get = |w: Workload, stack: &str, key: &str| {
        medians.get(&(w.to_string(), stack.to_owned(), key.to_owned())).copied().unwrap_or(none)
    };
    let has = |s: &str| options.stacks.iter().any(|x| x == s);
    let cell = |stack: &str, v: Stat| {
        if !has(stack) || v.median.is_nan() {
            "–".to_owned()
        } else if v.spread.is_nan() || options.rounds < 2 {
            fmt_value(v.median)
        } else {
            format!("{} ±{:.0}%", fmt_value(v.median), v.spread * 100.0)
        }
    };
    let _ = writeln!(out, "| workload | h2grpc | tonic | floor | h2grpc/tonic | h2grpc/floor | target (vs tonic) | met |");
    let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|---|---|");
    let mut row = |label: &str, h: Stat, t: Stat, f: Stat, lower: bool, target: Option<f64>| {
        let rt = ratio(h.median, t.median);
        let rf = ratio(h.median, f.median);
        let target_text = match target {
            Some(x) if lower => format!("≤ {x:.2}"),
            Some(x) => format!("≥ {x:.2}"),
            None => String::new(),
        };
        let mut met = Vec::new();
        if let Some(x) = target {
            if !rt.is_nan() {
                let ok = if lower { rt <= x } else { rt >= x };
                met.push(if ok { "yes" } else { "**no**" });
            }
        }
        if !rf.is_nan() && !label.contains("RSS") {
            let below_floor = if lower { rf > 1.0 } else { rf < 1.0 };
            if below_floor {
                met.push("below floor");
            }
        }
        let _ = writeln!(
            out,
            "| {label} | {} | {} | {} | {} | {} | {target_text} | {} |",
            cell("h2grpc", h),
            cell("tonic", t),
            cell("floor", f),
            fmt_ratio(rt),
            fmt_ratio(rf),
            met.join(", ")
        );
    };
    for r in ROWS {
        if !options.workloads.contains(&r.workload) {
            continue;
        }
        row(
            r.label,
            get(r.workload, "h2grpc", r.key),
            get(r.workload, "tonic", r.key),
            get(r.workload, "floor", r.key),
            r.lower_is_better,
            r.target,
        );
    }
    let peak = |stack: &str| Stat { median: peak_rss(medians, stack), spread: f64::NAN };
    row(
        "server peak RSS (MiB, max over W1–W4)",
        peak("h2grpc"),
        peak("tonic"),
        peak("floor"),
        true,
        Some(0.8),
    );
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "Each cell is the median over the rounds ± the spread: half of (max − min), as a share of \
         the median.\n"
    );
    let _ = writeln!(out, "Server peak RSS by workload (MiB, median over rounds):\n");
    let _ = writeln!(out, "| workload | {} |", options.stacks.join(" | "));
    let _ = writeln!(out, "|---|{}", "---:|".repeat(options.stacks.len()));
    for w in &options.workloads {
        let cells: Vec<String> = options
            .stacks
            .iter()
            .map(|s| match get(*w, s, "server_rss_mib").median {
                m if m.is_nan() => "–".to_owned(),
                m => format!("{m:.1}"),
            })
            .collect();
        let _ = writeln!(out, "| {w} | {} |", cells.join(" | "));
    }
}

fn raw_table(out: &mut String, samples: &[Sample]) {
    let _ = writeln!(out, "| round | workload | stack | figures |");
    let _ = writeln!(out, "|---:|---|---|---|");
    for s in samples {
        let figures: Vec<String> =
            s.figures.0.iter().map(|(k, v)| format!("{k} {}", fmt_value(*v))).collect();
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} |",
            s.round,
            s.workload,
            s.stack,
            figures.join(", ")
        );
    }
}

/// Throughput rows from criterion's `estimates.json` (median time) and `benchmark.json` (bytes).
fn codec_table(out: &mut String, dir: &Path) -> Result<(), BoxError> {
    let mut rows = Vec::new();
    for group in ["decode", "encode", "encode_raw"] {
        let group_dir = dir.join(group);
        if !group_dir.is_dir() {
            continue;
        }
        let mut benches = Vec::new();
        collect_benchmarks(&group_dir, &mut benches)?;
        for bench in benches {
            let meta: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(bench.join("benchmark.json"))?)?;
            let est: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(bench.join("estimates.json"))?)?;
            let bytes = meta["throughput"]["Bytes"].as_f64().unwrap_or(f64::NAN);
            let ns = est["median"]["point_estimate"].as_f64().unwrap_or(f64::NAN);
            let function = meta["function_id"].as_str().unwrap_or("?").to_owned();
            let value = meta["value_str"].as_str().unwrap_or("").to_owned();
            rows.push((
                group.to_owned(),
                function,
                value,
                bytes / (ns * 1e-9) / (1024.0 * 1024.0 * 1024.0),
                ns,
            ));
        }
    }
    if rows.is_empty() {
        return Err("no criterion results".into());
    }
    let size_order = |s: &str| {
        ["0B", "100B", "1KiB", "64KiB", "4MiB", "512B", "16KiB", "1MiB"]
            .iter()
            .position(|x| *x == s)
            .unwrap_or(99)
    };
    rows.sort_by(|a, b| {
        (a.0.as_str(), size_order(&a.1), size_order(&a.2)).cmp(&(
            b.0.as_str(),
            size_order(&b.1),
            size_order(&b.2),
        ))
    });
    let _ = writeln!(
        out,
        "| bench | message | chunk | median time per iteration | throughput (GiB/s) |"
    );
    let _ = writeln!(out, "|---|---|---|---:|---:|");
    for (group, function, value, gib, ns) in rows {
        let time =
            if ns >= 1e6 { format!("{:.2} ms", ns / 1e6) } else { format!("{:.1} µs", ns / 1e3) };
        let _ = writeln!(out, "| {group} | {function} | {value} | {time} | {gib:.2} |");
    }
    Ok(())
}

fn collect_benchmarks(dir: &Path, found: &mut Vec<PathBuf>) -> Result<(), BoxError> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.file_name().is_some_and(|n| n == "new") && path.join("benchmark.json").is_file() {
            found.push(path);
        } else if path.is_dir()
            && path.file_name().is_some_and(|n| n != "base" && n != "report" && n != "change")
        {
            collect_benchmarks(&path, found)?;
        }
    }
    Ok(())
}

fn command_output(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_else(|| "unknown".to_owned())
}

/// Versions of the crates that matter, from the workspace lock file.
fn crate_versions() -> String {
    let lock = Path::new(env!("CARGO_MANIFEST_DIR")).join("../Cargo.lock");
    let Ok(text) = std::fs::read_to_string(lock) else { return "unknown".to_owned() };
    let wanted = [
        "h2",
        "tonic",
        "tonic-prost",
        "hyper",
        "hyper-util",
        "tower",
        "prost",
        "tokio",
        "bytes",
        "http",
    ];
    let mut found = Vec::new();
    let mut name = None;
    for line in text.lines() {
        if let Some(n) = line.strip_prefix("name = ") {
            name = Some(n.trim_matches('"').to_owned());
        } else if let Some(v) = line.strip_prefix("version = ") {
            if let Some(n) = name.take().filter(|n| wanted.contains(&n.as_str())) {
                found.push(format!("{n} {}", v.trim_matches('"')));
            }
        }
    }
    found.sort_by_key(|s| wanted.iter().position(|w| s.split(' ').next() == Some(w)));
    found.join(", ")
}

fn machine(load_before: &str) -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".to_owned());
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    let load_after = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    format!(
        "- date: {}\n- machine: {cores} cores (`nproc`), {cpu}; Linux {}\n- load average (1, 5, 15 min) before: {}; after: {}\n- rustc: {}\n- crates: {}\n",
        command_output("date", &["-u", "+%Y-%m-%d %H:%M UTC"]),
        command_output("uname", &["-r"]),
        load_before.split_whitespace().take(3).collect::<Vec<_>>().join(" "),
        load_after.split_whitespace().take(3).collect::<Vec<_>>().join(" "),
        command_output("rustc", &["--version"]),
        crate_versions(),
    )
}

fn write_report(options: &Options, samples: &[Sample], load_before: &str) -> Result<(), BoxError> {
    let medians = medians(samples);
    let mut out = String::new();
    let _ = writeln!(out, "# Benchmarks\n");
    let _ = writeln!(
        out,
        "Written by `{}`{}. Figures are medians over {} round(s); each round runs every workload \
         once per stack, stacks alternating ({}). Server and client are separate processes over a \
         Unix socket, each a tokio multi-thread runtime with 1 worker{}; W1–W4 use one \
         connection. Ratios are h2grpc divided by the other stack: below 1 is better for latency \
         and RSS, above 1 for throughput.\n",
        options.command,
        if options.quick {
            " in quick mode (about a tenth of the work: a smoke check, not a measurement)"
        } else {
            ""
        },
        options.rounds,
        options.stacks.join(" "),
        if options.pin {
            ", the server pinned to CPU 0 and the client to CPU 1 (`taskset -c`)"
        } else {
            ", not pinned to CPUs"
        },
    );
    if let Some(dir) = h2grpc_bench::tls::dir() {
        let _ = writeln!(
            out,
            "**Over TLS**: `{}={}` was set, so server and client talk TLS over TCP on \
             127.0.0.1 (`TCP_NODELAY` on both sides, a P-256 certificate, rustls with ring on \
             both stacks: h2grpc's `tls` feature, tonic's `tls-ring`) instead of the Unix \
             socket the next paragraphs describe.\n",
            h2grpc_bench::tls::ENV,
            dir.display()
        );
    }
    let _ = writeln!(out, "## Machine\n\n{}", machine(load_before));
    let _ = writeln!(out, "## End to end\n");
    results_table(&mut out, options, &medians);
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "Stacks: **h2grpc** (this crate, default settings, code generated by h2grpc-build); **tonic** \
         (generated by tonic-prost-build, served with `serve_with_incoming` over a \
         `UnixListenerStream`, client through a Unix-socket connector, all defaults; streams \
         returned ready, its best case); **floor** (`bench/src/stacks/floor.rs`: gRPC echo on bare \
         `h2`, 64 KiB coalescing, waits on `poll_capacity`, whole-message buffers reserved once \
         the prefix arrives; h2grpc's HTTP/2 settings: windows 1 MiB per stream / 4 MiB per \
         connection, frames up to 256 KiB). All three use the same generated prost messages with `bytes::Bytes` fields.\n"
    );
    let _ = writeln!(
        out,
        "Workloads: W1 unary latency (1 call in flight, 100 B, 2,000 warm-up + 20,000 timed); W2 \
         unary throughput (64 concurrent callers, 100 B, 5 s after 1 s warm-up); W3 one server \
         stream of 200,000 × 1 KiB and of 2,000 × 64 KiB; W4 bidi ping-pong (100 B, 1,000 \
         warm-up + 20,000 timed round trips); W5 1,000 connections, one unary call each, then idle \
         (server `VmRSS` growth per connection, and after they all left); W6 broadcast: 10 \
         connections × 100 server-streaming subscriptions, the server publishing 100 B messages \
         for 5 s as fast as its worker allows (`bench/src/fanout.rs`; h2grpc's `Broadcast`, \
         tonic's `tokio::sync::broadcast` + `BroadcastStream`, both with a ring of 1,024 and \
         skip-ahead for laggards): deliveries per second over all subscribers and publish-to-receipt \
         latency; W7 W1 and W3 1 KiB over TLS on TCP loopback (rustls with ring on both stacks). \
         Server peak RSS is `VmHWM` of the server process \
         after the workload; a fresh server runs each workload.\n"
    );
    let _ = writeln!(
        out,
        "Where the instructions go (callgrind counts, which a busy machine does not disturb): \
         [`bench/PROFILE.md`](bench/PROFILE.md), made with `bench/profile`.\n"
    );
    let _ = writeln!(out, "## Footprint of a hello server\n");
    match options.footprint.as_ref().map(std::fs::read_to_string) {
        Some(Ok(text)) => out.push_str(&text),
        Some(Err(err)) => {
            let _ = writeln!(out, "(footprint results unreadable: {err})");
        }
        None => {
            let _ = writeln!(out, "(not measured in this run: `bench/footprint`)");
        }
    }
    let _ = writeln!(out, "\n## Codec micro-benchmarks\n");
    let _ = writeln!(
        out,
        "`cargo bench -p h2grpc --bench codec` (`benches/codec.rs`): wire bytes per second through \
         `Decoder` (messages cut into chunks as DATA frames would be) and `encode_message` / \
         `encode_raw` into a reused buffer; at least 256 KiB of wire bytes per iteration.\n"
    );
    match options.criterion.as_ref() {
        Some(dir) => {
            if let Err(err) = codec_table(&mut out, dir) {
                let _ = writeln!(out, "(no codec results: {err})");
            }
        }
        None => {
            let _ = writeln!(out, "(not run in this run)");
        }
    }
    let _ = writeln!(out, "\n## Commands\n");
    let _ = writeln!(
        out,
        "```sh\n\
         bench/run                 # everything: codec benches, footprint, 3 rounds end to end (~15 min)\n\
         bench/run --quick         # a smoke pass: 1 short round, quick codec benches, no footprint\n\
         bench/footprint           # the footprint table alone\n\
         bench/profile --stack h2grpc --workload w3-1k --side server   # callgrind: where instructions go\n\
         cargo bench -p h2grpc --bench codec\n\
         # one stack, one workload, by hand:\n\
         target/release/bench-h2grpc server --socket /tmp/b.sock &\n\
         target/release/bench-h2grpc client --socket /tmp/b.sock --workload w1\n\
         ```\n"
    );
    let _ = writeln!(out, "## Every sample\n");
    raw_table(&mut out, samples);
    std::fs::write(&options.out, out)?;
    if let Some(raw) = &options.raw {
        let mut tsv = String::from("round\tworkload\tstack\tfigure\tvalue\n");
        for s in samples {
            for (k, v) in &s.figures.0 {
                let _ = writeln!(tsv, "{}\t{}\t{}\t{k}\t{v}", s.round, s.workload, s.stack);
            }
        }
        std::fs::write(raw, tsv)?;
    }
    Ok(())
}

fn run() -> Result<(), BoxError> {
    let options = parse_options()?;
    let load_before = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let dir = std::env::temp_dir().join(format!("h2grpc-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let mut samples = Vec::new();
    let result = (|| {
        for round in 1..=options.rounds {
            for &workload in &options.workloads {
                for stack in options.stacks.iter().filter(|s| runs(s, workload)) {
                    let sample = measure(&options, &dir, round, workload, stack)?;
                    eprintln!("round {round} {workload:7} {stack:7} {}", sample.figures);
                    samples.push(sample);
                }
            }
        }
        Ok::<(), BoxError>(())
    })();
    let _ = std::fs::remove_dir_all(&dir);
    result?;
    write_report(&options, &samples, &load_before)?;
    eprintln!("wrote {}", options.out.display());
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("bench-run: {err}");
            ExitCode::FAILURE
        }
    }
}
