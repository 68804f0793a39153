//! Bearer tokens checked by an async interceptor, refused with rich error details, refreshed
//! by the client's async interceptor and the call retried once.
//!
//! The server's interceptor awaits a token store (a task answering over a channel, standing
//! for a database) and refuses unknown tokens with UNAUTHENTICATED, adding an `ErrorInfo`
//! (feature `error-details`) that says why. The client's interceptor awaits its token cache;
//! on UNAUTHENTICATED with reason `TOKEN_EXPIRED`, the caller empties the cache and calls
//! again, and the interceptor fetches a fresh token.
//!
//! Run with `cargo run --example auth`.

use std::collections::HashMap;
use std::sync::Arc;

use h2grpc::status::details::ErrorInfo;
use h2grpc::{CallContext, CallOptions, Channel, Code, Server, Status};
use tokio::sync::{mpsc, oneshot, Mutex};

/// The code generated from `proto/helloworld.proto` by `build.rs`.
pub mod helloworld {
    h2grpc::include_proto!("helloworld");
}
use helloworld::greeter_client::GreeterClient;
use helloworld::greeter_server::{self, Greeter};
use helloworld::{HelloReply, HelloRequest};

struct MyGreeter;

impl Greeter for MyGreeter {
    async fn say_hello(&self, ctx: CallContext, req: HelloRequest) -> Result<HelloReply, Status> {
        let user = ctx.metadata().get("x-user").unwrap_or("nobody").to_owned();
        Ok(HelloReply { message: format!("Hello, {}! (signed in as {user})", req.name) })
    }
}

/// A lookup: the token, and where to send the user it belongs to (or why not).
type Lookup = (String, oneshot::Sender<Result<&'static str, &'static str>>);

/// The token store, in a task of its own: "t1" has expired, "t2" is alice's.
fn token_store() -> mpsc::Sender<Lookup> {
    let (tx, mut rx) = mpsc::channel::<Lookup>(16);
    tokio::spawn(async move {
        let tokens = HashMap::from([("t1", Err("TOKEN_EXPIRED")), ("t2", Ok("alice"))]);
        while let Some((token, reply)) = rx.recv().await {
            let _ = reply.send(tokens.get(token.as_str()).copied().unwrap_or(Err("TOKEN_UNKNOWN")));
        }
    });
    tx
}

/// Why a token was refused, as a detail the client can act on.
fn refusal(reason: &str) -> Status {
    let info =
        ErrorInfo { reason: reason.into(), domain: "auth.example".into(), ..Default::default() };
    Status::with_error_details(Code::Unauthenticated, "bearer token refused", [info.into()])
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let socket = dir.path().join("auth.sock");
    let store = token_store();
    let mut builder = Server::builder();
    builder.add_service(greeter_server::service(MyGreeter));
    builder.intercept_async(move |mut ctx| {
        let store = store.clone();
        async move {
            let header = ctx.metadata().get("authorization").unwrap_or_default();
            let token = header.strip_prefix("Bearer ").unwrap_or_default().to_owned();
            let (tx, rx) = oneshot::channel();
            store.send((token, tx)).await.map_err(|_| Status::unavailable("no token store"))?;
            match rx.await.map_err(|_| Status::unavailable("no token store"))? {
                Ok(user) => {
                    println!("server: token accepted for {user}");
                    // For the handler; replaces any x-user the client sent.
                    ctx.metadata_mut().insert("x-user", user)?;
                }
                Err(reason) => {
                    println!("server: token refused ({reason})");
                    return Err(refusal(reason));
                }
            }
            Ok(ctx)
        }
    });
    let server = builder.bind_unix(&socket)?;
    let shutdown = server.shutdown_handle();
    let serving = tokio::spawn(server.serve());

    // The client's token cache: empty until fetched; each fetch hands out the next token.
    let cache: Arc<Mutex<Option<String>>> = Arc::default();
    let issued = Arc::new(Mutex::new(vec!["t2", "t1"]));
    let mut channel = Channel::builder(&socket)?;
    let source = cache.clone();
    channel.intercept_async(move |_path, mut options| {
        let (source, issued) = (source.clone(), issued.clone());
        async move {
            let mut cached = source.lock().await;
            if cached.is_none() {
                let token = issued.lock().await.pop().unwrap_or_default();
                println!("client: fetched token {token}");
                *cached = Some(token.to_owned());
            }
            let token = cached.as_deref().unwrap_or_default();
            options.metadata_mut().insert("authorization", &format!("Bearer {token}"))?;
            Ok(options)
        }
    });
    let client = GreeterClient::new(channel.connect().await?);

    let request = HelloRequest { name: "world".into() };
    let reply = match client.say_hello(&request, CallOptions::new()).await {
        Err(status) if status.code() == Code::Unauthenticated => {
            let reason = status.detail::<ErrorInfo>().map(|info| info.reason).unwrap_or_default();
            println!("client: UNAUTHENTICATED, reason {reason}");
            if reason != "TOKEN_EXPIRED" {
                return Err(status.into());
            }
            *cache.lock().await = None; // refresh, then retry once
            client.say_hello(&request, CallOptions::new()).await?
        }
        other => other?,
    };
    println!("{}", reply.into_inner().message);

    shutdown.shutdown();
    serving.await??;
    Ok(())
}
