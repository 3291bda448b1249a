//! What the TCP and HTTP listeners share: accepting that backs off when the process runs
//! out of file descriptors instead of spinning, keepalive on every connection so that a
//! vanished peer is noticed, and token checks that leak nothing through timing and
//! make guessing slow, counted by listener.

use crate::metrics::{ByLabel, Label, Metrics};
use prometheus::IntCounter;
use std::net::SocketAddr;
use std::time::Duration;
use subtle::ConstantTimeEq;
use tokio::net::{TcpListener, TcpStream};

/// How long a client waits to hear that its token was wrong; the connection slot stays
/// taken meanwhile, so one connection can try at most one token per this.
pub const REFUSAL_DELAY: Duration = Duration::from_secs(1);

/// The first pause after a failed accept; it doubles up to [`MAX_PAUSE`].
const FIRST_PAUSE: Duration = Duration::from_millis(10);
const MAX_PAUSE: Duration = Duration::from_secs(1);

/// When keepalive probes start on a silent connection, and how often they repeat.
const KEEPALIVE_IDLE: Duration = Duration::from_secs(30);
const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(10);

/// True when `given` is `expected`. The time taken depends on the lengths alone, never
/// on where the first differing byte is.
pub fn token_matches(expected: &str, given: &[u8]) -> bool {
    expected.as_bytes().ct_eq(given).into()
}

/// The `listener` label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listener {
    Tcp,
    Http,
}

impl Label for Listener {
    const NAME: &'static str = "listener";

    fn all() -> impl Iterator<Item = Self> {
        [Listener::Tcp, Listener::Http].into_iter()
    }

    fn value(self) -> &'static str {
        match self {
            Listener::Tcp => "tcp",
            Listener::Http => "http",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Connections (TCP) and requests (HTTP) refused for a missing or wrong token.
#[derive(Clone)]
pub struct AuthFailures(ByLabel<Listener, IntCounter>);

impl AuthFailures {
    pub fn register(metrics: &Metrics) -> Self {
        AuthFailures(ByLabel::counters(
            metrics,
            "vakhsh_auth_failures_total",
            "Connections (TCP) and requests (HTTP) refused for a missing or wrong token, by listener.",
        ))
    }

    pub fn of(&self, listener: Listener) -> &IntCounter {
        self.0.get(listener)
    }
}

/// A listener whose `accept` never fails: on an error (EMFILE, ENFILE, ECONNABORTED …)
/// it pauses and tries again, logging once per run of errors, not once per error.
pub struct Acceptor {
    listener: TcpListener,
    /// `tcp` or `http`, for the log.
    name: &'static str,
    backoff: Backoff,
}

impl Acceptor {
    pub fn new(listener: TcpListener, name: &'static str) -> Self {
        Acceptor {
            listener,
            name,
            backoff: Backoff::default(),
        }
    }

    /// The next connection, with keepalive on. Cancel-safe.
    pub async fn accept(&mut self) -> (TcpStream, SocketAddr) {
        loop {
            match self.listener.accept().await {
                Ok((stream, peer)) => {
                    if let Some(errors) = self.backoff.succeeded() {
                        tracing::info!(listener = self.name, errors, "accepting connections again");
                    }
                    keepalive(&stream, self.name);
                    return (stream, peer);
                }
                Err(e) => {
                    let (pause, first) = self.backoff.failed();
                    if first {
                        tracing::warn!(
                            listener = self.name, error = %e,
                            "accepting a connection failed; pausing up to 1s between tries until it works"
                        );
                    }
                    tokio::time::sleep(pause).await;
                }
            }
        }
    }
}

fn keepalive(stream: &TcpStream, listener: &'static str) {
    let keepalive = socket2::TcpKeepalive::new()
        .with_time(KEEPALIVE_IDLE)
        .with_interval(KEEPALIVE_INTERVAL);
    if let Err(e) = socket2::SockRef::from(stream).set_tcp_keepalive(&keepalive) {
        tracing::debug!(listener, error = %e, "cannot enable TCP keepalive");
    }
}

/// Pauses between failed accepts: from [`FIRST_PAUSE`], doubling to [`MAX_PAUSE`],
/// back to the start after a success.
#[derive(Debug, Default)]
struct Backoff {
    /// The pause before the next try; `None` while accepting works.
    pause: Option<Duration>,
    /// Errors in the current run.
    errors: u64,
}

impl Backoff {
    /// The pause after one more error, and whether it begins a run of errors.
    fn failed(&mut self) -> (Duration, bool) {
        let first = self.pause.is_none();
        let pause = self.pause.map_or(FIRST_PAUSE, |p| (p * 2).min(MAX_PAUSE));
        self.pause = Some(pause);
        self.errors += 1;
        (pause, first)
    }

    /// Ends a run of errors; returns how many it had, if there was one.
    fn succeeded(&mut self) -> Option<u64> {
        self.pause.take()?;
        Some(std::mem::take(&mut self.errors))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pauses_double_to_a_second_and_reset_on_success() {
        let mut backoff = Backoff::default();
        assert_eq!(backoff.succeeded(), None, "no run of errors yet");
        assert_eq!(backoff.failed(), (FIRST_PAUSE, true));
        assert_eq!(backoff.failed(), (FIRST_PAUSE * 2, false));
        let pauses: Vec<_> = (0..10).map(|_| backoff.failed().0).collect();
        assert_eq!(pauses.last(), Some(&MAX_PAUSE));
        assert!(pauses.windows(2).all(|w| w[0] <= w[1]));
        assert_eq!(backoff.succeeded(), Some(12));
        assert_eq!(
            backoff.failed(),
            (FIRST_PAUSE, true),
            "a new run starts over"
        );
    }

    #[test]
    fn tokens_match_only_exactly() {
        assert!(token_matches("s3cret", b"s3cret"));
        assert!(!token_matches("s3cret", b"s3creT"));
        assert!(!token_matches("s3cret", b"s3cre"));
        assert!(!token_matches("s3cret", b"s3crets"));
        assert!(!token_matches("s3cret", b""));
    }
}
