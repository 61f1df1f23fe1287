//! WebSocket transport: one task per connection reading requests, one writing
//! responses and notifications from a bounded queue.

use std::net::SocketAddr;

use futures_util::{SinkExt, StreamExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::StatusCode;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;

use crate::context::RpcContext;
use crate::router::handle_message;
use crate::session::Session;
use crate::version::Api;

/// Messages queued for one client before the subscription tasks wait for it. Waiting
/// makes them fall behind the commit channel, after which they catch up from storage.
const OUTGOING_QUEUE: usize = 256;

/// Accepts WebSocket connections until the listener fails or the task is dropped.
pub async fn serve(listener: TcpListener, context: RpcContext) {
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => {
                tokio::spawn(handle_connection(stream, peer, context.clone()));
            }
            Err(error) => {
                tracing::warn!(target: "rpc::ws", %error, "accept failed");
            }
        }
    }
}

async fn handle_connection(stream: TcpStream, peer: SocketAddr, context: RpcContext) {
    let mut api = None;
    // The error type is tungstenite's handshake response, fixed by its callback API.
    #[allow(clippy::result_large_err)]
    let select_api =
        |request: &Request, response: Response| match Api::from_path(request.uri().path()) {
            Some(selected) => {
                api = Some(selected);
                Ok(response)
            }
            None => {
                let mut not_found = ErrorResponse::new(Some("not found".into()));
                *not_found.status_mut() = StatusCode::NOT_FOUND;
                Err(not_found)
            }
        };

    let config = WebSocketConfig::default()
        .max_message_size(Some(context.limits.max_request_bytes))
        .max_frame_size(Some(context.limits.max_request_bytes));
    let socket =
        match tokio_tungstenite::accept_hdr_async_with_config(stream, select_api, Some(config))
            .await
        {
            Ok(socket) => socket,
            Err(error) => {
                tracing::debug!(target: "rpc::ws", %peer, %error, "handshake failed");
                return;
            }
        };
    let Some(api) = api else { return };
    tracing::debug!(target: "rpc::ws", %peer, ?api, "connection opened");

    let (mut sink, mut stream) = socket.split();
    let (outgoing, mut queue) = mpsc::channel::<String>(OUTGOING_QUEUE);
    let writer = tokio::spawn(async move {
        while let Some(text) = queue.recv().await {
            if sink.send(Message::text(text)).await.is_err() {
                break;
            }
        }
        let _ = sink.close().await;
    });

    let mut session = Session::new(api, outgoing.clone());
    while let Some(message) = stream.next().await {
        let text = match message {
            Ok(Message::Text(text)) => text.to_string(),
            Ok(Message::Binary(bytes)) => String::from_utf8_lossy(&bytes).into_owned(),
            Ok(Message::Close(_)) => break,
            Ok(_) => continue,
            Err(error) => {
                tracing::debug!(target: "rpc::ws", %peer, %error, "read failed");
                break;
            }
        };

        if let Some(reply) = handle_message(&context, api, &text, Some(&mut session)) {
            if outgoing.send(reply).await.is_err() {
                break;
            }
        }
        session.release_pending_starts();
    }

    tracing::debug!(target: "rpc::ws", %peer, subscriptions = session.subscription_count(), "connection closed");
    drop(session);
    drop(outgoing);
    let _ = writer.await;
}
