//! What became of the lines one sender handed over together (one `POST /v1/events`):
//! the decode and ingest stages count each line's outcome into the receipt the line
//! carries, and the sender hears the counts when the last line has been judged.

use serde::Serialize;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::oneshot;

/// The outcomes of a sender's lines; received = accepted + rejected + duplicate.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub received: u64,
    pub accepted: u64,
    pub rejected: u64,
    pub duplicate: u64,
}

/// What can become of a line.
#[derive(Debug, Clone, Copy)]
pub enum Outcome {
    Received,
    Accepted,
    Rejected,
    Duplicate,
}

/// Shared by the lines of one sender; each stage that judges a line counts into it, and
/// when the last line lets go of it the counts go to the sender.
#[derive(Debug)]
pub struct Receipt {
    /// Indexed by [`Outcome`].
    counts: [AtomicU64; 4],
    done: Option<oneshot::Sender<Counts>>,
}

impl Receipt {
    /// A receipt, and where its counts arrive once every clone of it is dropped.
    pub fn new() -> (Arc<Receipt>, oneshot::Receiver<Counts>) {
        let (tx, rx) = oneshot::channel();
        let receipt = Receipt {
            counts: Default::default(),
            done: Some(tx),
        };
        (Arc::new(receipt), rx)
    }

    pub fn count(&self, outcome: Outcome) {
        self.counts[outcome as usize].fetch_add(1, Ordering::Relaxed);
    }
}

impl Drop for Receipt {
    fn drop(&mut self) {
        let [received, accepted, rejected, duplicate] =
            self.counts.each_mut().map(|count| *count.get_mut());
        let counts = Counts {
            received,
            accepted,
            rejected,
            duplicate,
        };
        if let Some(done) = self.done.take() {
            let _ = done.send(counts);
        }
    }
}

/// Counts `outcome` on a line's receipt, when it has one.
pub fn count(receipt: &Option<Arc<Receipt>>, outcome: Outcome) {
    if let Some(receipt) = receipt {
        receipt.count(outcome);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_counts_arrive_when_the_last_line_lets_go() {
        let (receipt, mut done) = Receipt::new();
        let lines: Vec<_> = (0..3).map(|_| receipt.clone()).collect();
        drop(receipt);
        for (line, outcome) in
            lines
                .iter()
                .zip([Outcome::Accepted, Outcome::Rejected, Outcome::Duplicate])
        {
            line.count(Outcome::Received);
            line.count(outcome);
        }
        let mut lines = lines.into_iter();
        lines.next();
        assert!(done.try_recv().is_err(), "two lines are still on their way");
        lines.for_each(drop);
        let counts = done.await.unwrap();
        assert_eq!(
            counts,
            Counts {
                received: 3,
                accepted: 1,
                rejected: 1,
                duplicate: 1
            }
        );
    }
}
