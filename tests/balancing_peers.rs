//! Interop for issue 17: round_robin between h2grpc and Python's `grpcio` (C-core), both ways,
//! over three backends on 127.0.0.1 named by an `ipv4:` target. After every backend has
//! answered once, 300 calls land 100 on each (our client), or 100 ± 10 (grpcio's, counted by
//! the client from the answers).
//!
//! The Python venv is the one `tests/reflection_python.rs` makes. `H2GRPC_SKIP_PYTHON=1`
//! skips these tests.

use std::collections::HashMap;
use std::path::Path;
use std::process::Stdio;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use h2grpc::{CallOptions, Channel, Method, Server, Service, Status};
use tokio::io::{AsyncBufReadExt, BufReader};

mod peer_support;
use peer_support::{python, LIMIT};

const WHO: Method<String, String> = Method::new("/lb.v1.Replica/Who");
const CALLS: usize = 300;

fn script() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/peers/python/balancing_peer.py"))
}

fn skip() -> bool {
    std::env::var_os("H2GRPC_SKIP_PYTHON").is_some()
}

#[tokio::test]
async fn our_round_robin_client_spreads_over_three_grpcio_servers() {
    if skip() {
        return;
    }
    let python = tokio::task::spawn_blocking(python).await.expect("venv setup");
    let mut servers = tokio::process::Command::new(python)
        .arg(script())
        .arg("serve")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn grpcio servers");
    let mut lines = BufReader::new(servers.stdout.take().expect("stdout")).lines();
    let ports = tokio::time::timeout(LIMIT, lines.next_line()).await.expect("servers started");
    let ports = ports.expect("read").expect("a line of ports");
    let ports: Vec<&str> = ports.split(' ').collect();
    assert_eq!(ports.len(), 3, "{ports:?}");
    let list: Vec<String> = ports.iter().map(|p| format!("127.0.0.1:{p}")).collect();
    let channel = Channel::builder(format!("ipv4:{}", list.join(",")))
        .unwrap()
        .round_robin()
        .connect()
        .await
        .expect("connect");
    let who = || async {
        let options = CallOptions::new().timeout(Duration::from_secs(10));
        channel.unary(WHO, String::new(), options).await.expect("call").into_inner()
    };
    let mut seen = HashMap::new();
    for _ in 0..1000 {
        seen.insert(who().await, 0);
        if seen.len() == 3 {
            break;
        }
    }
    assert_eq!(seen.len(), 3, "not every server answered: {seen:?}");
    for _ in 0..CALLS {
        *seen.entry(who().await).or_default() += 1;
    }
    for port in &ports {
        assert_eq!(seen.get(*port), Some(&(CALLS / 3)), "{seen:?}");
    }
    drop(servers.stdin.take());
    let _ = tokio::time::timeout(LIMIT, servers.wait()).await;
}

#[tokio::test]
async fn a_grpcio_round_robin_client_spreads_over_three_h2grpc_servers() {
    if skip() {
        return;
    }
    let mut ports = Vec::new();
    let mut addrs = Vec::new();
    let mut handles = Vec::new();
    for _ in 0..3 {
        // Each server answers its own port, set once it is bound.
        let port = Arc::new(OnceLock::new());
        let answer = port.clone();
        let service = Service::new("lb.v1.Replica").unary("Who", move |_ctx, _: String| {
            let port: String = answer.get().cloned().unwrap_or_default();
            async move { Ok::<_, Status>(port) }
        });
        let server = Server::builder().add_service(service).bind_tcp("127.0.0.1:0").unwrap();
        let addr = server.local_target().expect("bound").to_string();
        let bound = addr.rsplit_once(':').expect("host:port").1.to_owned();
        port.set(bound.clone()).expect("set once");
        ports.push(bound);
        addrs.push(addr);
        handles.push(server.shutdown_handle());
        tokio::spawn(server.serve());
    }
    let python = tokio::task::spawn_blocking(python).await.expect("venv setup");
    let target = format!("ipv4:{}", addrs.join(","));
    let client = tokio::process::Command::new(python)
        .arg(script())
        .args(["client", &target, &CALLS.to_string()])
        .output();
    let output = tokio::time::timeout(LIMIT, client).await.expect("in time").expect("run client");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    let counts: HashMap<&str, usize> = stdout
        .lines()
        .filter_map(|line| line.split_once(' '))
        .map(|(port, n)| (port, n.parse().expect("count")))
        .collect();
    for port in &ports {
        let n = counts.get(port.as_str()).copied().unwrap_or(0);
        assert!(n.abs_diff(CALLS / 3) <= CALLS / 30, "uneven: {counts:?}");
    }
    for handle in handles {
        handle.shutdown();
    }
}
