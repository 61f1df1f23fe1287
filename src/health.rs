//! The node's health for the metrics server: the checks behind `/ready` and the chain
//! state behind the chain gauges of `/metrics`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use starling_metrics::ChainState;
use starling_storage::{Storage, SyncStatus};

/// Shared handle that `node::run` updates as the node starts and the metrics server reads;
/// clones share one state.
#[derive(Clone, Debug)]
pub struct NodeHealth {
    inner: Arc<HealthState>,
}

#[derive(Debug)]
struct HealthState {
    /// Set once the database is open.
    storage: OnceLock<Storage>,
    sync_status: SyncStatus,
    rpc_listening: AtomicBool,
    sync: Mutex<SyncState>,
    ready_max_lag: u64,
}

/// Life cycle of the sync task.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SyncState {
    NotStarted,
    Running,
    /// The task returned an error, kept as one line.
    Failed(String),
    /// The task returned without an error. `sync::run` returns only with an error, so
    /// this state marks an unexpected end.
    Finished,
}

/// Everything `/ready` depends on, read at one instant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadinessInputs {
    pub database_open: bool,
    pub rpc_listening: bool,
    pub sync: SyncState,
    /// The stored head, or the error that reading it returned.
    pub head: Result<Option<u64>, String>,
    pub gateway_head: Option<u64>,
    pub max_lag: u64,
}

impl NodeHealth {
    /// Creates the state of a node that has opened nothing yet. `ready_max_lag` is the
    /// maximum number of blocks the stored head may be behind the gateway's newest block
    /// while ready.
    pub fn new(sync_status: SyncStatus, ready_max_lag: u64) -> Self {
        Self {
            inner: Arc::new(HealthState {
                storage: OnceLock::new(),
                sync_status,
                rpc_listening: AtomicBool::new(false),
                sync: Mutex::new(SyncState::NotStarted),
                ready_max_lag,
            }),
        }
    }

    pub fn database_opened(&self, storage: Storage) {
        // Only the first call has an effect; the node opens one database.
        let _ = self.inner.storage.set(storage);
    }

    /// Records that every enabled JSON-RPC server is bound and accepting connections.
    pub fn rpc_listening(&self) {
        self.inner.rpc_listening.store(true, Ordering::Release);
    }

    pub fn sync_started(&self) {
        *self.sync_state() = SyncState::Running;
    }

    /// Records that the sync task ended with `error`, flattened to one line.
    pub fn sync_failed(&self, error: &str) {
        let one_line = error.split_whitespace().collect::<Vec<_>>().join(" ");
        *self.sync_state() = SyncState::Failed(one_line);
    }

    /// Records that the sync task returned without an error.
    pub fn sync_finished(&self) {
        *self.sync_state() = SyncState::Finished;
    }

    /// Returns `Ok` when the node is ready to serve current data, otherwise the reason it
    /// is not, as one line.
    pub fn readiness(&self) -> Result<(), String> {
        let storage = self.inner.storage.get();
        let head = match storage {
            Some(storage) => storage
                .head()
                .map(|head| head.map(|(number, _)| number.get()))
                .map_err(|error| error.to_string()),
            None => Ok(None),
        };
        evaluate_readiness(&ReadinessInputs {
            database_open: storage.is_some(),
            rpc_listening: self.inner.rpc_listening.load(Ordering::Acquire),
            sync: self.sync_state().clone(),
            head,
            gateway_head: self.gateway_head(),
            max_lag: self.inner.ready_max_lag,
        })
    }

    /// Reads the values of the chain gauges. A failed head read leaves the head gauge out,
    /// and `/ready` reports the error.
    pub fn chain_state(&self) -> ChainState {
        let head = self
            .inner
            .storage
            .get()
            .and_then(|storage| storage.head().ok().flatten())
            .map(|(number, _)| number.get());
        ChainState {
            head,
            gateway_head: self.gateway_head(),
            blocks_per_second: self.inner.sync_status.blocks_per_second(),
            sync_running: *self.sync_state() == SyncState::Running,
        }
    }

    // NOTE: the sync loop refreshes the gateway's newest block every 30 s, so after the
    // gateway jumps ahead `/ready` may stay 200 for up to that long.
    fn gateway_head(&self) -> Option<u64> {
        self.inner
            .sync_status
            .progress()
            .highest_block
            .map(|highest| highest.number.get())
    }

    fn sync_state(&self) -> std::sync::MutexGuard<'_, SyncState> {
        // The state is replaced whole, so a panic while the lock was held cannot leave it
        // half-written.
        self.inner
            .sync
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// Decides readiness: the database is open, RPC listens, sync runs, and the stored head
/// is at most `max_lag` blocks behind the gateway's newest block. The first failed
/// check is the reason.
pub fn evaluate_readiness(inputs: &ReadinessInputs) -> Result<(), String> {
    if !inputs.database_open {
        return Err("database not open yet".into());
    }
    if !inputs.rpc_listening {
        return Err("JSON-RPC not listening yet".into());
    }
    match &inputs.sync {
        SyncState::NotStarted => return Err("sync not started yet".into()),
        SyncState::Failed(error) => return Err(format!("sync stopped after an error: {error}")),
        SyncState::Finished => return Err("sync stopped: the sync task returned".into()),
        SyncState::Running => {}
    }
    let head = match &inputs.head {
        Ok(head) => *head,
        Err(error) => return Err(format!("cannot read the stored head: {error}")),
    };
    let Some(gateway_head) = inputs.gateway_head else {
        return Err("gateway head unknown yet".into());
    };
    let state = ChainState {
        head,
        gateway_head: Some(gateway_head),
        ..ChainState::default()
    };
    let lag = state.lag().unwrap_or_default();
    if lag <= inputs.max_lag {
        return Ok(());
    }
    let stored = head.map_or_else(|| "none".to_string(), |head| head.to_string());
    Err(format!(
        "still syncing: stored head {stored}, gateway head {gateway_head}, {lag} blocks behind (ready within {})",
        inputs.max_lag
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ready_inputs() -> ReadinessInputs {
        ReadinessInputs {
            database_open: true,
            rpc_listening: true,
            sync: SyncState::Running,
            head: Ok(Some(100)),
            gateway_head: Some(104),
            max_lag: 6,
        }
    }

    #[test]
    fn ready_within_max_lag() {
        assert_eq!(evaluate_readiness(&ready_inputs()), Ok(()));
        let at_limit = ReadinessInputs {
            gateway_head: Some(106),
            ..ready_inputs()
        };
        assert_eq!(evaluate_readiness(&at_limit), Ok(()));
        let ahead_of_gateway = ReadinessInputs {
            gateway_head: Some(90),
            ..ready_inputs()
        };
        assert_eq!(evaluate_readiness(&ahead_of_gateway), Ok(()));
    }

    #[test]
    fn not_ready_while_syncing() {
        let behind = ReadinessInputs {
            gateway_head: Some(107),
            ..ready_inputs()
        };
        assert_eq!(
            evaluate_readiness(&behind),
            Err(
                "still syncing: stored head 100, gateway head 107, 7 blocks behind (ready within 6)"
                    .into()
            )
        );
        let empty = ReadinessInputs {
            head: Ok(None),
            gateway_head: Some(3),
            max_lag: 0,
            ..ready_inputs()
        };
        assert_eq!(
            evaluate_readiness(&empty),
            Err(
                "still syncing: stored head none, gateway head 3, 4 blocks behind (ready within 0)"
                    .into()
            )
        );
    }

    #[test]
    fn first_failed_check_is_the_reason() {
        let cases = [
            (
                ReadinessInputs {
                    database_open: false,
                    rpc_listening: false,
                    ..ready_inputs()
                },
                "database not open yet",
            ),
            (
                ReadinessInputs {
                    rpc_listening: false,
                    ..ready_inputs()
                },
                "JSON-RPC not listening yet",
            ),
            (
                ReadinessInputs {
                    sync: SyncState::NotStarted,
                    ..ready_inputs()
                },
                "sync not started yet",
            ),
            (
                ReadinessInputs {
                    sync: SyncState::Failed("block 5 failed verification".into()),
                    ..ready_inputs()
                },
                "sync stopped after an error: block 5 failed verification",
            ),
            (
                ReadinessInputs {
                    sync: SyncState::Finished,
                    ..ready_inputs()
                },
                "sync stopped: the sync task returned",
            ),
            (
                ReadinessInputs {
                    head: Err("io error".into()),
                    ..ready_inputs()
                },
                "cannot read the stored head: io error",
            ),
            (
                ReadinessInputs {
                    gateway_head: None,
                    ..ready_inputs()
                },
                "gateway head unknown yet",
            ),
        ];
        for (inputs, reason) in cases {
            assert_eq!(
                evaluate_readiness(&inputs),
                Err(reason.into()),
                "{inputs:?}"
            );
        }
    }

    #[test]
    fn failed_sync_error_is_one_line() {
        let health = NodeHealth::new(SyncStatus::new(), 6);
        health.sync_started();
        assert!(health.chain_state().sync_running);
        health.sync_failed("block 5 failed\n  verification");
        assert_eq!(
            *health.sync_state(),
            SyncState::Failed("block 5 failed verification".into())
        );
        assert!(!health.chain_state().sync_running);
    }
}
