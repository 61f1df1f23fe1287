//! The bounded queue of messages waiting to be written to one WebSocket client.

use std::sync::Arc;

use tokio::sync::{mpsc, OwnedSemaphorePermit, Semaphore};

/// The sending side of a connection's queue, shared by the request loop and every
/// subscription task of the connection. The queue is bounded both in messages and in
/// bytes: a sender whose message does not fit waits, so nothing is ever dropped.
#[derive(Clone, Debug)]
pub struct Outgoing {
    queue: mpsc::Sender<QueuedMessage>,
    bytes: Arc<Semaphore>,
    max_bytes: usize,
}

/// The connection's writer is gone, so nothing more can be sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Closed;

/// A message in the queue. Its share of the byte budget is returned when it is dropped,
/// after the writer sent it.
#[derive(Debug)]
pub struct QueuedMessage {
    pub text: String,
    _bytes: OwnedSemaphorePermit,
}

/// The receiving side, owned by the connection's writer. Dropping it wakes every sender
/// that waits for room with [`Closed`].
#[derive(Debug)]
pub struct OutgoingQueue {
    queue: mpsc::Receiver<QueuedMessage>,
    bytes: Arc<Semaphore>,
}

impl Outgoing {
    /// Creates a queue of at most `max_messages` messages and `max_bytes` bytes
    /// (both at least 1). A message larger than `max_bytes` waits for an empty queue.
    pub fn new(max_messages: usize, max_bytes: usize) -> (Self, OutgoingQueue) {
        let max_bytes = max_bytes.clamp(1, Semaphore::MAX_PERMITS.min(u32::MAX as usize));
        let (sender, receiver) = mpsc::channel(max_messages.max(1));
        let bytes = Arc::new(Semaphore::new(max_bytes));
        let outgoing = Self {
            queue: sender,
            bytes: bytes.clone(),
            max_bytes,
        };
        let queue = OutgoingQueue {
            queue: receiver,
            bytes,
        };
        (outgoing, queue)
    }

    /// Queues `text`, waiting while the queue is full.
    pub async fn send(&self, text: String) -> Result<(), Closed> {
        // `max_bytes` fits in a u32 (see `new`), so the cast cannot truncate.
        let cost = text.len().clamp(1, self.max_bytes) as u32;
        let permit = self
            .bytes
            .clone()
            .acquire_many_owned(cost)
            .await
            .map_err(|_| Closed)?;
        self.queue
            .send(QueuedMessage {
                text,
                _bytes: permit,
            })
            .await
            .map_err(|_| Closed)
    }
}

impl OutgoingQueue {
    /// Waits for the next message; `None` once every sender is dropped.
    pub async fn recv(&mut self) -> Option<QueuedMessage> {
        self.queue.recv().await
    }
}

impl Drop for OutgoingQueue {
    fn drop(&mut self) {
        self.bytes.close();
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn send_waits_for_bytes() {
        let (outgoing, mut queue) = Outgoing::new(10, 8);
        outgoing.send("12345".into()).await.unwrap();

        let blocked = tokio::time::timeout(Duration::from_millis(50), outgoing.send("6789".into()));
        assert!(blocked.await.is_err(), "9 bytes fit in a queue of 8");

        let first = queue.recv().await.unwrap();
        drop(first);
        outgoing.send("6789".into()).await.unwrap();
        assert_eq!(queue.recv().await.unwrap().text, "6789");
    }

    #[tokio::test]
    async fn send_waits_for_message_slot() {
        let (outgoing, mut queue) = Outgoing::new(1, 1000);
        outgoing.send("a".into()).await.unwrap();
        let blocked = tokio::time::timeout(Duration::from_millis(50), outgoing.send("b".into()));
        assert!(
            blocked.await.is_err(),
            "second message fit in a queue of one"
        );
        assert_eq!(queue.recv().await.unwrap().text, "a");
    }

    #[tokio::test]
    async fn oversized_message_is_sent_alone() {
        let (outgoing, mut queue) = Outgoing::new(10, 4);
        outgoing.send("longer than four".into()).await.unwrap();
        assert_eq!(queue.recv().await.unwrap().text, "longer than four");
    }

    #[tokio::test]
    async fn dropped_queue_wakes_waiting_sender() {
        let (outgoing, queue) = Outgoing::new(10, 4);
        outgoing.send("full".into()).await.unwrap();
        let waiting = tokio::spawn({
            let outgoing = outgoing.clone();
            async move { outgoing.send("more".into()).await }
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        drop(queue);
        let result = tokio::time::timeout(Duration::from_secs(5), waiting)
            .await
            .expect("the sender woke up")
            .unwrap();
        assert_eq!(result, Err(Closed));
    }
}
