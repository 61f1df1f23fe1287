//! WebSocket transport: one task per connection reading requests, one writing
//! responses, notifications and pings from a bounded queue.
//!
//! A client that leaves a message unread for [`WsLimits::max_stall_secs`], or does not
//! respond to a ping before the next one, is disconnected with a close frame whose reason
//! states why. Queued notifications are then lost, and the reason tells the client to
//! subscribe again from the last block it received.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures_util::stream::SplitSink;
use futures_util::{SinkExt, StreamExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::StatusCode;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, WebSocketConfig};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

use crate::context::{RpcContext, WsLimits};
use crate::router::handle_message;
use crate::session::Session;
use crate::subscription::{Outgoing, OutgoingQueue};
use crate::version::Api;

type Sink = SplitSink<WebSocketStream<TcpStream>, Message>;

/// Initial read buffer of each connection, in bytes.
const READ_BUFFER_BYTES: usize = 8 * 1024;

/// Accepts WebSocket connections until the listener fails or the task is dropped.
pub async fn serve(listener: TcpListener, context: RpcContext) {
    let connection_slots = Arc::new(Semaphore::new(context.ws_limits.max_connections));
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => {
                // Without a slot the handshake is rejected with HTTP 503.
                let slot = connection_slots.clone().try_acquire_owned().ok();
                tokio::spawn(handle_connection(stream, peer, context.clone(), slot));
            }
            Err(error) => {
                tracing::warn!(target: "rpc::ws", %error, "accept failed");
            }
        }
    }
}

async fn handle_connection(
    stream: TcpStream,
    peer: SocketAddr,
    context: RpcContext,
    slot: Option<OwnedSemaphorePermit>,
) {
    let mut api = None;
    let max_connections = context.ws_limits.max_connections;
    let has_slot = slot.is_some();
    // The error type is tungstenite's handshake response, fixed by its callback API.
    #[allow(clippy::result_large_err)]
    let select_api = |request: &Request, response: Response| {
        let Some(selected) = Api::from_path(request.uri().path()) else {
            let mut not_found = ErrorResponse::new(Some("not found".into()));
            *not_found.status_mut() = StatusCode::NOT_FOUND;
            return Err(not_found);
        };
        if !has_slot {
            let message = format!(
                "too many WebSocket connections: this node accepts at most {max_connections}; retry later"
            );
            let mut unavailable = ErrorResponse::new(Some(message));
            *unavailable.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
            return Err(unavailable);
        }
        api = Some(selected);
        Ok(response)
    };

    // tungstenite's default read buffer is 128 KiB per connection. Requests are small,
    // so 8 KiB keeps an idle subscriber's memory low; a larger message is read in
    // several chunks.
    let config = WebSocketConfig::default()
        .read_buffer_size(READ_BUFFER_BYTES)
        .max_message_size(Some(context.limits.max_request_bytes))
        .max_frame_size(Some(context.limits.max_request_bytes));
    let socket = match tokio_tungstenite::accept_hdr_async_with_config(
        stream,
        select_api,
        Some(config),
    )
    .await
    {
        Ok(socket) => socket,
        Err(error) => {
            if !has_slot {
                tracing::debug!(target: "rpc::ws", %peer, max_connections, "connection rejected: too many connections");
            } else {
                tracing::debug!(target: "rpc::ws", %peer, %error, "handshake failed");
            }
            return;
        }
    };
    let Some(api) = api else { return };
    tracing::debug!(target: "rpc::ws", %peer, ?api, "connection opened");
    let _connection_gauge = context.metrics.ws_connection_opened();

    let limits = context.ws_limits.clone();
    let (sink, mut stream) = socket.split();
    let (outgoing, queue) = Outgoing::new(limits.max_queued_messages, limits.max_queued_bytes);
    let pong_received = Arc::new(AtomicBool::new(false));
    let mut writer = tokio::spawn(write_messages(
        sink,
        queue,
        limits.clone(),
        pong_received.clone(),
        peer,
    ));
    let mut writer_done = false;

    let mut session = Session::new(
        api,
        outgoing.clone(),
        limits.max_subscriptions_per_connection,
    );
    loop {
        let message = tokio::select! {
            message = stream.next() => message,
            _ = &mut writer => {
                writer_done = true;
                break;
            }
        };
        let text = match message {
            Some(Ok(Message::Text(text))) => text.to_string(),
            Some(Ok(Message::Binary(bytes))) => String::from_utf8_lossy(&bytes).into_owned(),
            Some(Ok(Message::Pong(_))) => {
                pong_received.store(true, Ordering::Relaxed);
                continue;
            }
            Some(Ok(Message::Close(_))) | None => break,
            Some(Ok(_)) => continue,
            Some(Err(error)) => {
                tracing::debug!(target: "rpc::ws", %peer, %error, "read failed");
                break;
            }
        };

        let subscriptions_before = session.subscription_count();
        let reply = handle_message(&context, api, &text, Some(&mut session));
        context.metrics.add_ws_subscriptions(
            session.subscription_count() as i64 - subscriptions_before as i64,
        );
        if let Some(reply) = reply {
            if outgoing.send(reply).await.is_err() {
                break;
            }
        }
        session.release_pending_starts();
    }

    tracing::debug!(target: "rpc::ws", %peer, subscriptions = session.subscription_count(), "connection closed");
    context
        .metrics
        .add_ws_subscriptions(-(session.subscription_count() as i64));
    // Dropping the session aborts its subscription tasks, which hold the other senders
    // of the queue, so the writer's queue ends.
    drop(session);
    drop(outgoing);
    if !writer_done {
        let _ = writer.await;
    }
}

/// Writes queued messages and pings until the queue ends, the client stalls or misses a
/// pong, or a write fails.
async fn write_messages(
    mut sink: Sink,
    mut queue: OutgoingQueue,
    limits: WsLimits,
    pong_received: Arc<AtomicBool>,
    peer: SocketAddr,
) {
    let max_stall = Duration::from_secs(limits.max_stall_secs);
    let ping_period = Duration::from_secs(limits.ping_interval_secs.max(1));
    let mut pings =
        tokio::time::interval_at(tokio::time::Instant::now() + ping_period, ping_period);
    let mut ping_outstanding = false;

    loop {
        let message = tokio::select! {
            queued = queue.recv() => match queued {
                Some(queued) => Message::text(queued.text),
                None => {
                    let _ = tokio::time::timeout(max_stall, sink.close()).await;
                    return;
                }
            },
            _ = pings.tick() => {
                if ping_outstanding && !pong_received.load(Ordering::Relaxed) {
                    tracing::debug!(target: "rpc::ws", %peer, "closing connection: no pong");
                    let reason = format!(
                        "no pong within {} s of a ping; reconnect and subscribe again from the last block received",
                        limits.ping_interval_secs
                    );
                    close(sink, reason, max_stall).await;
                    return;
                }
                pong_received.store(false, Ordering::Relaxed);
                ping_outstanding = true;
                Message::Ping(Vec::new().into())
            }
        };

        match tokio::time::timeout(max_stall, sink.send(message)).await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => {
                tracing::debug!(target: "rpc::ws", %peer, %error, "write failed");
                return;
            }
            Err(_) => {
                tracing::info!(target: "rpc::ws", %peer, max_stall_secs = limits.max_stall_secs, "closing connection: client stopped reading");
                let reason = format!(
                    "client stopped reading for {} s; reconnect and subscribe again from the last block received",
                    limits.max_stall_secs
                );
                close(sink, reason, max_stall).await;
                return;
            }
        }
    }
}

/// Minimum time a stalled client gets to read the close frame, however short
/// `max_stall_secs` is, so that a client that resumes reading just after the stall
/// limit still receives the reason for the disconnect.
const MIN_CLOSE_GRACE: Duration = Duration::from_secs(5);

/// Sends a close frame with `reason` behind whatever is still buffered, giving the
/// client `grace` (at least [`MIN_CLOSE_GRACE`]) to read it, then drops the connection.
async fn close(mut sink: Sink, reason: String, grace: Duration) {
    let grace = grace.max(MIN_CLOSE_GRACE);
    // A close reason has at most 123 bytes; the reasons built here are ASCII.
    let mut reason = reason;
    reason.truncate(123);
    let frame = CloseFrame {
        code: CloseCode::Policy,
        reason: reason.into(),
    };
    let _ = tokio::time::timeout(grace, sink.send(Message::Close(Some(frame)))).await;
}
