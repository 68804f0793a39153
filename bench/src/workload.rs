//! The workloads, written once against [`Client`]:
//!
//! | id       | what                                                       | reports                    |
//! |----------|------------------------------------------------------------|----------------------------|
//! | `w1`     | unary, 1 call in flight, 100 B; 2,000 warm-up + 20,000 timed | p50, p99, mean (µs)        |
//! | `w2`     | unary, 64 concurrent callers, 100 B; 1 s warm-up + 5 s      | calls/s                    |
//! | `w3-1k`  | one server stream of 200,000 × 1 KiB                        | msg/s, MiB/s               |
//! | `w3-64k` | one server stream of 2,000 × 64 KiB                         | msg/s, MiB/s               |
//! | `w4`     | bidi ping-pong, 100 B; 1,000 warm-up + 20,000 round trips   | round trips/s              |
//! | `w7-1`   | `w1` over TLS on TCP loopback                               | as `w1`                    |
//! | `w7-3`   | `w3-1k` over TLS on TCP loopback                            | as `w3-1k`                 |
//!
//! All on one connection; `w5` and `w6`, on many, are in [`many`](crate::many). A client prints
//! one line, `result key=value ...`, which the orchestrator parses.

use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;

use crate::{BoxError, Client, Payload, StreamReq};

/// One of the workloads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Workload {
    /// Unary latency.
    W1,
    /// Unary throughput with concurrent callers.
    W2,
    /// Server stream of 1 KiB messages.
    W3Small,
    /// Server stream of 64 KiB messages.
    W3Large,
    /// Bidi ping-pong.
    W4,
    /// Many idle connections: server memory per connection.
    W5,
    /// Broadcast fan-out to 1,000 subscribers.
    W6,
    /// W1 over TLS.
    W7Unary,
    /// W3 1 KiB over TLS.
    W7Stream,
}

impl Workload {
    /// Every workload, in report order.
    pub const ALL: [Workload; 9] = [
        Workload::W1,
        Workload::W2,
        Workload::W3Small,
        Workload::W3Large,
        Workload::W4,
        Workload::W5,
        Workload::W6,
        Workload::W7Unary,
        Workload::W7Stream,
    ];

    /// Whether the workload runs over TLS (the orchestrator then sets `H2GRPC_BENCH_TLS`).
    pub fn tls(self) -> bool {
        matches!(self, Workload::W7Unary | Workload::W7Stream)
    }

    /// The command-line name.
    pub fn name(self) -> &'static str {
        match self {
            Workload::W1 => "w1",
            Workload::W2 => "w2",
            Workload::W3Small => "w3-1k",
            Workload::W3Large => "w3-64k",
            Workload::W4 => "w4",
            Workload::W5 => "w5",
            Workload::W6 => "w6",
            Workload::W7Unary => "w7-1",
            Workload::W7Stream => "w7-3",
        }
    }
}

impl fmt::Display for Workload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Workload {
    type Err = String;
    fn from_str(s: &str) -> Result<Workload, String> {
        Workload::ALL.into_iter().find(|w| w.name() == s).ok_or_else(|| {
            format!(
                "unknown workload {s:?}: expected w1, w2, w3-1k, w3-64k, w4, w5, w6, w7-1 or w7-3"
            )
        })
    }
}

/// Sizes and durations; the defaults are the issue's, [`Params::quick`] a short check.
#[derive(Clone, Debug, PartialEq)]
pub struct Params {
    /// Payload bytes of unary calls and ping-pong messages.
    pub payload: usize,
    /// W1 calls before timing.
    pub w1_warmup: u32,
    /// W1 timed calls.
    pub w1_calls: u32,
    /// W2 concurrent callers.
    pub w2_callers: u32,
    /// W2 time before counting.
    pub w2_warmup: Duration,
    /// W2 counted time.
    pub w2_duration: Duration,
    /// W3 1 KiB: message count.
    pub w3_small_count: u32,
    /// W3 64 KiB: message count.
    pub w3_large_count: u32,
    /// W4 round trips before timing.
    pub w4_warmup: u32,
    /// W4 timed round trips.
    pub w4_rounds: u32,
    /// W5 connections.
    pub w5_connections: u32,
    /// W6 connections.
    pub w6_connections: u32,
    /// W6 subscriptions per connection.
    pub w6_per_connection: u32,
    /// W6 publishing time.
    pub w6_duration: Duration,
}

impl Default for Params {
    fn default() -> Params {
        Params {
            payload: 100,
            w1_warmup: 2_000,
            w1_calls: 20_000,
            w2_callers: 64,
            w2_warmup: Duration::from_secs(1),
            w2_duration: Duration::from_secs(5),
            w3_small_count: 200_000,
            w3_large_count: 2_000,
            w4_warmup: 1_000,
            w4_rounds: 20_000,
            w5_connections: 1_000,
            w6_connections: 10,
            w6_per_connection: 100,
            w6_duration: Duration::from_secs(5),
        }
    }
}

impl Params {
    /// About a tenth of the work: enough to see that everything runs.
    pub fn quick() -> Params {
        Params {
            w1_warmup: 200,
            w1_calls: 2_000,
            w2_warmup: Duration::from_millis(200),
            w2_duration: Duration::from_secs(1),
            w3_small_count: 20_000,
            w3_large_count: 200,
            w4_warmup: 100,
            w4_rounds: 2_000,
            w5_connections: 100,
            w6_duration: Duration::from_secs(1),
            ..Params::default()
        }
    }
}

/// A workload's figures, by name (`p50_us`, `calls_per_s`, ...), in print order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Figures(pub Vec<(String, f64)>);

impl Figures {
    /// Appends `key=value`.
    pub fn push(&mut self, key: &str, value: f64) {
        self.0.push((key.to_owned(), value));
    }

    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<f64> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| *v)
    }

    /// Parses what [`Display`](fmt::Display) printed: `result w1 p50_us=71.2 ...`.
    pub fn parse_line(line: &str) -> Option<(Workload, Figures)> {
        let mut words = line.split_whitespace();
        if words.next()? != "result" {
            return None;
        }
        let workload = words.next()?.parse().ok()?;
        let mut figures = Figures::default();
        for word in words {
            let (k, v) = word.split_once('=')?;
            figures.push(k, v.parse().ok()?);
        }
        Some((workload, figures))
    }
}

impl fmt::Display for Figures {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (k, v)) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            write!(f, "{k}={v:.3}")?;
        }
        Ok(())
    }
}

fn payload(len: usize) -> Payload {
    Payload { data: Bytes::from(vec![0xab; len]) }
}

fn check_echo(sent: &Payload, got: &Payload) -> Result<(), BoxError> {
    if got.data.len() != sent.data.len() {
        return Err(
            format!("echo of {} bytes came back as {}", sent.data.len(), got.data.len()).into()
        );
    }
    Ok(())
}

/// Runs `workload` on `client` and returns its figures.
pub async fn run<C: Client>(
    client: C,
    workload: Workload,
    params: &Params,
) -> Result<Figures, BoxError> {
    match workload {
        Workload::W1 | Workload::W7Unary => w1(client, params).await,
        Workload::W2 => w2(client, params).await,
        Workload::W3Small | Workload::W7Stream => w3(client, params.w3_small_count, 1024).await,
        Workload::W3Large => w3(client, params.w3_large_count, 64 * 1024).await,
        Workload::W4 => w4(client, params).await,
        Workload::W5 | Workload::W6 => Err(format!("{workload} needs the stack: many::run").into()),
    }
}

async fn w1<C: Client>(client: C, params: &Params) -> Result<Figures, BoxError> {
    let request = payload(params.payload);
    for _ in 0..params.w1_warmup {
        let reply = client.unary(request.clone()).await?;
        check_echo(&request, &reply)?;
    }
    let mut latencies = Vec::with_capacity(params.w1_calls as usize);
    for _ in 0..params.w1_calls {
        let start = Instant::now();
        let reply = client.unary(request.clone()).await?;
        latencies.push(start.elapsed());
        check_echo(&request, &reply)?;
    }
    latencies.sort_unstable();
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    let n = latencies.len();
    let mut figures = Figures::default();
    figures.push("p50_us", us(latencies[n / 2]));
    figures.push("p99_us", us(latencies[(n * 99 / 100).min(n - 1)]));
    figures.push("mean_us", us(latencies.iter().sum::<Duration>()) / n as f64);
    Ok(figures)
}

async fn w2<C: Client>(client: C, params: &Params) -> Result<Figures, BoxError> {
    let done = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let mut callers = Vec::new();
    for _ in 0..params.w2_callers {
        let (client, done, stop) = (client.clone(), done.clone(), stop.clone());
        let request = payload(params.payload);
        callers.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let reply = client.unary(request.clone()).await?;
                check_echo(&request, &reply)?;
                done.fetch_add(1, Ordering::Relaxed);
            }
            Ok::<(), BoxError>(())
        }));
    }
    tokio::time::sleep(params.w2_warmup).await;
    let (before, start) = (done.load(Ordering::Relaxed), Instant::now());
    tokio::time::sleep(params.w2_duration).await;
    let (after, elapsed) = (done.load(Ordering::Relaxed), start.elapsed());
    stop.store(true, Ordering::Relaxed);
    for caller in callers {
        caller.await??;
    }
    let mut figures = Figures::default();
    figures.push("calls_per_s", (after - before) as f64 / elapsed.as_secs_f64());
    Ok(figures)
}

async fn w3<C: Client>(client: C, count: u32, size: u32) -> Result<Figures, BoxError> {
    let start = Instant::now();
    let stats = client.server_stream(StreamReq { count, size }).await?;
    let secs = start.elapsed().as_secs_f64();
    let expected =
        StreamStats { messages: u64::from(count), bytes: u64::from(count) * u64::from(size) };
    if stats != expected {
        return Err(format!("stream delivered {stats:?}, expected {expected:?}").into());
    }
    let mut figures = Figures::default();
    figures.push("msg_per_s", stats.messages as f64 / secs);
    figures.push("mib_per_s", stats.bytes as f64 / secs / (1024.0 * 1024.0));
    Ok(figures)
}

use crate::StreamStats;

async fn w4<C: Client>(client: C, params: &Params) -> Result<Figures, BoxError> {
    let elapsed =
        client.ping_pong(payload(params.payload), params.w4_warmup, params.w4_rounds).await?;
    let mut figures = Figures::default();
    figures.push("rt_per_s", f64::from(params.w4_rounds) / elapsed.as_secs_f64());
    Ok(figures)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_result_line_parses_back() {
        let mut figures = Figures::default();
        figures.push("p50_us", 71.25);
        figures.push("p99_us", 120.5);
        let line = format!("result {} {figures}", Workload::W1);
        assert_eq!(Figures::parse_line(&line), Some((Workload::W1, figures)));
    }

    #[test]
    fn workload_names_round_trip() {
        for w in Workload::ALL {
            assert_eq!(w.name().parse::<Workload>(), Ok(w));
        }
        assert!("w8".parse::<Workload>().is_err());
    }
}
