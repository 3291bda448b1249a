//! The decode stage: lines become events, checked against the grid; refused lines go
//! to the dead letters with their reason. Events read back from the native log were
//! checked when they were recorded and pass through.

use super::timing::Timing;
use crate::edge::Edge;
use crate::edge::message::{Batch, Decoded, Input};
use crate::edge::receipt::{self, Outcome};
use crate::event::RejectReason;
use crate::event::counters::EventCounters;
use crate::event::decode::EventDecoder;
use crate::event::reject::{DeadLetter, Rejection};
use crate::grid::Grid;
use async_channel::Receiver;
use std::sync::Arc;

pub async fn run(
    grid: Arc<Grid>,
    rx: Receiver<Batch>,
    tx: Edge<Vec<Decoded>>,
    dead: Edge<DeadLetter>,
    counters: EventCounters,
    timing: Timing,
) -> anyhow::Result<()> {
    let mut decoder = EventDecoder::new(grid);
    while let Ok(batch) = rx.recv().await {
        let mut out = Vec::with_capacity(batch.len());
        for input in batch {
            let refused = match input {
                Input::Line(raw) => {
                    let result = if raw.too_large {
                        Err((
                            RejectReason::TooLarge,
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
                            Err(Rejection {
                                event_type,
                                reason,
                                detail,
                                origin: raw.origin,
                                raw: String::from_utf8_lossy(&raw.bytes).into_owned(),
                            })
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
                } => Err(Rejection {
                    event_type: Some(event_type),
                    reason: RejectReason::UnknownId,
                    detail,
                    origin,
                    raw: String::new(),
                }),
            };
            match refused {
                Ok(decoded) if !timing.admits(decoded.event.ts) => {}
                Ok(decoded) => {
                    let event_type = decoded.event.body.event_type();
                    counters.of(Some(event_type)).received.inc();
                    out.push(decoded);
                }
                Err(rejection) => {
                    counters.of(rejection.event_type).received.inc();
                    let _ = dead.send(rejection.letter(&counters)).await;
                }
            }
        }
        if !out.is_empty() && tx.send(out).await.is_err() {
            break;
        }
    }
    Ok(())
}
