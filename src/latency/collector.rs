//! The latency board on `/metrics`: a Prometheus collector that reads the merged
//! HdrHistograms at each scrape.
//!
//! It serves three families, all from the same samples:
//! - `vakhsh_stage_latency_seconds{stage}`, a histogram of the `ingest`, `schedule` and
//!   `sink` stages, with [`LATENCY_BUCKETS`];
//! - `vakhsh_ingest_to_decision_seconds`, the end-to-end histogram, same buckets;
//! - `vakhsh_stage_latency_hdr_seconds{stage,quantile}`, a summary of every stage whose
//!   quantiles cover the sliding window and whose `_sum` and `_count` cover the run, as
//!   the client libraries' summaries do, so that `rate()` works on them.
//!
//! The `prometheus` crate has no summary of its own, and filling its histograms from
//! the stages would cost an observation per event on the hot path; here the stages
//! record once, into their own histograms, and a scrape does the rest.

use super::{Latency, QUANTILES, Stage, StageLatency};
use hdrhistogram::Histogram;
use prometheus::core::{Collector, Desc};
use prometheus::proto::{self, MetricFamily, MetricType};

/// Latency buckets from 10 µs to 10 s: the pipeline's own work is microseconds, a
/// blocked sink or an overloaded host is seconds. The scheduler's solve time uses them
/// too.
pub const LATENCY_BUCKETS: [f64; 19] = [
    1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
    1.0, 2.5, 5.0, 10.0,
];

const STAGE_HISTOGRAM: &str = "vakhsh_stage_latency_seconds";
const END_TO_END_HISTOGRAM: &str = "vakhsh_ingest_to_decision_seconds";
const SUMMARY: &str = "vakhsh_stage_latency_hdr_seconds";

/// The stages of [`STAGE_HISTOGRAM`]; the end to end has its own family.
const PER_STAGE: [Stage; 3] = [Stage::Ingest, Stage::Schedule, Stage::Sink];

pub struct LatencyCollector {
    latency: Latency,
    descs: [Desc; 3],
}

impl LatencyCollector {
    pub fn new(latency: Latency) -> Self {
        let desc = |name: &str, help: &str, labels: &[&str]| {
            let labels = labels.iter().map(|l| l.to_string()).collect();
            Desc::new(name.into(), help.into(), labels, Default::default()).expect("valid metric")
        };
        LatencyCollector {
            latency,
            descs: [
                desc(
                    STAGE_HISTOGRAM,
                    "Wall time of each pipeline stage: ingest (line arrival to its batch applied and ticks released), schedule (tick released to decision built), sink (decision built to written).",
                    &["stage"],
                ),
                desc(
                    END_TO_END_HISTOGRAM,
                    "Wall time from the arrival of the event that made a tick due to its decision reaching the sinks.",
                    &[],
                ),
                desc(
                    SUMMARY,
                    "Stage latency from HdrHistograms (3 significant digits): quantiles over the last minute, sum and count since start.",
                    &["stage"],
                ),
            ],
        }
    }
}

impl Collector for LatencyCollector {
    fn desc(&self) -> Vec<&Desc> {
        self.descs.iter().collect()
    }

    fn collect(&self) -> Vec<MetricFamily> {
        let stages = self.latency.read();
        let of = |stage: Stage| &stages[stage as usize];
        let per_stage = PER_STAGE
            .iter()
            .map(|&s| labelled(s, histogram(of(s))))
            .collect();
        let end_to_end = vec![histogram(of(Stage::IngestToDecision))];
        let summaries = stages.iter().map(|s| labelled(s.stage, summary(s)));
        [
            (&self.descs[0], MetricType::HISTOGRAM, per_stage),
            (&self.descs[1], MetricType::HISTOGRAM, end_to_end),
            (&self.descs[2], MetricType::SUMMARY, summaries.collect()),
        ]
        .into_iter()
        .map(|(desc, kind, metrics)| {
            let mut family = MetricFamily::default();
            family.set_name(desc.fq_name.clone());
            family.set_help(desc.help.clone());
            family.set_field_type(kind);
            family.set_metric(metrics);
            family
        })
        .collect()
    }
}

fn labelled(stage: Stage, mut metric: proto::Metric) -> proto::Metric {
    let mut label = proto::LabelPair::default();
    label.set_name("stage".into());
    label.set_value(stage.as_str().into());
    metric.set_label(vec![label]);
    metric
}

fn seconds(us: u64) -> f64 {
    us as f64 / 1e6
}

/// A Prometheus histogram of everything since start. Each HDR bucket counts under the
/// highest value it holds, so a latency is never counted below its bucket.
fn histogram(stage: &StageLatency) -> proto::Metric {
    let mut counts = [0u64; LATENCY_BUCKETS.len()];
    for value in stage.total.iter_recorded() {
        let at = seconds(value.value_iterated_to());
        if let Some(bucket) = LATENCY_BUCKETS.iter().position(|&le| at <= le) {
            counts[bucket] += value.count_at_value();
        }
    }
    let mut cumulative = 0;
    let buckets = LATENCY_BUCKETS
        .iter()
        .zip(counts)
        .map(|(&le, count)| {
            cumulative += count;
            let mut bucket = proto::Bucket::default();
            bucket.set_upper_bound(le);
            bucket.set_cumulative_count(cumulative);
            bucket
        })
        .collect();
    let mut h = proto::Histogram::default();
    h.set_sample_count(stage.total.len());
    h.set_sample_sum(seconds(stage.total_us));
    h.set_bucket(buckets);
    let mut metric = proto::Metric::default();
    metric.set_histogram(h);
    metric
}

/// Quantiles of the window (NaN when it is empty, as Prometheus expects), sum and
/// count since start.
fn summary(stage: &StageLatency) -> proto::Metric {
    let quantiles = QUANTILES
        .iter()
        .map(|&q| {
            let mut quantile = proto::Quantile::default();
            quantile.set_quantile(q);
            quantile.set_value(value_at(&stage.window, q));
            quantile
        })
        .collect();
    let mut s = proto::Summary::default();
    s.set_sample_count(stage.total.len());
    s.set_sample_sum(seconds(stage.total_us));
    s.set_quantile(quantiles);
    let mut metric = proto::Metric::default();
    metric.set_summary(s);
    metric
}

fn value_at(h: &Histogram<u64>, q: f64) -> f64 {
    if h.is_empty() {
        f64::NAN
    } else {
        seconds(h.value_at_quantile(q))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use prometheus::{Encoder, Registry, TextEncoder};

    fn scrape(latency: &Latency) -> String {
        let registry = Registry::new();
        registry
            .register(Box::new(LatencyCollector::new(latency.clone())))
            .unwrap();
        let mut out = Vec::new();
        TextEncoder::new()
            .encode(&registry.gather(), &mut out)
            .unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn histograms_and_summaries_come_from_the_board() {
        let latency = Latency::new();
        let mut ingest = Histogram::new(3).unwrap();
        for us in [8, 9, 40, 3000] {
            ingest.record(us).unwrap();
        }
        let mut sink = Histogram::new(3).unwrap();
        sink.record(20_000).unwrap();
        let now = std::time::Instant::now();
        let mut board = latency.lock();
        board.fold(Stage::Ingest as usize, &ingest, 3057, now);
        board.fold(Stage::Sink as usize, &sink, 20_000, now);
        drop(board);
        let text = scrape(&latency);
        let has = |line: &str| assert!(text.lines().any(|l| l == line), "{line}\n{text}");
        has("# TYPE vakhsh_stage_latency_seconds histogram");
        has(r#"vakhsh_stage_latency_seconds_bucket{stage="ingest",le="0.00001"} 2"#);
        has(r#"vakhsh_stage_latency_seconds_bucket{stage="ingest",le="0.00005"} 3"#);
        has(r#"vakhsh_stage_latency_seconds_bucket{stage="ingest",le="0.0025"} 3"#);
        has(r#"vakhsh_stage_latency_seconds_bucket{stage="ingest",le="0.005"} 4"#);
        has(r#"vakhsh_stage_latency_seconds_bucket{stage="ingest",le="+Inf"} 4"#);
        has(r#"vakhsh_stage_latency_seconds_sum{stage="ingest"} 0.003057"#);
        has(r#"vakhsh_stage_latency_seconds_count{stage="schedule"} 0"#);
        has("# TYPE vakhsh_ingest_to_decision_seconds histogram");
        has("vakhsh_ingest_to_decision_seconds_count 0");
        has("# TYPE vakhsh_stage_latency_hdr_seconds summary");
        has(r#"vakhsh_stage_latency_hdr_seconds{stage="ingest",quantile="0.5"} 0.000009"#);
        has(r#"vakhsh_stage_latency_hdr_seconds{stage="ingest",quantile="0.999"} 0.003001"#);
        has(r#"vakhsh_stage_latency_hdr_seconds{stage="sink",quantile="0.9"} 0.020015"#);
        has(r#"vakhsh_stage_latency_hdr_seconds_count{stage="sink"} 1"#);
        has(r#"vakhsh_stage_latency_hdr_seconds{stage="schedule",quantile="0.99"} NaN"#);
        assert!(
            !text.contains(r#"vakhsh_stage_latency_seconds_bucket{stage="ingest_to_decision""#)
        );
    }
}
