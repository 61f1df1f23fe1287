//! Subscription ids: random 64-bit numbers, unique among the node's open subscriptions,
//! so that no client can guess or collide with another connection's id.

use std::collections::BTreeSet;
use std::sync::Mutex;

use crate::session::SubscriptionId;

/// Ids of every open subscription on every connection.
static OPEN_IDS: Mutex<BTreeSet<SubscriptionId>> = Mutex::new(BTreeSet::new());

/// Draws a random id that no open subscription has and reserves it until
/// [`release_id`].
pub fn reserve_id() -> SubscriptionId {
    let mut open = OPEN_IDS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    // The loop repeats only on a collision, which among 2^64 values is vanishingly rare.
    loop {
        let candidate: SubscriptionId = rand::random();
        if open.insert(candidate) {
            return candidate;
        }
    }
}

/// Frees an id reserved by [`reserve_id`].
pub fn release_id(id: SubscriptionId) {
    let mut open = OPEN_IDS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    open.remove(&id);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_ids_are_distinct() {
        let ids: Vec<SubscriptionId> = (0..1000).map(|_| reserve_id()).collect();
        let distinct: BTreeSet<SubscriptionId> = ids.iter().copied().collect();
        assert_eq!(distinct.len(), ids.len());
        for id in ids {
            release_id(id);
        }
    }
}
