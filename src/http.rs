//! The HTTP endpoint: `/metrics` for Prometheus, `/healthz` and `/readyz`, open to all;
//! and, behind the `[http] token` when one is set, `/v1/schedule` with the latest
//! decision, `/v1/latency` with every stage's latency percentiles, and
//! `POST /v1/events`, which feeds a body of JSON lines through the same path as TCP.
//!
//! Connections are accepted here and each is served by hyper, so that HTTP has the
//! same limits as the TCP listener: a cap on open connections, a time limit for a
//! request's head and body, and a shutdown that waits no longer than the grace.

use crate::config::HttpSettings;
use crate::edge::receipt::{Counts, Receipt};
use crate::listener::{self, Acceptor, AuthFailures, Listener};
use crate::metrics::Metrics;
use crate::source::{Source, SourceContext, lines};
use crate::status::DaemonStatus;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, DefaultBodyLimit, FromRequest, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use hyper_util::rt::{TokioIo, TokioTimer};
use prometheus::IntCounter;
use std::net::SocketAddr;
use std::sync::{Arc, RwLock};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::Service;

/// What the handlers read, besides the settings.
#[derive(Clone)]
pub struct Shared {
    pub metrics: Metrics,
    /// Counts the requests refused for their token, under `listener="http"`.
    pub auth_failures: AuthFailures,
    pub status: Arc<DaemonStatus>,
    pub intake: Arc<HttpIntake>,
}

/// Where `POST /v1/events` hands its lines: the pipeline's first edge, from when the
/// pipeline starts this source until shutdown begins. Letting go of the edge then is
/// what lets the pipeline see its input close and drain.
#[derive(Default)]
pub struct HttpIntake {
    ctx: RwLock<Option<SourceContext>>,
}

impl Source for Arc<HttpIntake> {
    const NAME: &'static str = "http source";

    /// Takes events until shutdown; the requests themselves are served beside the
    /// pipeline, by [`serve`].
    async fn run(self, ctx: SourceContext) -> anyhow::Result<()> {
        let shutdown = ctx.shutdown.clone();
        *self.ctx.write().unwrap_or_else(|e| e.into_inner()) = Some(ctx);
        shutdown.cancelled().await;
        self.ctx.write().unwrap_or_else(|e| e.into_inner()).take();
        Ok(())
    }
}

impl HttpIntake {
    /// The source's context, unless the pipeline is not running yet or is shutting
    /// down.
    fn context(&self) -> Option<SourceContext> {
        self.ctx.read().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

#[derive(Clone)]
struct App {
    shared: Shared,
    settings: Arc<HttpSettings>,
    auth_failures: IntCounter,
}

/// Serves until `stop` is cancelled, then lets each connection finish its request;
/// connections still open when `abort` is cancelled are dropped.
pub async fn serve(
    listener: TcpListener,
    settings: HttpSettings,
    shared: Shared,
    stop: CancellationToken,
    abort: CancellationToken,
) {
    let app = App {
        auth_failures: shared.auth_failures.of(Listener::Http).clone(),
        shared,
        settings: Arc::new(settings),
    };
    let router = router(app.clone());
    let slots = Arc::new(Semaphore::new(app.settings.max_connections));
    let connections = TaskTracker::new();
    let mut acceptor = Acceptor::new(listener, "http");
    loop {
        let (stream, peer) = tokio::select! {
            _ = stop.cancelled() => break,
            accepted = acceptor.accept() => accepted,
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            refuse(stream, peer, app.settings.max_connections).await;
            continue;
        };
        let (router, settings) = (router.clone(), app.settings.clone());
        let (stop, abort) = (stop.clone(), abort.clone());
        connections.spawn(async move {
            tokio::select! {
                _ = connection(stream, peer, router, &settings, stop) => {}
                _ = abort.cancelled() => {
                    tracing::debug!(%peer, "dropping HTTP connection: the shutdown grace is over");
                }
            }
            drop(slot);
        });
    }
    connections.close();
    connections.wait().await;
}

fn router(app: App) -> Router {
    let guarded = Router::new()
        .route("/v1/schedule", get(schedule))
        .route("/v1/latency", get(latency))
        .route(
            "/v1/events",
            post(events).layer(DefaultBodyLimit::max(app.settings.max_body_bytes)),
        )
        .route_layer(middleware::from_fn_with_state(app.clone(), require_token));
    Router::new()
        .route("/metrics", get(metrics_text))
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz))
        .merge(guarded)
        .with_state(app)
}

/// Serves one connection until the client closes it or a limit ends it; once `stop`
/// is cancelled, the request under way is finished and the connection closed.
async fn connection(
    stream: TcpStream,
    peer: SocketAddr,
    router: Router,
    settings: &HttpSettings,
    stop: CancellationToken,
) {
    let service = hyper::service::service_fn(move |mut request: hyper::Request<_>| {
        request.extensions_mut().insert(ConnectInfo(peer));
        router.clone().call(request)
    });
    let mut http1 = hyper::server::conn::http1::Builder::new();
    http1
        .timer(TokioTimer::new())
        .header_read_timeout(settings.auth_timeout);
    let conn = http1.serve_connection(TokioIo::new(stream), service);
    let mut conn = std::pin::pin!(conn);
    let result = tokio::select! {
        result = conn.as_mut() => result,
        _ = stop.cancelled() => {
            conn.as_mut().graceful_shutdown();
            conn.await
        }
    };
    if let Err(e) = result {
        tracing::debug!(%peer, error = %e, "HTTP connection ended with an error");
    }
}

/// Answers a connection over `max_connections` with 503 and closes it.
async fn refuse(mut stream: TcpStream, peer: SocketAddr, limit: usize) {
    tracing::warn!(%peer, limit, "refusing HTTP connection: too many open");
    let body = "too many connections\n";
    let response = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(response.as_bytes()).await;
}

/// Lets a request through when no token is set or it carries
/// `Authorization: Bearer <token>`; otherwise answers 401 after the refusal delay.
async fn require_token(State(app): State<App>, request: Request, next: Next) -> Response {
    let Some(token) = &app.settings.token else {
        return next.run(request).await;
    };
    let given = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.as_bytes().strip_prefix(b"Bearer "));
    if given.is_some_and(|given| listener::token_matches(token, given)) {
        return next.run(request).await;
    }
    tracing::warn!(path = %request.uri().path(), "refusing HTTP request: missing or wrong bearer token");
    app.auth_failures.inc();
    tokio::time::sleep(listener::REFUSAL_DELAY).await;
    (
        StatusCode::UNAUTHORIZED,
        [(header::WWW_AUTHENTICATE, "Bearer")],
        "unauthorized\n",
    )
        .into_response()
}

/// `POST /v1/events`: every line of the body through the pipeline, answered with what
/// became of them once each has been judged.
async fn events(
    State(app): State<App>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
) -> Response {
    let unavailable = |why: &'static str| (StatusCode::SERVICE_UNAVAILABLE, why).into_response();
    if !app.shared.status.storage_ok() {
        return unavailable("storage cannot be written; ingest is paused\n");
    }
    let body = Bytes::from_request(request, &());
    let body = match tokio::time::timeout(app.settings.idle_timeout, body).await {
        Ok(Ok(body)) => body,
        Ok(Err(rejection)) => return rejection.into_response(),
        Err(_) => {
            let why = "the body did not arrive within http.idle_timeout\n";
            return (StatusCode::REQUEST_TIMEOUT, why).into_response();
        }
    };
    let Some(ctx) = app.shared.intake.context() else {
        return unavailable("not taking events: starting or shutting down\n");
    };
    let origin: Arc<str> = Arc::from(format!("http {peer}"));
    match feed(&body, ctx, &origin).await {
        Some(counts) => {
            let json = serde_json::to_vec(&counts).expect("counts serialize");
            ([(header::CONTENT_TYPE, "application/json")], json).into_response()
        }
        None => unavailable("the pipeline stopped before every line was judged\n"),
    }
}

/// Sends the lines of `body` onto the first edge as TCP's lines go, and waits until
/// every one has been judged; `None` when the pipeline closed first.
async fn feed(body: &[u8], ctx: SourceContext, origin: &Arc<str>) -> Option<Counts> {
    let (receipt, judged) = Receipt::new();
    let mut reader = tokio::io::BufReader::new(body);
    let end = lines::forward(&mut reader, origin, ctx.limits, &ctx.out, Some(&receipt)).await;
    if end.ok()? == lines::End::Closed {
        return None;
    }
    drop((ctx, receipt));
    judged.await.ok()
}

async fn metrics_text(State(app): State<App>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        app.shared.metrics.render(),
    )
        .into_response()
}

/// 503 naming the output files that cannot be written while any cannot: ingest is
/// held back until they can.
async fn readyz(State(app): State<App>) -> Response {
    let unwritable: Vec<&str> = app
        .shared
        .status
        .unwritable()
        .map(|f| f.describe())
        .collect();
    if !unwritable.is_empty() {
        let body = format!("not ready: cannot write {}\n", unwritable.join(" or "));
        return (StatusCode::SERVICE_UNAVAILABLE, body).into_response();
    }
    if app.shared.status.ready() {
        (StatusCode::OK, "ready\n").into_response()
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "not ready: no decision yet, or shutting down\n",
        )
            .into_response()
    }
}

async fn schedule(State(app): State<App>) -> Response {
    match app.shared.status.latest() {
        Some(line) => ([(header::CONTENT_TYPE, "application/json")], line.to_vec()).into_response(),
        None => (StatusCode::SERVICE_UNAVAILABLE, "no decision yet\n").into_response(),
    }
}

async fn latency(State(app): State<App>) -> Response {
    match app.shared.metrics.latency() {
        Some(latency) => (
            [(header::CONTENT_TYPE, "application/json")],
            latency.to_json(),
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "latency is not measured\n").into_response(),
    }
}
