//! The HTTP endpoint: `/metrics` for Prometheus, `/healthz`, `/readyz`,
//! `/v1/schedule` with the latest decision, and `/v1/latency` with every stage's
//! latency percentiles.

use crate::metrics::Metrics;
use crate::pipeline::Status;
use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

#[derive(Clone)]
struct Shared {
    metrics: Metrics,
    status: Arc<Status>,
}

/// Serves until `stop` is cancelled.
pub async fn serve(
    listener: TcpListener,
    metrics: Metrics,
    status: Arc<Status>,
    stop: CancellationToken,
) -> std::io::Result<()> {
    let app = Router::new()
        .route("/metrics", get(metrics_text))
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz))
        .route("/v1/schedule", get(schedule))
        .route("/v1/latency", get(latency))
        .with_state(Shared { metrics, status });
    axum::serve(listener, app)
        .with_graceful_shutdown(stop.cancelled_owned())
        .await
}

async fn metrics_text(State(shared): State<Shared>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        shared.metrics.render(),
    )
        .into_response()
}

/// 503 naming the output files that cannot be written while any cannot: ingest is
/// held back until they can.
async fn readyz(State(shared): State<Shared>) -> Response {
    let unwritable: Vec<&str> = shared.status.unwritable().map(|f| f.describe()).collect();
    if !unwritable.is_empty() {
        let body = format!("not ready: cannot write {}\n", unwritable.join(" or "));
        return (StatusCode::SERVICE_UNAVAILABLE, body).into_response();
    }
    if shared.status.ready() {
        (StatusCode::OK, "ready\n").into_response()
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "not ready: no decision yet, or shutting down\n",
        )
            .into_response()
    }
}

async fn schedule(State(shared): State<Shared>) -> Response {
    match shared.status.latest() {
        Some(line) => ([(header::CONTENT_TYPE, "application/json")], line.to_vec()).into_response(),
        None => (StatusCode::SERVICE_UNAVAILABLE, "no decision yet\n").into_response(),
    }
}

async fn latency(State(shared): State<Shared>) -> Response {
    match shared.metrics.latency() {
        Some(latency) => (
            [(header::CONTENT_TYPE, "application/json")],
            latency.to_json(),
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "latency is not measured\n").into_response(),
    }
}
