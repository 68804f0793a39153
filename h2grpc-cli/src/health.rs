//! `health`: grpc.health.v1 Check, or Watch with `--watch`, with grpc_health_probe's exit
//! codes (0 SERVING, 1 bad arguments, 2 connection failure, 3 RPC failure, 4 not SERVING), so
//! it can be a container's health check.

use h2grpc::health::{HealthCheckRequest, HealthCheckResponse, ServingStatus};
use h2grpc::Code;
use serde_json::json;

use crate::error::CliError;
use crate::output::{Out, Paint};
use crate::source::Session;
use crate::Global;

const CHECK: &str = "/grpc.health.v1.Health/Check";
const WATCH: &str = "/grpc.health.v1.Health/Watch";

pub(crate) async fn run(
    target: &str,
    service: &str,
    watch: bool,
    global: &Global,
    out: &Out,
) -> Result<u8, CliError> {
    let mut session = Session::open(target, global, out).await?;
    let result = check(&mut session, service, watch, out).await;
    session.close(out).await;
    result
}

async fn check(
    session: &mut Session,
    service: &str,
    watch: bool,
    out: &Out,
) -> Result<u8, CliError> {
    let request = HealthCheckRequest { service: service.to_owned() };
    let channel = session.channel().clone();
    let options = session.call_options();
    if !watch {
        let response = channel.unary::<_, HealthCheckResponse>(CHECK, &request, options).await;
        session.drain(out);
        let response = response.map_err(|status| CliError::rpc("health check", status))?;
        return Ok(report(out, service, response.get_ref()));
    }
    let mut stream = channel
        .server_streaming::<_, HealthCheckResponse>(WATCH, &request, options)
        .await
        .map_err(|status| CliError::rpc("health watch", status))?;
    let mut last = None;
    loop {
        let next = stream.message().await;
        session.drain(out);
        match next {
            Ok(Some(response)) => last = Some(report(out, service, &response)),
            Ok(None) => return Ok(last.unwrap_or(3)),
            // `--timeout` bounds the watch: the last status is the answer.
            Err(status) if status.code() == Code::DeadlineExceeded && last.is_some() => {
                return Ok(last.unwrap_or(3))
            }
            Err(status) => return Err(CliError::rpc("health watch", status)),
        }
    }
}

/// Prints the status; its exit code.
fn report(out: &Out, service: &str, response: &HealthCheckResponse) -> u8 {
    let status = response.status();
    let name = status.as_str_name();
    let serving = status == ServingStatus::Serving;
    if out.json() {
        out.value(&json!({ "service": service, "status": name }));
    } else {
        let shown = if service.is_empty() { "the server" } else { service };
        let paint = if serving { Paint::Green } else { Paint::Red };
        out.line(&format!("{shown}: {}", out.paint(paint, name)));
    }
    if serving {
        0
    } else {
        4
    }
}
