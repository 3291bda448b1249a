//! The decode stage: lines become events, checked against the grid; refused lines go
//! to the dead letters with their reason. Events read back from the native log were
//! checked when they were recorded and pass through.

use super::timing::Timing;
use crate::edge::Edge;
use crate::edge::message::{Batch, Decoded, Input};
use crate::edge::receipt::{self, Outcome};
use crate::event::decode::Decoder;
use crate::grid::Grid;
use crate::metrics::Metrics;
use crate::reject::{DeadLetter, Reason};
use async_channel::Receiver;
use std::sync::Arc;

pub async fn run(
    grid: Arc<Grid>,
    rx: Receiver<Batch>,
    tx: Edge<Vec<Decoded>>,
    dead: Edge<DeadLetter>,
    metrics: Metrics,
    timing: Timing,
) -> anyhow::Result<()> {
    let mut decoder = Decoder::new(grid);
    while let Ok(batch) = rx.recv().await {
        let mut out = Vec::with_capacity(batch.len());
        for input in batch {
            let refused = match input {
                Input::Line(raw) => {
                    let result = if raw.too_large {
                        Err((
                            Reason::TooLarge,
                            None,
                            "line longer than the limit".to_string(),
                        ))
                    } else {
                        decoder
                            .decode(&raw.bytes)
                            .map_err(|e| (e.reason, e.event_type, e.detail))
                    };
                    match result {
                        Ok(event) => {
                            let (origin, arrived) = (raw.origin, raw.arrived);
                            Ok(Decoded {
                                event,
                                origin,
                                arrived,
                                line: Some(raw.bytes),
                                receipt: raw.receipt,
                            })
                        }
                        Err((reason, event_type, detail)) => {
                            receipt::count(&raw.receipt, Outcome::Rejected);
                            let raw_text = String::from_utf8_lossy(&raw.bytes).into_owned();
                            Err((
                                event_type,
                                DeadLetter {
                                    reason,
                                    detail,
                                    origin: raw.origin,
                                    raw: raw_text,
                                },
                            ))
                        }
                    }
                }
                Input::Logged {
                    event,
                    origin,
                    arrived,
                } => Ok(Decoded {
                    event,
                    origin,
                    arrived,
                    line: None,
                    receipt: None,
                }),
                Input::Unmapped {
                    event_type,
                    detail,
                    origin,
                } => {
                    let letter = DeadLetter {
                        reason: Reason::UnknownId,
                        detail,
                        origin,
                        raw: String::new(),
                    };
                    Err((Some(event_type), letter))
                }
            };
            match refused {
                Ok(decoded) if !timing.admits(decoded.event.ts) => {}
                Ok(decoded) => {
                    metrics
                        .events(Some(decoded.event.body.event_type()))
                        .received
                        .inc();
                    out.push(decoded);
                }
                Err((event_type, letter)) => {
                    let counters = metrics.events(event_type);
                    counters.received.inc();
                    counters.rejected(letter.reason).inc();
                    let _ = dead.send(letter).await;
                }
            }
        }
        if !out.is_empty() && tx.send(out).await.is_err() {
            break;
        }
    }
    Ok(())
}
