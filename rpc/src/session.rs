//! Per-connection state of a WebSocket client: its outgoing queue and subscriptions.

use std::collections::HashMap;

use tokio::sync::oneshot;
use tokio::task::AbortHandle;

use crate::error::RpcError;
use crate::subscription::{self, Outgoing};
use crate::version::Api;

/// Identifier of a subscription: random and unique among the node's open
/// subscriptions, so that no client can guess another's. The root path sends it as a
/// number, the versioned paths as a decimal string.
pub type SubscriptionId = u64;

/// One WebSocket connection. Dropping it stops every subscription task it started.
#[derive(Debug)]
pub struct Session {
    pub api: Api,
    pub outgoing: Outgoing,
    max_subscriptions: usize,
    subscriptions: HashMap<SubscriptionId, AbortHandle>,
    /// Start signals of subscriptions created by the request being handled. They fire
    /// after the request's response is queued, so that the response to a subscribe
    /// request always precedes its first notification.
    pending_starts: Vec<oneshot::Sender<()>>,
}

impl Session {
    pub fn new(api: Api, outgoing: Outgoing, max_subscriptions: usize) -> Self {
        Self {
            api,
            outgoing,
            max_subscriptions,
            subscriptions: HashMap::new(),
            pending_starts: Vec::new(),
        }
    }

    /// Registers a new subscription and returns its id; `start` spawns its task, which
    /// must await the given signal before sending anything. A connection that already
    /// holds the maximum number of subscriptions gets error -32005.
    pub fn add_subscription(
        &mut self,
        start: impl FnOnce(SubscriptionId, oneshot::Receiver<()>) -> AbortHandle,
    ) -> Result<SubscriptionId, RpcError> {
        if self.subscriptions.len() >= self.max_subscriptions {
            return Err(subscription::too_many_subscriptions(self.max_subscriptions));
        }
        let id = subscription::reserve_id();
        let (started, start_signal) = oneshot::channel();
        let handle = start(id, start_signal);
        self.subscriptions.insert(id, handle);
        self.pending_starts.push(started);
        Ok(id)
    }

    /// Stops a subscription; `false` if this connection has no subscription `id`.
    pub fn remove_subscription(&mut self, id: SubscriptionId) -> bool {
        match self.subscriptions.remove(&id) {
            Some(handle) => {
                handle.abort();
                subscription::release_id(id);
                true
            }
            None => false,
        }
    }

    pub fn subscription_count(&self) -> usize {
        self.subscriptions.len()
    }

    /// Lets subscriptions created by the last request start sending.
    pub fn release_pending_starts(&mut self) {
        for started in self.pending_starts.drain(..) {
            // The task may already be gone if it was unsubscribed in the same batch.
            let _ = started.send(());
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        for (id, handle) in self.subscriptions.drain() {
            handle.abort();
            subscription::release_id(id);
        }
    }
}
