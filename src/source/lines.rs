//! Reading newline-delimited input with a line-size limit, in batches.
//!
//! A batch is sent when it is full or when the reader has nothing more buffered: the
//! lines already there travel together, and a line is never held back waiting for the
//! next one, so a busy stream moves in large batches and a quiet one without delay.

use crate::edge::Edge;
use crate::edge::message::{Batch, Input, RawLine};
use crate::edge::receipt::{Outcome, Receipt};
use crate::source::Limits;
use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;
use std::time::Instant;
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncRead, BufReader};

/// How much of an oversized line is kept for the dead-letter file.
const KEPT_OF_OVERSIZED: usize = 1024;
/// A batch is sent once its lines hold this many bytes, whatever their number: the
/// pipeline's edges are bounded in batches, so this bounds them in memory too when
/// lines are long.
const MAX_BATCH_BYTES: usize = 256 * 1024;

/// Why reading stopped.
#[derive(Debug, PartialEq, Eq)]
pub enum End {
    /// The input ended.
    Eof,
    /// The pipeline closed: it is shutting down.
    Closed,
}

/// Reads lines until EOF, sending them in batches of up to `limits.batch_size`. With a
/// `receipt` (an HTTP request's), every line counts as received on it and carries it,
/// so that the request learns how each was judged.
pub async fn forward<R: AsyncRead + Unpin>(
    reader: &mut BufReader<R>,
    origin: &Arc<str>,
    limits: Limits,
    tx: &Edge<Batch>,
    receipt: Option<&Arc<Receipt>>,
) -> std::io::Result<End> {
    let Limits {
        batch_size,
        max_line_bytes,
    } = limits;
    let mut batch = Vec::with_capacity(batch_size);
    let mut batch_bytes = 0;
    loop {
        let line = read_line(reader, origin, max_line_bytes).await?;
        let Some(mut line) = line else {
            return Ok(if send(tx, &mut batch).await {
                End::Eof
            } else {
                End::Closed
            });
        };
        if !line.bytes.is_empty() || line.too_large {
            if let Some(receipt) = receipt {
                receipt.count(Outcome::Received);
                line.receipt = Some(receipt.clone());
            }
            batch_bytes += line.bytes.len();
            batch.push(Input::Line(line));
        }
        // Only whole lines already there may join the batch: waiting on the socket here
        // would hold a persistent connection's lines until more arrive.
        let full = batch.len() >= batch_size || batch_bytes >= MAX_BATCH_BYTES;
        if full || !line_at_hand(reader).await? {
            batch_bytes = 0;
            if !send(tx, &mut batch).await {
                return Ok(End::Closed);
            }
        }
    }
}

/// Whether a whole line can be read without waiting: one is buffered, or, with the
/// buffer used up, the input has one ready now. Refilling here keeps a flood in full
/// batches across buffer boundaries; a quiet stream's line is never held back by it.
async fn line_at_hand<R: AsyncRead + Unpin>(reader: &mut BufReader<R>) -> std::io::Result<bool> {
    if !reader.buffer().is_empty() {
        return Ok(memchr(reader.buffer()).is_some());
    }
    std::future::poll_fn(|cx| match Pin::new(&mut *reader).poll_fill_buf(cx) {
        Poll::Ready(Ok(refilled)) => Poll::Ready(Ok(memchr(refilled).is_some())),
        Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
        Poll::Pending => Poll::Ready(Ok(false)),
    })
    .await
}

/// Sends a non-empty batch; false when the channel is closed.
async fn send(tx: &Edge<Batch>, batch: &mut Batch) -> bool {
    if batch.is_empty() {
        return true;
    }
    tx.send(std::mem::take(batch)).await.is_ok()
}

/// Reads one line (without `\n` or `\r\n`); `None` at EOF. A line over the limit is
/// consumed whole but only its beginning is kept.
pub async fn read_line<R: AsyncBufRead + Unpin>(
    reader: &mut R,
    origin: &Arc<str>,
    max_line_bytes: usize,
) -> std::io::Result<Option<RawLine>> {
    let mut bytes = Vec::new();
    let mut length = 0usize;
    let mut started = false;
    loop {
        let available = reader.fill_buf().await?;
        if available.is_empty() {
            if !started {
                return Ok(None);
            }
            break;
        }
        started = true;
        let (chunk, done) = match memchr(available) {
            Some(at) => (&available[..at], at + 1),
            None => (available, available.len()),
        };
        length += chunk.len();
        let room = (max_line_bytes + 1)
            .saturating_sub(bytes.len())
            .min(chunk.len());
        bytes.extend_from_slice(&chunk[..room]);
        let found_newline = done > chunk.len();
        reader.consume(done);
        if found_newline {
            break;
        }
    }
    if bytes.last() == Some(&b'\r') && length <= max_line_bytes + 1 {
        bytes.pop();
        length -= 1;
    }
    let too_large = length > max_line_bytes;
    if too_large {
        bytes.truncate(KEPT_OF_OVERSIZED);
    }
    Ok(Some(RawLine {
        bytes,
        too_large,
        origin: origin.clone(),
        arrived: Instant::now(),
        receipt: None,
    }))
}

fn memchr(haystack: &[u8]) -> Option<usize> {
    memchr::memchr(b'\n', haystack)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEST_LIMITS: Limits = Limits {
        batch_size: 256,
        max_line_bytes: 100,
    };

    async fn lines(input: &[u8], max: usize) -> Vec<(String, bool)> {
        let mut reader = BufReader::with_capacity(4, input);
        let origin: Arc<str> = Arc::from("test");
        let mut out = Vec::new();
        while let Some(line) = read_line(&mut reader, &origin, max).await.unwrap() {
            out.push((String::from_utf8(line.bytes).unwrap(), line.too_large));
        }
        out
    }

    /// A connection that stays open: each line must reach the pipeline before the next
    /// one is written, whether it arrives alone or after half a line.
    #[tokio::test]
    async fn a_line_is_sent_without_waiting_for_the_next() {
        let (mut client, server) = tokio::io::duplex(1024);
        let (tx, rx) = async_channel::bounded(16);
        let blocked = prometheus::Counter::new("blocked", "test").unwrap();
        let tx = Edge::new(tx, blocked);
        let reader = tokio::spawn(async move {
            let mut reader = BufReader::new(server);
            forward(&mut reader, &Arc::from("test"), TEST_LIMITS, &tx, None).await
        });
        use tokio::io::AsyncWriteExt;
        for (written, expected) in [
            ("a\n", vec!["a"]),
            ("b\nc", vec!["b"]),
            ("\nd\n", vec!["c", "d"]),
        ] {
            client.write_all(written.as_bytes()).await.unwrap();
            let mut got = Vec::new();
            while got.len() < expected.len() {
                for input in rx.recv().await.unwrap() {
                    let Input::Line(line) = input else {
                        panic!("not a line")
                    };
                    got.push(String::from_utf8(line.bytes).unwrap());
                }
            }
            assert_eq!(got, expected, "after writing {written:?}");
        }
        drop(client);
        assert_eq!(reader.await.unwrap().unwrap(), End::Eof);
    }

    #[tokio::test]
    async fn splits_lines_and_cuts_oversized_ones() {
        let got = lines(b"ab\r\ncdefghij\n\nxyz", 5).await;
        let want = [("ab", false), ("cdefgh", true), ("", false), ("xyz", false)];
        let want: Vec<_> = want.iter().map(|(s, b)| (s.to_string(), *b)).collect();
        assert_eq!(got, want);
        assert!(lines(b"12345\n123456\n", 5).await[1].1);
        assert_eq!(
            lines(b"12345\r\n", 5).await,
            vec![("12345".to_string(), false)]
        );
    }
}
