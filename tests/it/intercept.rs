//! Interceptors over a real Unix socket: the server's see each call's context before the
//! handler and may refuse it or add response metadata; the client's add metadata to every call.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use h2grpc::{CallContext, CallOptions, Channel, Code, Service, Status};

use crate::raw;
use crate::support::*;

const SERVICE: &str = "test.Intercept";

fn path(method: &str) -> String {
    format!("/{SERVICE}/{method}")
}

/// A service whose handlers count their calls and echo the request's `authorization`.
fn service(calls: &Arc<AtomicUsize>) -> Service {
    let (echo, admin) = (calls.clone(), calls.clone());
    Service::new(SERVICE)
        .unary("Echo", move |ctx: CallContext, req: Payload| {
            echo.fetch_add(1, Ordering::SeqCst);
            async move {
                if let Some(token) = ctx.metadata().get("authorization") {
                    ctx.set_trailer("x-token-seen", token)?;
                }
                Ok::<_, Status>(req)
            }
        })
        .unary("Admin", move |_ctx, req: Payload| {
            admin.fetch_add(1, Ordering::SeqCst);
            async move { Ok::<_, Status>(req) }
        })
}

fn current_uid() -> u32 {
    // This very process is the peer of its own Unix socket connections.
    std::fs::metadata("/proc/self").map(|m| std::os::unix::fs::MetadataExt::uid(&m)).unwrap()
}

async fn echo(
    channel: &Channel,
    options: CallOptions,
) -> Result<h2grpc::client::Response<Payload>, Status> {
    channel.unary(&path("Echo"), &payload(10), options).await
}

#[tokio::test]
async fn a_uid_check_lets_the_right_user_in_and_refuses_any_other() {
    let me = current_uid();
    let calls = Arc::new(AtomicUsize::new(0));
    let allowed = spawn_with(Transport::Unix, vec![service(&calls)], move |b| {
        b.intercept(move |ctx| match ctx.peer().uid() {
            Some(uid) if uid == me => Ok(()),
            other => Err(Status::permission_denied(format!("uid {other:?} may not call"))),
        });
    });
    let reply = echo(&allowed.channel().await, CallOptions::new()).await;
    assert_eq!(reply.expect("our own uid is let in").into_inner(), payload(10));
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    allowed.stop().await;

    let other = me.wrapping_add(1);
    let refused = spawn_with(Transport::Unix, vec![service(&calls)], move |b| {
        b.intercept(move |ctx| match ctx.peer().uid() {
            Some(uid) if uid == other => Ok(()),
            _ => Err(Status::permission_denied(format!("only uid {other} may call"))),
        });
    });
    let status = echo(&refused.channel().await, CallOptions::new()).await.unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
    assert_eq!(status.message(), format!("only uid {other} may call"));
    assert_eq!(calls.load(Ordering::SeqCst), 1, "the handler never ran");
    refused.stop().await;
}

#[tokio::test]
async fn a_refusal_is_trailers_only_and_the_server_keeps_serving() {
    let calls = Arc::new(AtomicUsize::new(0));
    let server = spawn_with(Transport::Unix, vec![service(&calls)], |b| {
        b.intercept(|_ctx| Err(Status::unavailable("maintenance")));
    });
    let mut h2 = raw::connect(&server).await;
    let reply =
        raw::call(&mut h2, raw::request(&path("Echo")).body(()).unwrap(), raw::frame(&payload(3)))
            .await;
    assert!(reply.trailers_only, "{reply:?}");
    assert_eq!(reply.grpc_status(), Some("14"));
    assert_eq!(reply.status().message(), "maintenance");
    // A second call on the same connection is refused the same way: nothing is left behind.
    let again =
        raw::call(&mut h2, raw::request(&path("Echo")).body(()).unwrap(), raw::frame(&payload(3)))
            .await;
    assert_eq!(again.grpc_status(), Some("14"));
    assert_eq!(calls.load(Ordering::SeqCst), 0);
    assert_eq!(server.shutdown.live_calls(), 0);
    server.stop().await;
}

#[tokio::test]
async fn a_path_check_guards_one_method() {
    let calls = Arc::new(AtomicUsize::new(0));
    let server = spawn_with(Transport::Unix, vec![service(&calls)], |b| {
        b.intercept(|ctx| match ctx.method() {
            "/test.Intercept/Admin" => Err(Status::permission_denied("no admin calls here")),
            _ => Ok(()),
        });
    });
    let channel = server.channel().await;
    echo(&channel, CallOptions::new()).await.expect("Echo is open");
    let admin = channel.unary::<_, Payload>(&path("Admin"), &payload(1), CallOptions::new()).await;
    assert_eq!(admin.unwrap_err().code(), Code::PermissionDenied);
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    server.stop().await;
}

/// The server side of token auth: `authorization: Bearer good`, or UNAUTHENTICATED.
fn require_token(ctx: &CallContext) -> Result<(), Status> {
    match ctx.metadata().get("authorization") {
        Some("Bearer good") => Ok(()),
        Some(_) => Err(Status::unauthenticated("bad token")),
        None => Err(Status::unauthenticated("no token")),
    }
}

#[tokio::test]
async fn a_client_interceptor_adds_the_token_a_server_interceptor_checks() {
    let calls = Arc::new(AtomicUsize::new(0));
    let server = spawn_with(Transport::Unix, vec![service(&calls)], |b| {
        b.intercept(require_token);
    });
    let bare = server.channel().await;
    assert_eq!(echo(&bare, CallOptions::new()).await.unwrap_err().message(), "no token");
    let wrong = CallOptions::new().header("authorization", "Bearer bad").unwrap();
    assert_eq!(echo(&bare, wrong).await.unwrap_err().code(), Code::Unauthenticated);

    let mut builder = Channel::builder(&server.target).unwrap();
    builder.intercept(|_path, options| {
        options.metadata_mut().insert("authorization", "Bearer good")?;
        Ok(())
    });
    let authed = builder.connect().await.unwrap();
    let response = echo(&authed, CallOptions::new()).await.expect("the token gets it in");
    assert_eq!(response.trailers().get("x-token-seen"), Some("Bearer good"));
    server.stop().await;
}

#[tokio::test]
async fn an_interceptor_adds_response_metadata_to_answers_and_refusals() {
    let calls = Arc::new(AtomicUsize::new(0));
    let server = spawn_with(Transport::Unix, vec![service(&calls)], |b| {
        b.intercept(|ctx| ctx.set_header("x-served-by", "interceptor"));
        b.intercept(|ctx| ctx.set_trailer("x-audit", "seen"));
        b.intercept(|ctx| match ctx.metadata().get("x-refuse") {
            Some(_) => Err(Status::failed_precondition("refused on request")),
            None => Ok(()),
        });
    });
    let channel = server.channel().await;
    let response = echo(&channel, CallOptions::new()).await.unwrap();
    assert_eq!(response.headers().get("x-served-by"), Some("interceptor"));
    assert_eq!(response.trailers().get("x-audit"), Some("seen"));

    let refuse = CallOptions::new().header("x-refuse", "1").unwrap();
    let status = echo(&channel, refuse).await.unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition);
    // Trailers-Only: headers and trailers arrive in one block, which the status carries.
    assert_eq!(status.metadata().get("x-served-by"), Some("interceptor"));
    assert_eq!(status.metadata().get("x-audit"), Some("seen"));
    server.stop().await;
}

#[tokio::test]
async fn interceptors_run_in_order_server_first_and_stop_at_the_first_refusal() {
    let log = Arc::new(Mutex::new(Vec::new()));
    let calls = Arc::new(AtomicUsize::new(0));
    let entry = |name: &'static str, refuse: bool| {
        let log = log.clone();
        move |ctx: &CallContext| {
            log.lock().unwrap().push(name);
            match refuse && ctx.metadata().get("x-stop").is_some() {
                true => Err(Status::aborted(name)),
                false => Ok(()),
            }
        }
    };
    let svc =
        service(&calls).intercept(entry("service-1", false)).intercept(entry("service-2", true));
    let server = spawn_with(Transport::Unix, vec![svc], |b| {
        b.intercept(entry("server-1", false));
        b.intercept(entry("server-2", false));
    });
    let channel = server.channel().await;
    echo(&channel, CallOptions::new()).await.unwrap();
    assert_eq!(*log.lock().unwrap(), ["server-1", "server-2", "service-1", "service-2"]);

    log.lock().unwrap().clear();
    let stop = CallOptions::new().header("x-stop", "1").unwrap();
    let status = echo(&channel, stop).await.unwrap_err();
    assert_eq!((status.code(), status.message()), (Code::Aborted, "service-2"));
    assert_eq!(calls.load(Ordering::SeqCst), 1, "the refused call's handler never ran");

    // A server-wide refusal stops before the service's interceptors.
    let first = Arc::new(Mutex::new(Vec::new()));
    let seen = first.clone();
    let svc = service(&calls).intercept(move |_ctx| {
        seen.lock().unwrap().push("service");
        Ok(())
    });
    let strict = spawn_with(Transport::Unix, vec![svc], |b| {
        b.intercept(|_ctx| Err(Status::permission_denied("server says no")));
    });
    let status = echo(&strict.channel().await, CallOptions::new()).await.unwrap_err();
    assert_eq!(status.message(), "server says no");
    assert!(first.lock().unwrap().is_empty());
    strict.stop().await;
    server.stop().await;
}

#[tokio::test]
async fn an_interceptor_sees_the_deadline_and_the_authority() {
    let seen = Arc::new(Mutex::new(None));
    let store = seen.clone();
    let calls = Arc::new(AtomicUsize::new(0));
    let server = spawn_with(Transport::Unix, vec![service(&calls)], move |b| {
        b.intercept(move |ctx| {
            *store.lock().unwrap() =
                Some((ctx.time_remaining(), ctx.authority().map(String::from)));
            Ok(())
        });
    });
    let options = CallOptions::new().timeout(Duration::from_secs(30));
    echo(&server.channel().await, options).await.unwrap();
    let (remaining, authority) = seen.lock().unwrap().take().expect("the interceptor ran");
    let remaining = remaining.expect("a deadline");
    assert!(remaining > Duration::from_secs(20) && remaining <= Duration::from_secs(30));
    assert_eq!(authority.as_deref(), Some("localhost"));
    server.stop().await;
}

#[tokio::test]
async fn a_panicking_interceptor_fails_only_its_call() {
    let calls = Arc::new(AtomicUsize::new(0));
    let server = spawn_with(Transport::Unix, vec![service(&calls)], |b| {
        b.intercept(|ctx| {
            if ctx.metadata().get("x-panic").is_some() {
                panic!("interceptor bug");
            }
            Ok(())
        });
    });
    let channel = server.channel().await;
    let boom = CallOptions::new().header("x-panic", "1").unwrap();
    let status = echo(&channel, boom).await.unwrap_err();
    assert_eq!(status.code(), Code::Internal, "{status:?}");
    echo(&channel, CallOptions::new()).await.expect("the next call is served");
    server.stop().await;
}

#[tokio::test]
async fn a_client_interceptor_may_refuse_a_call_before_anything_is_sent() {
    let calls = Arc::new(AtomicUsize::new(0));
    let server = spawn_unix(vec![service(&calls)]);
    let ran = Arc::new(Mutex::new(Vec::new()));
    let mut builder = Channel::builder(&server.target).unwrap();
    let log = ran.clone();
    builder.intercept(move |path, options| {
        log.lock().unwrap().push(path.to_owned());
        if options.get_deadline().is_none() {
            *options = std::mem::take(options).timeout(Duration::from_secs(5));
        }
        Ok(())
    });
    builder.intercept(|path, _options| match path.ends_with("/Admin") {
        true => Err(Status::permission_denied("this client does not call Admin")),
        false => Ok(()),
    });
    let channel = builder.connect().await.unwrap();
    echo(&channel, CallOptions::new()).await.unwrap();
    let admin = channel.unary::<_, Payload>(&path("Admin"), &payload(1), CallOptions::new()).await;
    assert_eq!(admin.unwrap_err().message(), "this client does not call Admin");
    assert_eq!(calls.load(Ordering::SeqCst), 1, "the refused call never reached the server");
    assert_eq!(*ran.lock().unwrap(), [path("Echo"), path("Admin")]);

    // Every call kind goes through the interceptors.
    let admin = path("Admin");
    let refused = channel.bidi_streaming::<Payload, Payload>(&admin, CallOptions::new()).await;
    assert_eq!(refused.unwrap_err().code(), Code::PermissionDenied);
    let refused = channel.client_streaming::<Payload, Payload>(&admin, CallOptions::new()).await;
    assert_eq!(refused.unwrap_err().code(), Code::PermissionDenied);
    let refused =
        channel.server_streaming::<_, Payload>(&admin, &payload(1), CallOptions::new()).await;
    assert_eq!(refused.unwrap_err().code(), Code::PermissionDenied);
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    server.stop().await;
}
