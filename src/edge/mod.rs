//! The pipeline's edges: what travels on them ([`message`]), the receipt a sender's
//! lines carry through the stages ([`receipt`]), and the sending end of an edge: a
//! bounded channel that adds up how long its producers wait while it is full, so
//! backpressure shows on `/metrics` (`vakhsh_channel_send_blocked_seconds_total`) and
//! not only as a depth. Both families are in [`metrics`].

pub mod message;
pub mod metrics;
pub mod receipt;

use async_channel::{SendError, Sender, TrySendError};
use prometheus::Counter;
use std::time::Instant;

pub struct Edge<T> {
    tx: Sender<T>,
    blocked: Counter,
}

// By hand: a derive would ask `T: Clone`, and messages need not be.
impl<T> Clone for Edge<T> {
    fn clone(&self) -> Self {
        Edge {
            tx: self.tx.clone(),
            blocked: self.blocked.clone(),
        }
    }
}

impl<T> Edge<T> {
    pub fn new(tx: Sender<T>, blocked: Counter) -> Self {
        Edge { tx, blocked }
    }

    /// Sends `msg`, waiting while the edge is full; only that wait is timed, so an
    /// edge with room costs no clock read.
    pub async fn send(&self, msg: T) -> Result<(), SendError<T>> {
        match self.tx.try_send(msg) {
            Ok(()) => Ok(()),
            Err(TrySendError::Closed(msg)) => Err(SendError(msg)),
            Err(TrySendError::Full(msg)) => {
                let waiting = Instant::now();
                let sent = self.tx.send(msg).await;
                self.blocked.inc_by(waiting.elapsed().as_secs_f64());
                sent
            }
        }
    }

    /// [`Edge::send`] for a blocking thread.
    pub fn send_blocking(&self, msg: T) -> Result<(), SendError<T>> {
        match self.tx.try_send(msg) {
            Ok(()) => Ok(()),
            Err(TrySendError::Closed(msg)) => Err(SendError(msg)),
            Err(TrySendError::Full(msg)) => {
                let waiting = Instant::now();
                let sent = self.tx.send_blocking(msg);
                self.blocked.inc_by(waiting.elapsed().as_secs_f64());
                sent
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn only_a_wait_on_a_full_edge_counts() {
        let blocked = Counter::new("blocked", "test").unwrap();
        let (tx, rx) = async_channel::bounded(1);
        let edge = Edge::new(tx, blocked.clone());
        edge.send(1).await.unwrap();
        assert_eq!(blocked.get(), 0.0, "an edge with room is not a wait");
        let waiting = tokio::spawn({
            let edge = edge.clone();
            async move { edge.send(2).await }
        });
        // On this single-threaded runtime the spawned send runs at the yield, finds the
        // edge full and waits until the first message is taken.
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished());
        assert_eq!(rx.recv().await.unwrap(), 1);
        waiting.await.unwrap().unwrap();
        assert_eq!(rx.recv().await.unwrap(), 2);
        assert!(blocked.get() > 0.0, "the wait for room was counted");
        drop(rx);
        assert!(edge.send(3).await.is_err(), "a closed edge refuses");
    }
}
