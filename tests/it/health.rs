//! grpc.health.v1 as health-checking.md specifies it, through the generated health client.

use std::time::Duration;

use h2grpc::health::{
    HealthCheckRequest, HealthClient, HealthListRequest, HealthReporter, ServingStatus,
};
use h2grpc::{CallOptions, Code};

use crate::support::*;

fn request(service: &str) -> HealthCheckRequest {
    HealthCheckRequest { service: service.into() }
}

async fn next_status(
    stream: &mut h2grpc::client::ResponseStream<h2grpc::health::HealthCheckResponse>,
) -> ServingStatus {
    let message = tokio::time::timeout(Duration::from_secs(5), stream.message())
        .await
        .expect("a status within 5 s")
        .expect("the watch is ok")
        .expect("the watch stays open");
    ServingStatus::try_from(message.status).expect("a known status")
}

#[tokio::test]
async fn check_answers_known_services_and_not_found_for_unknown_ones() {
    for transport in TRANSPORTS {
        let health = HealthReporter::new();
        health.set_status("app.Up", ServingStatus::Serving);
        health.set_status("app.Down", ServingStatus::NotServing);
        let server = spawn_with(transport, vec![health.service()], |_| {});
        let client = HealthClient::new(server.channel().await);
        let check = |name: &'static str| {
            let client = client.clone();
            async move {
                client.check(request(name), CallOptions::new()).await.map(|r| r.into_inner().status)
            }
        };
        assert_eq!(
            check("").await.unwrap(),
            ServingStatus::Serving as i32,
            "the server as a whole"
        );
        assert_eq!(check("app.Up").await.unwrap(), ServingStatus::Serving as i32);
        assert_eq!(check("app.Down").await.unwrap(), ServingStatus::NotServing as i32);
        assert_eq!(check("app.Nope").await.unwrap_err().code(), Code::NotFound);
        health.clear("app.Up");
        assert_eq!(check("app.Up").await.unwrap_err().code(), Code::NotFound);
        server.stop().await;
    }
}

#[tokio::test]
async fn watch_sends_the_current_status_then_every_change() {
    let health = HealthReporter::new();
    health.set_status("app.Svc", ServingStatus::Serving);
    let server = spawn_unix(vec![health.service()]);
    let client = HealthClient::new(server.channel().await);
    let mut watch = client.watch(request("app.Svc"), CallOptions::new()).await.unwrap();
    assert_eq!(next_status(&mut watch).await, ServingStatus::Serving);
    health.set_status("app.Svc", ServingStatus::Serving); // not a change: nothing sent
    health.set_status("app.Svc", ServingStatus::NotServing);
    assert_eq!(next_status(&mut watch).await, ServingStatus::NotServing);
    health.set_status("app.Svc", ServingStatus::Serving);
    assert_eq!(next_status(&mut watch).await, ServingStatus::Serving);
    health.clear("app.Svc");
    assert_eq!(next_status(&mut watch).await, ServingStatus::ServiceUnknown);
    server.stop().await;
}

#[tokio::test]
async fn watch_of_an_unknown_service_sends_service_unknown_and_stays_open_until_it_appears() {
    let health = HealthReporter::new();
    let server = spawn_unix(vec![health.service()]);
    let client = HealthClient::new(server.channel().await);
    let mut watch = client.watch(request("app.Later"), CallOptions::new()).await.unwrap();
    assert_eq!(next_status(&mut watch).await, ServingStatus::ServiceUnknown);
    health.set_status("app.Later", ServingStatus::Serving);
    assert_eq!(next_status(&mut watch).await, ServingStatus::Serving);
    server.stop().await;
}

#[tokio::test]
async fn list_returns_every_registered_service() {
    let health = HealthReporter::new();
    health.set_status("a.A", ServingStatus::Serving);
    health.set_status("b.B", ServingStatus::NotServing);
    let server = spawn_unix(vec![health.service()]);
    let client = HealthClient::new(server.channel().await);
    let list = client.list(HealthListRequest {}, CallOptions::new()).await.unwrap().into_inner();
    let mut names: Vec<_> = list.statuses.keys().cloned().collect();
    names.sort();
    assert_eq!(names, ["", "a.A", "b.B"]);
    assert_eq!(list.statuses["b.B"].status, ServingStatus::NotServing as i32);
    server.stop().await;
}

#[tokio::test]
async fn set_all_not_serving_reaches_every_watcher() {
    let health = HealthReporter::new();
    health.set_status("a.A", ServingStatus::Serving);
    let server = spawn_unix(vec![health.service()]);
    let client = HealthClient::new(server.channel().await);
    let mut whole = client.watch(request(""), CallOptions::new()).await.unwrap();
    let mut a = client.watch(request("a.A"), CallOptions::new()).await.unwrap();
    assert_eq!(next_status(&mut whole).await, ServingStatus::Serving);
    assert_eq!(next_status(&mut a).await, ServingStatus::Serving);
    health.set_all_not_serving();
    assert_eq!(next_status(&mut whole).await, ServingStatus::NotServing);
    assert_eq!(next_status(&mut a).await, ServingStatus::NotServing);
    server.stop().await;
}
