//! HTTP transport: JSON-RPC over `POST`, one request or batch per body.

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::CONTENT_TYPE;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use crate::context::RpcContext;
use crate::router::handle_message;
use crate::version::Api;

/// Serves HTTP connections until the listener fails or the task is dropped.
pub async fn serve(listener: TcpListener, context: RpcContext) {
    let slots = Arc::new(Semaphore::new(
        context.limits.max_concurrent_requests.max(1),
    ));
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(error) => {
                tracing::warn!(target: "rpc::http", %error, "accept failed");
                continue;
            }
        };
        let context = context.clone();
        let slots = slots.clone();
        tokio::spawn(async move {
            let service =
                service_fn(move |request| handle(request, context.clone(), slots.clone()));
            if let Err(error) = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await
            {
                tracing::debug!(target: "rpc::http", %peer, %error, "connection error");
            }
        });
    }
}

async fn handle(
    request: Request<Incoming>,
    context: RpcContext,
    slots: Arc<Semaphore>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let Some(api) = Api::from_path(request.uri().path()) else {
        return Ok(plain(StatusCode::NOT_FOUND, "not found"));
    };
    if request.method() != Method::POST {
        return Ok(plain(
            StatusCode::METHOD_NOT_ALLOWED,
            "JSON-RPC requests use POST",
        ));
    }

    let body = match Limited::new(request.into_body(), context.limits.max_request_bytes)
        .collect()
        .await
    {
        Ok(collected) => collected.to_bytes(),
        Err(_) => {
            return Ok(plain(
                StatusCode::PAYLOAD_TOO_LARGE,
                "request body too large",
            ))
        }
    };
    let text = String::from_utf8_lossy(&body).into_owned();

    // The semaphore is never closed, so acquiring only waits.
    let _slot = slots
        .acquire_owned()
        .await
        .expect("request slots stay open");
    let reply = tokio::task::spawn_blocking(move || handle_message(&context, api, &text, None))
        .await
        .unwrap_or_else(|error| {
            tracing::error!(target: "rpc::http", %error, "request handler panicked");
            None
        });

    Ok(match reply {
        Some(json) => Response::builder()
            .header(CONTENT_TYPE, "application/json")
            .body(Full::new(Bytes::from(json)))
            .expect("valid response"),
        None => Response::builder()
            .status(StatusCode::NO_CONTENT)
            .body(Full::new(Bytes::new()))
            .expect("valid response"),
    })
}

fn plain(status: StatusCode, text: &'static str) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .body(Full::new(Bytes::from_static(text.as_bytes())))
        .expect("valid response")
}
