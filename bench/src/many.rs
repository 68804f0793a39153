//! The workloads that open many connections, so take the [`Stack`] rather than one [`Client`]:
//!
//! | id   | what                                                                   | reports |
//! |------|------------------------------------------------------------------------|---------|
//! | `w5` | 1,000 connections, one unary call each, then all idle; then all leave   | server RSS per connection (KiB), server RSS with all connected and after they left (MiB) |
//! | `w6` | 10 connections × 100 `Subscribe` calls; the server publishes 100 B messages for 5 s ([`fanout`]) | deliveries/s (all subscribers), publish-to-receipt p50 and p99 (µs) |
//!
//! W5 reads the server's resident set (`VmRSS` of `/proc/<pid>/status`; the orchestrator
//! passes the pid) before the first connection, once every connection made its call and the
//! server settled (500 ms), and 1 s after the client closed them all.

use std::path::Path;
use std::time::Duration;

use crate::fanout::{self, Received};
use crate::workload::{Figures, Params};
use crate::{BoxError, Client, Payload, Stack, SubscribeReq};

/// `VmRSS` of process `pid`, in KiB.
pub fn rss_kib(pid: u32) -> Result<f64, BoxError> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).ok_or("no VmRSS")?;
    Ok(line.split_whitespace().nth(1).ok_or("bad VmRSS")?.parse()?)
}

/// W5: `params.w5_connections` connections, one call each, idle, then gone.
pub async fn w5<S: Stack>(
    socket: &Path,
    params: &Params,
    server_pid: u32,
) -> Result<Figures, BoxError> {
    let n = params.w5_connections;
    let base = rss_kib(server_pid)?;
    let request = Payload { data: vec![0xab; params.payload].into() };
    let mut clients = Vec::with_capacity(n as usize);
    for _ in 0..n {
        let client = S::connect(socket).await?;
        client.unary(request.clone()).await?;
        clients.push(client);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let all = rss_kib(server_pid)?;
    drop(clients);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let after = rss_kib(server_pid)?;
    let mut figures = Figures::default();
    figures.push("kib_per_conn", (all - base) / f64::from(n));
    figures.push("rss_all_mib", all / 1024.0);
    figures.push("rss_after_mib", after / 1024.0);
    Ok(figures)
}

/// W6: `params.w6_connections` × `params.w6_per_connection` subscriptions to one broadcast.
pub async fn w6<S: Stack>(socket: &Path, params: &Params) -> Result<Figures, BoxError> {
    let request = SubscribeReq {
        subscribers: params.w6_connections * params.w6_per_connection,
        size: params.payload as u32,
        millis: params.w6_duration.as_millis() as u32,
    };
    let mut calls = Vec::new();
    for _ in 0..params.w6_connections {
        let client = S::connect(socket).await?;
        for _ in 0..params.w6_per_connection {
            let client = client.clone();
            calls.push(tokio::spawn(async move { client.subscribe(request).await }));
        }
    }
    let mut all: Vec<Received> = Vec::with_capacity(calls.len());
    for call in calls {
        all.push(call.await??);
    }
    let (per_s, p50, p99) = fanout::figures(&all, request.millis)?;
    let mut figures = Figures::default();
    figures.push("deliveries_per_s", per_s);
    figures.push("p50_us", p50);
    figures.push("p99_us", p99);
    Ok(figures)
}
