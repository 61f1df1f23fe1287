//! HTTP server of `--metrics`: `/metrics` in the Prometheus text format, `/live` and
//! `/ready` for health checks.

use std::convert::Infallible;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::CONTENT_TYPE;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use starling_metrics::Metrics;
use tokio::net::TcpListener;

use crate::health::NodeHealth;

/// Serves metrics and health checks until the listener fails or the task is dropped.
pub async fn serve(listener: TcpListener, metrics: Metrics, health: NodeHealth) {
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(error) => {
                tracing::warn!(target: "metrics", %error, "accept failed");
                continue;
            }
        };
        let metrics = metrics.clone();
        let health = health.clone();
        tokio::spawn(async move {
            let service =
                service_fn(move |request| handle(request, metrics.clone(), health.clone()));
            if let Err(error) = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await
            {
                tracing::debug!(target: "metrics", %peer, %error, "connection error");
            }
        });
    }
}

async fn handle(
    request: Request<Incoming>,
    metrics: Metrics,
    health: NodeHealth,
) -> Result<Response<Full<Bytes>>, Infallible> {
    if request.method() != Method::GET && request.method() != Method::HEAD {
        return Ok(text(
            StatusCode::METHOD_NOT_ALLOWED,
            "use GET for /metrics, /live and /ready\n".into(),
        ));
    }
    let response = match request.uri().path() {
        "/metrics" => Response::builder()
            .header(CONTENT_TYPE, starling_metrics::CONTENT_TYPE)
            .body(Full::new(Bytes::from(metrics.encode())))
            .expect("valid response"),
        // Any response is the liveness signal.
        "/live" => text(StatusCode::OK, "live\n".into()),
        "/ready" => match health.readiness() {
            Ok(()) => text(StatusCode::OK, "ready\n".into()),
            Err(reason) => {
                tracing::debug!(target: "metrics", %reason, "not ready");
                text(StatusCode::SERVICE_UNAVAILABLE, format!("{reason}\n"))
            }
        },
        _ => text(
            StatusCode::NOT_FOUND,
            "not found: the paths are /metrics, /live and /ready\n".into(),
        ),
    };
    Ok(response)
}

fn text(status: StatusCode, body: String) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header(CONTENT_TYPE, "text/plain; charset=utf-8")
        .body(Full::new(Bytes::from(body)))
        .expect("valid response")
}
