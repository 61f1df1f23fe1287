//! The periodic sync status line: head, target, blocks per second and ETA.

use std::time::{Duration, Instant};

use starling_storage::{BlockNumber, SyncStatus};

/// Time between two status lines while catching up.
const REPORT_INTERVAL: Duration = Duration::from_secs(5);
/// Time between two status lines at the tip, where each committed block is logged too.
const REPORT_INTERVAL_AT_TIP: Duration = Duration::from_secs(60);

#[derive(Debug)]
pub struct Progress {
    started: Instant,
    last_report: Instant,
    blocks_since_report: u64,
    head: Option<BlockNumber>,
    target: Option<BlockNumber>,
    /// Receives the rate of every status line, for the metrics endpoint.
    sync_status: SyncStatus,
}

impl Progress {
    pub fn new(head: Option<BlockNumber>, sync_status: SyncStatus) -> Self {
        let now = Instant::now();
        Self {
            started: now,
            last_report: now,
            blocks_since_report: 0,
            head,
            target: None,
            sync_status,
        }
    }

    pub fn set_target(&mut self, target: Option<BlockNumber>) {
        self.target = target;
    }

    /// Moves the head back after a reorg reverted blocks.
    pub fn reverted(&mut self, head: Option<BlockNumber>) {
        self.head = head;
    }

    pub fn committed(&mut self, number: BlockNumber) {
        self.head = Some(number);
        self.blocks_since_report += 1;
        if self.target.is_some_and(|target| target < number) {
            self.target = Some(number);
        }
    }

    /// Logs the status line if the report interval has passed.
    /// Whether the head is within one block of the gateway's newest block.
    pub fn is_near_tip(&self) -> bool {
        match (self.head, self.target) {
            (Some(head), Some(target)) => head.get() + 1 >= target.get(),
            _ => false,
        }
    }

    /// Blocks between the head and the gateway's newest block; `None` while the newest
    /// block is unknown.
    fn remaining(&self) -> Option<u64> {
        match (self.head, self.target) {
            (Some(head), Some(target)) => Some(target.get().saturating_sub(head.get())),
            (None, Some(target)) => Some(target.get() + 1),
            (_, None) => None,
        }
    }

    pub fn maybe_report(&mut self) {
        let elapsed = self.last_report.elapsed();
        let interval = if self.remaining() == Some(0) {
            REPORT_INTERVAL_AT_TIP
        } else {
            REPORT_INTERVAL
        };
        if elapsed < interval {
            return;
        }

        let blocks_per_second = self.blocks_since_report as f64 / elapsed.as_secs_f64();
        self.sync_status.set_blocks_per_second(blocks_per_second);
        let eta = match self.remaining() {
            None => "unknown".to_string(),
            Some(0) => "synced".to_string(),
            Some(remaining) if blocks_per_second > 0.0 => format_duration(Duration::from_secs_f64(
                remaining as f64 / blocks_per_second,
            )),
            Some(_) => "unknown".to_string(),
        };

        tracing::info!(
            target: "sync",
            head = self.head.map(BlockNumber::get),
            target = self.target.map(BlockNumber::get),
            blocks_per_second = (blocks_per_second * 100.0).round() / 100.0,
            eta,
            uptime_s = self.started.elapsed().as_secs(),
            "sync status"
        );
        self.last_report = Instant::now();
        self.blocks_since_report = 0;
    }
}

fn format_duration(duration: Duration) -> String {
    let seconds = duration.as_secs();
    let (hours, minutes, seconds) = (seconds / 3600, seconds / 60 % 60, seconds % 60);
    if hours > 0 {
        format!("{hours}h{minutes:02}m")
    } else if minutes > 0 {
        format!("{minutes}m{seconds:02}s")
    } else {
        format!("{seconds}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn near_tip_needs_a_known_target() {
        let mut progress = Progress::new(Some(BlockNumber(10)), SyncStatus::new());
        assert!(!progress.is_near_tip());
        progress.set_target(Some(BlockNumber(11)));
        assert!(progress.is_near_tip());
        progress.set_target(Some(BlockNumber(12)));
        assert!(!progress.is_near_tip());
        assert_eq!(progress.remaining(), Some(2));
    }

    #[test]
    fn empty_database_counts_genesis_as_remaining() {
        let mut progress = Progress::new(None, SyncStatus::new());
        assert_eq!(progress.remaining(), None);
        progress.set_target(Some(BlockNumber(0)));
        assert_eq!(progress.remaining(), Some(1));
    }

    #[test]
    fn report_publishes_blocks_per_second() {
        let status = SyncStatus::new();
        let mut progress = Progress::new(None, status.clone());
        for number in 0..20 {
            progress.committed(BlockNumber(number));
        }
        progress.maybe_report();
        assert_eq!(
            status.blocks_per_second(),
            None,
            "reported before the interval"
        );

        progress.last_report = Instant::now() - Duration::from_secs(10);
        progress.maybe_report();
        let rate = status.blocks_per_second().expect("rate published");
        assert!((1.9..=2.0).contains(&rate), "rate {rate}");
    }

    #[test]
    fn durations_format_compactly() {
        assert_eq!(format_duration(Duration::from_secs(42)), "42s");
        assert_eq!(format_duration(Duration::from_secs(125)), "2m05s");
        assert_eq!(format_duration(Duration::from_secs(7260)), "2h01m");
    }
}
