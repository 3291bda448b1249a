//! The event log's writer task, and opening the log at start: a torn tail cut, the
//! state it implies rebuilt, the decision file rewritten from it.

use super::recover::{self, Recovered};
use super::{Plan, StageMetrics};
use crate::edge::message::Recorded;
use crate::log::writer::SyncedGauge;
use crate::log::{LogSettings, LogWriter};
use crate::sink;
use crate::sink::retry::Retry;
use crate::status::{DaemonStatus, OutputFile};
use anyhow::Context;
use async_channel::Receiver;
use std::io::Write;
use std::sync::Arc;

/// Opens the event log (cutting a torn tail), rebuilds the state it implies and
/// rewrites the decision file from it. Returns the recovered state, the writer, and
/// the ingest sequence of the next event.
pub fn open_log(
    settings: &LogSettings,
    plan: &Plan,
    metrics: &StageMetrics,
    status: &Arc<DaemonStatus>,
) -> anyhow::Result<(Recovered, LogWriter, u64)> {
    let dir = &settings.dir;
    let retry = Retry::new(OutputFile::EventLog, dir, &metrics.outputs, status.clone());
    let (writer, opened) = LogWriter::open(settings.clone(), &plan.grid, retry)?;
    let mut out: Box<dyn Write> = match &plan.outputs.decisions {
        Some(path) => Box::new(sink::create(path)?),
        None => Box::new(std::io::sink()),
    };
    let recovered = recover::recover(&plan.grid, dir, &mut out)
        .with_context(|| format!("cannot recover from the event log in {}", dir.display()))?;
    metrics.log_synced.set(opened.last_seq);
    tracing::info!(
        dir = %dir.display(), events = recovered.events, decisions = recovered.decisions,
        "recovered from the event log; recording accepted events"
    );
    if let Some(line) = &recovered.last_decision {
        status.publish(line);
    }
    Ok((recovered, writer, opened.last_seq + 1))
}

/// Appends accepted events to the log off the async threads, syncing as the policy
/// says — also when no new batch comes to trigger it. While the log cannot be written
/// the writer retries and this task takes no batch: its channel fills and holds ingest
/// back.
pub async fn run(
    mut writer: LogWriter,
    rx: Receiver<Recorded>,
    synced: SyncedGauge,
) -> anyhow::Result<()> {
    loop {
        let wait = writer.sync_due_in();
        let batch = tokio::select! {
            batch = rx.recv() => batch.ok(),
            _ = async { tokio::time::sleep(wait.unwrap_or_default()).await }, if wait.is_some() => None,
        };
        let closed = batch.is_none() && wait.is_none();
        let last = closed || (rx.is_closed() && rx.is_empty());
        writer = tokio::task::spawn_blocking(move || {
            match batch {
                // The receipts go when the events are written.
                Some(Recorded { events, receipts }) => {
                    writer.append(&events);
                    drop(receipts);
                }
                None => writer.sync(),
            }
            if last {
                writer.sync();
            }
            writer
        })
        .await?;
        synced.set(writer.synced_seq());
        if last {
            return Ok(());
        }
    }
}
