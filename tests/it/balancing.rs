//! Many backends: round_robin and pick_first over real servers on 127.0.0.1, graceful and
//! abrupt loss of a replica, DNS resolution of `localhost`, and the connectivity state.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use h2grpc::client::{ChannelBuilder, ConnectivityState, Resolution, Resolver, RetryPolicy};
use h2grpc::server::ShutdownHandle;
use h2grpc::transport::Address;
use h2grpc::{CallOptions, Channel, Code, Method, Server, Service, Status};

const WHO: Method<String, String> = Method::new("/lb.v1.Replica/Who");

/// A server in a runtime of its own, so that it can be killed abruptly: dropping the runtime
/// drops its listener and every connection at once, as a crashed process would.
pub(crate) struct Replica {
    pub(crate) addr: SocketAddr,
    pub(crate) hits: Arc<AtomicUsize>,
    /// The client ends of the connections calls came on.
    pub(crate) peers: Arc<Mutex<HashSet<String>>>,
    shutdown: ShutdownHandle,
    runtime: Option<tokio::runtime::Runtime>,
    task: Option<tokio::task::JoinHandle<Result<(), h2grpc::Error>>>,
}

impl Replica {
    pub(crate) fn start(addr: SocketAddr) -> Replica {
        let hits = Arc::new(AtomicUsize::new(0));
        let (counter, peers) = (hits.clone(), Arc::new(Mutex::new(HashSet::new())));
        let seen = peers.clone();
        let service = Service::new("lb.v1.Replica").unary("Who", move |ctx, _: String| {
            counter.fetch_add(1, Ordering::SeqCst);
            seen.lock().unwrap().insert(format!("{:?}", ctx.peer()));
            let me = ctx.metadata().get("x-replica").unwrap_or_default().to_owned();
            async move { Ok::<_, Status>(me) }
        });
        let server = Server::builder().add_service(service).bind_tcp(addr).expect("bind replica");
        let addr = match server.local_target() {
            Some(h2grpc::Target::Tcp { host, port }) => {
                SocketAddr::new(host.parse().expect("ip"), port)
            }
            other => panic!("not tcp: {other:?}"),
        };
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let shutdown = server.shutdown_handle();
        let task = runtime.spawn(server.serve());
        Replica { addr, hits, peers, shutdown, runtime: Some(runtime), task: Some(task) }
    }

    pub(crate) fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }

    /// Graceful: GOAWAY, in-flight calls finish, the listener closes.
    pub(crate) async fn stop(mut self) {
        self.shutdown.shutdown();
        if let Some(task) = self.task.take() {
            task.await.expect("server task").expect("serve");
        }
    }

    /// Abrupt: listener and connections dropped, nothing sent.
    pub(crate) fn kill(mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

pub(crate) fn ipv4_target(replicas: &[&Replica]) -> String {
    let list: Vec<String> = replicas.iter().map(|r| r.addr.to_string()).collect();
    format!("ipv4:{}", list.join(","))
}

fn local() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

/// A builder whose reconnection backoff is short, so a restarted replica rejoins quickly.
fn builder(target: &str) -> ChannelBuilder {
    let mut builder = Channel::builder(target).expect("target");
    builder.backoff_initial(Duration::from_millis(20)).backoff_max(Duration::from_millis(100));
    builder
}

async fn call(channel: &Channel) -> Result<String, Status> {
    let options = CallOptions::new().timeout(Duration::from_secs(10));
    Ok(channel.unary(WHO, String::new(), options).await?.into_inner())
}

/// Calls until every replica has answered once: all subchannels are READY.
async fn warm_up(channel: &Channel, replicas: &[&Replica]) {
    let until = Instant::now() + Duration::from_secs(10);
    while replicas.iter().any(|r| r.hits() == 0) {
        assert!(Instant::now() < until, "not every replica joined the rotation");
        call(channel).await.expect("warm-up call");
    }
    for r in replicas {
        r.hits.store(0, Ordering::SeqCst);
    }
}

#[tokio::test]
async fn round_robin_spreads_calls_evenly_and_survives_a_graceful_stop() {
    let (a, b, c) = (Replica::start(local()), Replica::start(local()), Replica::start(local()));
    let channel = builder(&ipv4_target(&[&a, &b, &c])).round_robin().connect().await.unwrap();
    assert_eq!(channel.state(), ConnectivityState::Ready);
    warm_up(&channel, &[&a, &b, &c]).await;
    for _ in 0..3000 {
        call(&channel).await.expect("call");
    }
    for r in [&a, &b, &c] {
        assert!((990..=1010).contains(&r.hits()), "{} {} {}", a.hits(), b.hits(), c.hits());
    }

    // Graceful stop of one replica while calls keep coming: none fails.
    let calls = {
        let channel = channel.clone();
        tokio::spawn(async move {
            for i in 0..1500 {
                call(&channel).await.unwrap_or_else(|s| panic!("call {i} failed: {s:?}"));
            }
        })
    };
    while a.hits() + b.hits() + c.hits() < 3000 + 300 {
        tokio::task::yield_now().await;
    }
    let b_hits = b.hits();
    b.stop().await;
    let b_after = b_hits;
    calls.await.expect("no call failed");
    let (a_hits, c_hits) = (a.hits(), c.hits());
    for _ in 0..100 {
        call(&channel).await.expect("call after the stop");
    }
    assert_eq!(a.hits() + c.hits(), a_hits + c_hits + 100, "the rest go to the two others");
    assert!(b_after > 1000, "b served until it stopped");
}

#[tokio::test]
async fn abrupt_kill_with_a_retry_policy_fails_no_call_and_a_restart_rejoins() {
    let (a, b, c) = (Replica::start(local()), Replica::start(local()), Replica::start(local()));
    let policy = RetryPolicy::new(5, &[Code::Unavailable])
        .unwrap()
        .initial_backoff(Duration::from_millis(10))
        .max_backoff(Duration::from_millis(50));
    let channel = builder(&ipv4_target(&[&a, &b, &c]))
        .round_robin()
        .retry_policy(policy)
        .connect()
        .await
        .unwrap();
    warm_up(&channel, &[&a, &b, &c]).await;
    let done = Arc::new(AtomicUsize::new(0));
    let workers: Vec<_> = (0..16)
        .map(|_| {
            let (channel, done) = (channel.clone(), done.clone());
            tokio::spawn(async move {
                for _ in 0..150 {
                    call(&channel).await.expect("no call fails with the retry policy");
                    done.fetch_add(1, Ordering::SeqCst);
                }
            })
        })
        .collect();
    while done.load(Ordering::SeqCst) < 600 {
        tokio::task::yield_now().await;
    }
    let addr = c.addr;
    c.kill();
    for worker in workers {
        worker.await.expect("worker");
    }
    assert_eq!(done.load(Ordering::SeqCst), 16 * 150);

    // Start it again on the same port: it rejoins the rotation.
    let c = Replica::start(addr);
    let until = Instant::now() + Duration::from_secs(10);
    while c.hits() == 0 {
        assert!(Instant::now() < until, "the restarted replica did not rejoin");
        call(&channel).await.expect("call");
    }
}

#[tokio::test]
async fn pick_first_skips_a_dead_first_address_and_stays_on_the_second() {
    let dead = Replica::start(local());
    let dead_addr = dead.addr;
    dead.kill();
    let (second, third) = (Replica::start(local()), Replica::start(local()));
    let target = format!("ipv4:{dead_addr},{},{}", second.addr, third.addr);
    let channel = builder(&target).connect().await.expect("pick_first finds the second");
    for _ in 0..100 {
        call(&channel).await.expect("call");
    }
    assert_eq!((second.hits(), third.hits()), (100, 0));
    assert_eq!(channel.state(), ConnectivityState::Ready);
}

#[tokio::test]
async fn dns_localhost_resolves_to_every_address_the_system_gives() {
    // Bind one replica per address `localhost` has here, all on one port.
    let resolved: Vec<SocketAddr> =
        tokio::net::lookup_host("localhost:0").await.expect("resolve localhost").collect();
    let mut ips: Vec<std::net::IpAddr> = Vec::new();
    for addr in resolved {
        if !ips.contains(&addr.ip()) {
            ips.push(addr.ip());
        }
    }
    let mut replicas = Vec::new();
    'port: for _ in 0..20 {
        replicas.clear();
        let first = Replica::start(SocketAddr::new(ips[0], 0));
        let port = first.addr.port();
        replicas.push(first);
        for ip in &ips[1..] {
            match std::net::TcpListener::bind((*ip, port)) {
                Ok(probe) => drop(probe),
                Err(_) => continue 'port,
            }
            replicas.push(Replica::start(SocketAddr::new(*ip, port)));
        }
        break;
    }
    assert_eq!(replicas.len(), ips.len(), "no common free port for {ips:?}");
    let target = format!("dns:///localhost:{}", replicas[0].addr.port());
    let channel = builder(&target).round_robin().connect().await.expect("connect");
    let refs: Vec<&Replica> = replicas.iter().collect();
    warm_up(&channel, &refs).await;
    for _ in 0..10 * ips.len() {
        call(&channel).await.expect("call");
    }
    for r in &replicas {
        assert_eq!(r.hits(), 10, "{} of {ips:?}", r.addr);
    }
}

#[tokio::test]
async fn state_reports_failure_and_recovery_and_resolution_errors_name_the_target() {
    let dead = Replica::start(local());
    let addr = dead.addr;
    dead.kill();
    let channel = builder(&format!("ipv4:{addr}")).connect_lazy();
    assert_eq!(channel.state(), ConnectivityState::Idle);
    let err = call(&channel).await.expect_err("nothing listens");
    assert_eq!(err.code(), Code::Unavailable, "{err:?}");
    assert!(err.message().contains(&addr.to_string()), "{err:?}");
    assert_eq!(channel.state(), ConnectivityState::TransientFailure);

    // The server comes back: a waiting observer sees READY.
    let back = Replica::start(addr);
    let watcher = {
        let channel = channel.clone();
        tokio::spawn(async move {
            let mut state = channel.state();
            while state != ConnectivityState::Ready {
                state = channel.state_changed(state).await;
            }
        })
    };
    let options = CallOptions::new().wait_for_ready(true).timeout(Duration::from_secs(10));
    channel.unary(WHO, String::new(), options).await.expect("wait_for_ready call");
    watcher.await.expect("saw READY");
    assert_eq!(back.hits(), 1);
    channel.shutdown();
    assert_eq!(channel.state(), ConnectivityState::Shutdown);
    assert_eq!(call(&channel).await.expect_err("shut down").code(), Code::Unavailable);

    let unknown = Channel::lazy("nosuchhost.invalid:50051").unwrap();
    let err = call(&unknown).await.expect_err("no such host");
    assert_eq!(err.code(), Code::Unavailable);
    assert!(err.message().contains("cannot resolve nosuchhost.invalid:50051"), "{err:?}");
}

#[test]
fn bad_targets_fail_at_the_builder_listing_the_accepted_forms() {
    for bad in ["xds:///svc", "ipv4:", "ipv4:127.0.0.1:70000", "ipv6:[::1]:0"] {
        let err = Channel::builder(bad).expect_err(bad);
        assert_eq!(err.kind(), h2grpc::ErrorKind::InvalidTarget);
        assert!(err.to_string().contains("ipv4:addr[:port]"), "{err}");
    }
}

/// A resolver whose answer the test changes.
struct Listed(Arc<Mutex<Vec<SocketAddr>>>);

impl Resolver for Listed {
    fn resolve(&self) -> Resolution<'_> {
        let list = self.0.lock().unwrap().iter().map(|a| Address::Tcp(*a)).collect();
        Box::pin(async move { Ok(list) })
    }
}

#[tokio::test]
async fn re_resolution_adds_and_removes_addresses_keeping_healthy_connections() {
    let (a, b, c) = (Replica::start(local()), Replica::start(local()), Replica::start(local()));
    let list = Arc::new(Mutex::new(vec![a.addr, b.addr]));
    let mut builder = builder("backends:1");
    builder
        .resolver(Listed(list.clone()))
        .round_robin()
        .min_resolve_interval(Duration::from_millis(10))
        .resolve_refresh(Duration::from_millis(10));
    let channel = builder.connect().await.unwrap();
    warm_up(&channel, &[&a, &b]).await;

    *list.lock().unwrap() = vec![a.addr, c.addr];
    let until = Instant::now() + Duration::from_secs(10);
    loop {
        assert!(Instant::now() < until, "the resolver's new list was not picked up");
        let before = b.hits();
        call(&channel).await.expect("call");
        if c.hits() > 0 && b.hits() == before {
            break;
        }
    }
    // b left the rotation for good; a kept its one connection all along.
    let b_hits = b.hits();
    for _ in 0..20 {
        call(&channel).await.expect("call");
    }
    assert_eq!(b.hits(), b_hits);
    assert!(c.hits() >= 10, "{}", c.hits());
    assert_eq!(a.peers.lock().unwrap().len(), 1, "a's connection was not replaced");
}
