//! Reading newline-delimited input with a line-size limit, in batches.
//!
//! A batch is sent when it is full or when the reader has nothing more buffered, so
//! a busy stream travels in large batches and a quiet one without delay.

use super::{Batch, Input, RawLine};
use crate::edge::Edge;
use std::sync::Arc;
use std::time::Instant;
use tokio::io::{AsyncBufRead, AsyncBufReadExt};

/// The line-size limit of sources that have no `max_line_bytes` of their own (files,
/// stdin, and HTTP when TCP is off): the 64 KiB events are promised.
pub const DEFAULT_MAX_LINE_BYTES: usize = 64 * 1024;

/// How much of an oversized line is kept for the dead-letter file.
const KEPT_OF_OVERSIZED: usize = 1024;

/// Why reading stopped.
#[derive(Debug, PartialEq, Eq)]
pub enum End {
    /// The input ended.
    Eof,
    /// The pipeline closed: it is shutting down.
    Closed,
}

/// Reads lines until EOF, sending them in batches of up to `batch_size`.
pub async fn forward<R: AsyncBufRead + Unpin>(
    reader: &mut R,
    origin: &Arc<str>,
    max_line_bytes: usize,
    batch_size: usize,
    tx: &Edge<Batch>,
) -> std::io::Result<End> {
    let mut batch = Vec::with_capacity(batch_size);
    loop {
        let line = read_line(reader, origin, max_line_bytes).await?;
        let Some(line) = line else {
            return Ok(if send(tx, &mut batch).await {
                End::Eof
            } else {
                End::Closed
            });
        };
        if !line.bytes.is_empty() || line.too_large {
            batch.push(Input::Line(line));
        }
        if (batch.len() >= batch_size || reader.fill_buf().await?.is_empty())
            && !send(tx, &mut batch).await
        {
            return Ok(End::Closed);
        }
    }
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
    haystack.iter().position(|&b| b == b'\n')
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::BufReader;

    async fn lines(input: &[u8], max: usize) -> Vec<(String, bool)> {
        let mut reader = BufReader::with_capacity(4, input);
        let origin: Arc<str> = Arc::from("test");
        let mut out = Vec::new();
        while let Some(line) = read_line(&mut reader, &origin, max).await.unwrap() {
            out.push((String::from_utf8(line.bytes).unwrap(), line.too_large));
        }
        out
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
