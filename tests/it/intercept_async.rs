//! Async interceptors over a real Unix socket: a server one awaits a token lookup (a task
//! answering over a channel, as a database or an auth service would) before the handler; a
//! client one awaits a token fetch, and picks up a refreshed token when the caller retries
//! after UNAUTHENTICATED.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use h2grpc::{CallContext, CallOptions, Channel, Code, Method, Service, Status};
use tokio::sync::{mpsc, oneshot, Mutex};

use crate::support::*;

const ECHO: Method<Payload, Payload> = Method::new("/test.Auth/Echo");

/// A service counting its calls and answering with the user the interceptor found.
fn service(calls: &Arc<AtomicUsize>) -> Service {
    let calls = calls.clone();
    Service::new(ECHO.service()).unary(ECHO.name(), move |ctx: CallContext, req: Payload| {
        calls.fetch_add(1, Ordering::SeqCst);
        async move {
            ctx.set_trailer("x-handled-by", "echo")?;
            Ok::<_, Status>(req)
        }
    })
}

type Lookup = (String, oneshot::Sender<Option<&'static str>>);

/// A token store in its own task: each lookup is a round trip the interceptor awaits.
fn token_store() -> mpsc::Sender<Lookup> {
    let (tx, mut rx) = mpsc::channel::<Lookup>(8);
    tokio::spawn(async move {
        while let Some((token, reply)) = rx.recv().await {
            let _ = reply.send((token == "Bearer fresh").then_some("alice"));
        }
    });
    tx
}

/// The server interceptor under test: look the token up, refuse UNAUTHENTICATED if unknown.
fn authenticate(
    store: mpsc::Sender<Lookup>,
) -> impl Fn(
    CallContext,
) -> std::pin::Pin<
    Box<dyn std::future::Future<Output = Result<CallContext, Status>> + Send>,
> + Send
       + Sync
       + 'static {
    move |ctx: CallContext| {
        let store = store.clone();
        Box::pin(async move {
            let token = ctx.metadata().get("authorization").unwrap_or_default().to_owned();
            let (tx, rx) = oneshot::channel();
            store.send((token, tx)).await.map_err(|_| Status::unavailable("store gone"))?;
            match rx.await.map_err(|_| Status::unavailable("store gone"))? {
                Some(user) => ctx.set_header("x-user", user)?,
                None => return Err(Status::unauthenticated("unknown or expired token")),
            }
            Ok(ctx)
        })
    }
}

#[tokio::test]
async fn a_server_interceptor_awaits_a_lookup_and_refuses_unknown_tokens() {
    let calls = Arc::new(AtomicUsize::new(0));
    let store = token_store();
    let server = spawn_with(Transport::Unix, vec![service(&calls)], |b| {
        b.intercept_async(authenticate(store));
    });
    let channel = server.channel().await;

    let status = channel.unary(ECHO, payload(1), CallOptions::new()).await.unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);
    assert_eq!(status.message(), "unknown or expired token");
    let mut options = CallOptions::new();
    options.metadata_mut().insert("authorization", "Bearer stale").unwrap();
    let status = channel.unary(ECHO, payload(1), options).await.unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);
    assert_eq!(calls.load(Ordering::SeqCst), 0, "the handler never ran");

    let mut options = CallOptions::new();
    options.metadata_mut().insert("authorization", "Bearer fresh").unwrap();
    let reply = channel.unary(ECHO, payload(3), options).await.unwrap();
    // The header the interceptor set after its await goes out with the response.
    assert_eq!(reply.headers().get("x-user"), Some("alice"));
    assert_eq!(reply.trailers().get("x-handled-by"), Some("echo"));
    assert_eq!(reply.into_inner().data.len(), 3);
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    server.stop().await;
}

#[tokio::test]
async fn what_an_async_interceptor_puts_in_the_request_metadata_reaches_the_handler() {
    let service = Service::new("test.Who").unary("Am", |ctx: CallContext, _req: ()| async move {
        let users: Vec<String> = ctx.metadata().get_all("x-user").map(str::to_owned).collect();
        Ok::<_, Status>(Payload { data: users.join(",").into() })
    });
    let server = spawn_with(Transport::Unix, vec![service], |b| {
        b.intercept_async(|mut ctx| async move {
            tokio::task::yield_now().await; // the lookup
            ctx.metadata_mut().insert("x-user", "alice")?;
            Ok(ctx)
        });
    });
    let who: Method<(), Payload> = Method::new("/test.Who/Am");
    let mut options = CallOptions::new();
    options.metadata_mut().insert("x-user", "mallory").unwrap(); // a forgery, replaced
    let reply = server.channel().await.unary(who, (), options).await.unwrap().into_inner();
    assert_eq!(reply.data, "alice");
    server.stop().await;
}

#[tokio::test]
async fn an_async_refusal_is_trailers_only_with_the_metadata_set_before_it() {
    let calls = Arc::new(AtomicUsize::new(0));
    let server = spawn_with(Transport::Unix, vec![service(&calls)], |b| {
        b.intercept_async(|ctx| async move {
            tokio::task::yield_now().await;
            ctx.set_header("x-checked-by", "auth")?;
            ctx.set_trailer("x-audit", "refused")?;
            Err::<CallContext, _>(Status::unauthenticated("no"))
        });
    });
    let mut send = crate::raw::connect(&server).await;
    let request = crate::raw::request(ECHO.path()).body(()).unwrap();
    let reply = crate::raw::call(&mut send, request, crate::raw::frame(&payload(1))).await;
    assert!(reply.trailers_only, "{reply:?}");
    assert_eq!(reply.grpc_status(), Some("16"));
    assert_eq!(reply.headers["x-checked-by"], "auth");
    assert_eq!(reply.headers["x-audit"], "refused");
    assert_eq!(calls.load(Ordering::SeqCst), 0);
    server.stop().await;
}

#[tokio::test]
async fn plain_and_async_interceptors_of_server_and_service_run_in_order() {
    let order = Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = |name: &'static str| {
        let order = order.clone();
        move || order.lock().unwrap().push(name)
    };
    let (a, b, c, d) =
        (log("server plain"), log("server async"), log("service async"), log("service plain"));
    let calls = Arc::new(AtomicUsize::new(0));
    let svc = service(&calls)
        .intercept_async(move |ctx| {
            c();
            async move {
                tokio::task::yield_now().await;
                Ok(ctx)
            }
        })
        .intercept(move |_ctx| {
            d();
            Err(Status::permission_denied("the last one says no"))
        });
    let server = spawn_with(Transport::Unix, vec![svc], |builder| {
        builder.intercept(move |_ctx| {
            a();
            Ok(())
        });
        builder.intercept_async(move |ctx| {
            b();
            async move { Ok(ctx) }
        });
    });
    let status = server.channel().await.unary(ECHO, payload(1), CallOptions::new()).await;
    assert_eq!(status.unwrap_err().code(), Code::PermissionDenied);
    let order = order.lock().unwrap().clone();
    assert_eq!(order, ["server plain", "server async", "service async", "service plain"]);
    assert_eq!(calls.load(Ordering::SeqCst), 0);
    server.stop().await;
}

#[tokio::test]
async fn an_async_interceptor_that_never_answers_is_bounded_by_the_deadline() {
    let calls = Arc::new(AtomicUsize::new(0));
    let server = spawn_with(Transport::Unix, vec![service(&calls)], |b| {
        b.intercept_async(|ctx| async move {
            std::future::pending::<()>().await;
            Ok(ctx)
        });
    });
    let options = CallOptions::new().timeout(Duration::from_millis(100));
    let status = server.channel().await.unary(ECHO, payload(1), options).await.unwrap_err();
    assert_eq!(status.code(), Code::DeadlineExceeded);
    assert_eq!(calls.load(Ordering::SeqCst), 0);
    server.stop().await;
}

/// A client-side token cache: empty until fetched; a fetch is an await (here on the token
/// store's task, standing for an OAuth endpoint) that hands out "stale" first, then "fresh".
#[derive(Clone, Default)]
struct TokenSource {
    cached: Arc<Mutex<Option<String>>>,
    fetches: Arc<AtomicUsize>,
}

impl TokenSource {
    async fn token(&self) -> String {
        let mut cached = self.cached.lock().await;
        if cached.is_none() {
            let n = self.fetches.fetch_add(1, Ordering::SeqCst);
            let (tx, rx) = oneshot::channel();
            tokio::spawn(async move {
                let _ = tx.send(if n == 0 { "stale" } else { "fresh" });
            });
            *cached = Some(rx.await.unwrap().to_owned());
        }
        cached.clone().unwrap()
    }

    async fn invalidate(&self) {
        *self.cached.lock().await = None;
    }
}

#[tokio::test]
async fn a_client_interceptor_refreshes_its_token_after_unauthenticated_and_the_retry_succeeds() {
    let calls = Arc::new(AtomicUsize::new(0));
    let store = token_store();
    let server = spawn_with(Transport::Unix, vec![service(&calls)], |b| {
        b.intercept_async(authenticate(store));
    });
    let tokens = TokenSource::default();
    let mut builder = Channel::builder(&server.path).unwrap();
    let source = tokens.clone();
    builder.intercept_async(move |_path, mut options| {
        let source = source.clone();
        async move {
            let token = source.token().await;
            options.metadata_mut().insert("authorization", &format!("Bearer {token}"))?;
            Ok(options)
        }
    });
    let channel = builder.connect().await.unwrap();

    // The caller's policy: on UNAUTHENTICATED, refresh the token and retry once.
    let mut attempts = 0;
    let reply = loop {
        attempts += 1;
        match channel.unary(ECHO, payload(2), CallOptions::new()).await {
            Err(status) if status.code() == Code::Unauthenticated && attempts == 1 => {
                tokens.invalidate().await;
            }
            other => break other,
        }
    };
    let reply = reply.unwrap();
    assert_eq!(reply.headers().get("x-user"), Some("alice"));
    assert_eq!(attempts, 2);
    assert_eq!(tokens.fetches.load(Ordering::SeqCst), 2, "one fetch, one refresh");
    assert_eq!(calls.load(Ordering::SeqCst), 1);

    // The refreshed token is cached: the next call neither fetches nor fails.
    channel.unary(ECHO, payload(1), CallOptions::new()).await.unwrap();
    assert_eq!(tokens.fetches.load(Ordering::SeqCst), 2);
    server.stop().await;
}

#[tokio::test]
async fn a_client_async_interceptor_may_refuse_before_anything_is_sent() {
    let calls = Arc::new(AtomicUsize::new(0));
    let server = spawn_unix(vec![service(&calls)]);
    let mut builder = Channel::builder(&server.path).unwrap();
    builder.intercept_async(|path, options| {
        let allowed = path != ECHO.path();
        async move {
            tokio::task::yield_now().await;
            if allowed {
                Ok(options)
            } else {
                Err(Status::failed_precondition("no token for this method"))
            }
        }
    });
    let status = builder.connect().await.unwrap().unary(ECHO, payload(1), CallOptions::new()).await;
    assert_eq!(status.unwrap_err().code(), Code::FailedPrecondition);
    assert_eq!(calls.load(Ordering::SeqCst), 0);
    server.stop().await;
}
