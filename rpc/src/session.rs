//! Per-connection state of a WebSocket client: its outgoing queue and subscriptions.

use std::collections::HashMap;

use tokio::sync::{mpsc, oneshot};
use tokio::task::AbortHandle;

use crate::version::Api;

/// Identifier of a subscription: random, so that no client can guess another's.
pub type SubscriptionId = u64;

/// One WebSocket connection. Dropping it stops every subscription task it started.
#[derive(Debug)]
pub struct Session {
    pub api: Api,
    pub outgoing: mpsc::Sender<String>,
    subscriptions: HashMap<SubscriptionId, AbortHandle>,
    /// Start signals of subscriptions created by the request being handled. They fire
    /// after the request's response is queued, so that the response to a subscribe
    /// request always precedes its first notification.
    pending_starts: Vec<oneshot::Sender<()>>,
}

impl Session {
    pub fn new(api: Api, outgoing: mpsc::Sender<String>) -> Self {
        Self {
            api,
            outgoing,
            subscriptions: HashMap::new(),
            pending_starts: Vec::new(),
        }
    }

    /// Registers a new subscription and returns its id and the signal its task must
    /// await before sending anything.
    pub fn add_subscription(
        &mut self,
        start: impl FnOnce(SubscriptionId, oneshot::Receiver<()>) -> AbortHandle,
    ) -> SubscriptionId {
        let id = loop {
            let candidate: SubscriptionId = rand::random();
            if !self.subscriptions.contains_key(&candidate) {
                break candidate;
            }
        };
        let (started, start_signal) = oneshot::channel();
        let handle = start(id, start_signal);
        self.subscriptions.insert(id, handle);
        self.pending_starts.push(started);
        id
    }

    /// Stops a subscription; `false` if this connection has no subscription `id`.
    pub fn remove_subscription(&mut self, id: SubscriptionId) -> bool {
        match self.subscriptions.remove(&id) {
            Some(handle) => {
                handle.abort();
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
        for handle in self.subscriptions.values() {
            handle.abort();
        }
    }
}
