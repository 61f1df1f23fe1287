//! The periodic sync status line: head, target, blocks per second and ETA.

use std::time::{Duration, Instant};

use starling_storage::BlockNumber;

/// Time between two status lines.
const REPORT_INTERVAL: Duration = Duration::from_secs(5);

#[derive(Debug)]
pub struct Progress {
    started: Instant,
    last_report: Instant,
    blocks_since_report: u64,
    head: Option<BlockNumber>,
    target: Option<BlockNumber>,
}

impl Progress {
    pub fn new(head: Option<BlockNumber>) -> Self {
        let now = Instant::now();
        Self {
            started: now,
            last_report: now,
            blocks_since_report: 0,
            head,
            target: None,
        }
    }

    pub fn set_target(&mut self, target: Option<BlockNumber>) {
        self.target = target;
    }

    pub fn committed(&mut self, number: BlockNumber) {
        self.head = Some(number);
        self.blocks_since_report += 1;
        if self.target.is_some_and(|target| target < number) {
            self.target = Some(number);
        }
    }

    /// Logs the status line if the report interval has passed.
    pub fn maybe_report(&mut self) {
        let elapsed = self.last_report.elapsed();
        if elapsed < REPORT_INTERVAL {
            return;
        }

        let blocks_per_second = self.blocks_since_report as f64 / elapsed.as_secs_f64();
        let remaining = match (self.head, self.target) {
            (Some(head), Some(target)) => target.get().saturating_sub(head.get()),
            (None, Some(target)) => target.get() + 1,
            _ => 0,
        };
        let eta = if remaining == 0 {
            "synced".to_string()
        } else if blocks_per_second > 0.0 {
            format_duration(Duration::from_secs_f64(
                remaining as f64 / blocks_per_second,
            ))
        } else {
            "unknown".to_string()
        };

        tracing::info!(
            target: "sync",
            head = self.head.map(BlockNumber::get),
            target = self.target.map(BlockNumber::get),
            blocks_per_second = format!("{blocks_per_second:.2}"),
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
    fn durations_format_compactly() {
        assert_eq!(format_duration(Duration::from_secs(42)), "42s");
        assert_eq!(format_duration(Duration::from_secs(125)), "2m05s");
        assert_eq!(format_duration(Duration::from_secs(7260)), "2h01m");
    }
}
