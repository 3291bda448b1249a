//! The event log: every accepted event, in processing order, with its ingest
//! sequence, in append-only, checksummed segments that survive a crash.
//!
//! [`format`] is the bytes, [`segment`] the files, [`writer`] appending with a sync
//! policy and torn-tail repair, [`lock`] its one writer, [`reader`] reading back and
//! verifying, [`repair`] the way past damage before the end; [`export`] and [`verify`]
//! are `vakhsh log export` and `vakhsh log verify`.

pub mod export;
pub mod format;
pub mod lock;
pub mod reader;
pub mod repair;
pub mod segment;
pub mod verify;
pub mod writer;

pub use writer::{LogSettings, LogWriter, SyncPolicy};

#[cfg(test)]
mod tests {
    use super::format::{Dictionary, RecordEncoder};
    use super::reader::{self, Entry};
    use super::*;
    use crate::event::{Body, Event, Origin};
    use crate::grid::{DataCenterReading, Grid, LineReading, PlantReading};
    use crate::time::Timestamp;
    use proptest::prelude::*;
    use std::path::Path;
    use std::sync::Arc;

    fn grid() -> Grid {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/default.toml");
        crate::config::load(&path).unwrap().grid
    }

    fn settings(dir: &Path) -> LogSettings {
        LogSettings {
            dir: dir.to_path_buf(),
            sync: SyncPolicy::EachBatch,
            segment_bytes: 4096,
        }
    }

    /// How a writer under test reports its faults: to metrics and a status of its own.
    pub(super) fn retry(dir: &Path) -> crate::sink::retry::Retry {
        use crate::sink::retry::{OutputMetrics, Retry};
        use crate::status::OutputFile;
        let status = Arc::new(crate::status::DaemonStatus::default());
        let metrics = OutputMetrics::register(&crate::metrics::Metrics::new());
        Retry::new(OutputFile::EventLog, dir, &metrics, status)
    }

    fn events_of(path: &Path, grid: &Grid) -> Vec<(u64, Event)> {
        let mut out = Vec::new();
        for segment in reader::segments(path).unwrap() {
            reader::read_segment(&segment, grid, |entry| {
                if let Entry::Event { seq, event } = entry {
                    out.push((seq, event));
                }
            })
            .unwrap();
        }
        out
    }

    fn event_strategy(grid: &Grid) -> impl Strategy<Value = Event> + use<> {
        let (plants, loads, sites, lines, contracts) = (
            grid.plants.len(),
            grid.loads.len(),
            grid.data_centers.len(),
            grid.lines.len(),
            grid.contracts.len(),
        );
        // Within every configured capacity, so that the validating JSON decoder takes them.
        let mw = 0.0..15.0f64;
        let body = prop_oneof![
            (
                0..plants,
                mw.clone(),
                mw.clone(),
                proptest::option::of(800.0..1100.0f64),
                proptest::option::of(mw.clone())
            )
                .prop_map(
                    |(plant, output_mw, available_mw, reservoir_level_m, inflow_mw)| {
                        let reading = PlantReading {
                            output_mw,
                            available_mw,
                            reservoir_level_m,
                            inflow_mw,
                        };
                        Body::Generation { plant, reading }
                    }
                ),
            (0..loads, mw.clone()).prop_map(|(load, mw)| Body::Demand { load, mw }),
            (0..sites, mw.clone(), mw.clone()).prop_map(|(site, firm_mw, flexible_mw)| {
                let reading = DataCenterReading {
                    firm_mw,
                    flexible_mw,
                };
                Body::DcDemand { site, reading }
            }),
            (0..lines, any::<bool>(), proptest::option::of(mw.clone())).prop_map(
                |(line, in_service, derated_mw)| Body::LineStatus {
                    line,
                    reading: LineReading {
                        in_service,
                        derated_mw,
                    },
                }
            ),
            (0..contracts, proptest::option::of(mw))
                .prop_map(|(contract, mw)| Body::Nomination { contract, mw }),
            Just(Body::Heartbeat),
        ];
        let origin = proptest::option::of((
            prop_oneof![Just("scada-1"), Just("scada-2"), Just("sim")],
            prop_oneof![Just(0u64), any::<u64>()],
            any::<u64>(),
        ));
        (
            body,
            1_700_000_000_000_000i64..1_900_000_000_000_000,
            origin,
        )
            .prop_map(|(body, ts, origin)| Event {
                ts: Timestamp::from_micros(ts),
                origin: origin.map(|(source, epoch, seq)| Origin {
                    source: Arc::from(source),
                    epoch,
                    seq,
                }),
                body,
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        /// Native records and JSON lines both give back exactly the event written.
        #[test]
        fn events_survive_the_log_and_json(events in proptest::collection::vec(event_strategy(&grid()), 1..60)) {
            let grid = grid();
            let dir = tempfile::tempdir().unwrap();
            let (mut writer, opened) = LogWriter::open(settings(dir.path()), &grid, retry(dir.path())).unwrap();
            prop_assert_eq!(opened.last_seq, 0);
            let numbered: Vec<(u64, Event)> = events.iter().cloned().zip(1..).map(|(e, s)| (s, e)).collect();
            for chunk in numbered.chunks(7) {
                writer.append(chunk);
            }
            prop_assert_eq!(events_of(dir.path(), &grid), numbered);
            let mut decoder = crate::event::decode::EventDecoder::new(Arc::new(grid.clone()));
            for event in &events {
                let mut decoded = decoder.decode(event.to_json(&grid).as_bytes()).unwrap();
                if event.origin.is_none() && event.body == Body::Heartbeat {
                    decoded.origin = None;
                }
                prop_assert_eq!(&decoded, event);
            }
        }
    }

    /// A bad record with whole records after it, in the last segment, is damage, not a
    /// torn tail: the writer refuses to open and cuts nothing.
    #[test]
    fn damage_before_the_end_of_the_last_segment_is_not_cut() {
        let grid = grid();
        let dir = tempfile::tempdir().unwrap();
        let events: Vec<(u64, Event)> = (1..=20)
            .map(|i| {
                let event = Event {
                    ts: Timestamp::from_micros(i as i64),
                    origin: None,
                    body: Body::Heartbeat,
                };
                (i, event)
            })
            .collect();
        {
            let (mut writer, _) =
                LogWriter::open(settings(dir.path()), &grid, retry(dir.path())).unwrap();
            writer.append(&events);
        }
        let last = segment::list(dir.path()).unwrap().pop().unwrap();
        let mut bytes = std::fs::read(&last).unwrap();
        let flipped = bytes.len() - 60;
        bytes[flipped] ^= 0xff;
        std::fs::write(&last, &bytes).unwrap();

        let opened = LogWriter::open(settings(dir.path()), &grid, retry(dir.path()));
        let Err(writer::OpenError::Damaged(damage)) = opened else {
            panic!("opened a damaged log");
        };
        assert_eq!(damage.segment, last);
        assert!(damage.offset <= flipped as u64 && damage.error.contains("checksum"));
        assert_eq!(std::fs::read(&last).unwrap(), bytes, "nothing cut");
    }

    #[test]
    fn a_torn_tail_is_cut_at_its_offset_and_nothing_before_it_is_lost() {
        let grid = grid();
        let dir = tempfile::tempdir().unwrap();
        let event = |i: u64| Event {
            ts: Timestamp::from_micros(1_800_000_000_000_000 + i as i64),
            origin: Some(Origin {
                source: Arc::from("gw"),
                epoch: 0,
                seq: i,
            }),
            body: Body::Demand {
                load: (i % 9) as usize,
                mw: i as f64 / 3.0,
            },
        };
        let batch: Vec<(u64, Event)> = (1..=200).map(|i| (i, event(i))).collect();
        {
            let (mut writer, _) =
                LogWriter::open(settings(dir.path()), &grid, retry(dir.path())).unwrap();
            for chunk in batch.chunks(10) {
                writer.append(chunk);
            }
        }
        let segments = segment::list(dir.path()).unwrap();
        assert!(segments.len() > 2, "4 KiB segments rotate: {segments:?}");
        // A crash in the middle of a write: half a record at the end of the last segment.
        let last = segments.last().unwrap();
        let good_len = std::fs::metadata(last).unwrap().len();
        let mut torn = Vec::new();
        let anonymous = Event {
            origin: None,
            ..event(201)
        };
        RecordEncoder::default().encode(&mut torn, 201, &anonymous);
        let mut bytes = std::fs::read(last).unwrap();
        bytes.extend_from_slice(&torn[..torn.len() / 2]);
        std::fs::write(last, &bytes).unwrap();

        let verified = reader::verify(dir.path()).unwrap();
        let (path, offset, _) = verified.first_error.expect("verify finds the torn tail");
        assert_eq!((&path, offset), (last, good_len));

        let (mut writer, opened) =
            LogWriter::open(settings(dir.path()), &grid, retry(dir.path())).unwrap();
        assert_eq!(opened.last_seq, 200);
        assert_eq!(
            opened.cut.as_ref().map(|c| (&c.0, c.1)),
            Some((last, good_len))
        );
        writer.append(&[(201, event(201))]);
        let mut expected = batch;
        expected.push((201, event(201)));
        assert_eq!(events_of(dir.path(), &grid), expected);
        assert!(reader::verify(dir.path()).unwrap().first_error.is_none());
    }

    #[test]
    fn verify_reports_the_first_corrupt_byte() {
        let grid = grid();
        let dir = tempfile::tempdir().unwrap();
        let (mut writer, _) =
            LogWriter::open(settings(dir.path()), &grid, retry(dir.path())).unwrap();
        let events: Vec<(u64, Event)> = (1..=5)
            .map(|i| {
                (
                    i,
                    Event {
                        ts: Timestamp::from_micros(i as i64),
                        origin: None,
                        body: Body::Heartbeat,
                    },
                )
            })
            .collect();
        writer.append(&events);
        let segment = segment::list(dir.path()).unwrap().remove(0);
        let header_len = format::header(&Dictionary::of(&grid)).len() as u64;
        let mut bytes = std::fs::read(&segment).unwrap();
        let record_len = (bytes.len() as u64 - header_len) / 5;
        let third = header_len + 2 * record_len;
        bytes[third as usize + 12] ^= 0xff;
        std::fs::write(&segment, &bytes).unwrap();
        let verified = reader::verify(dir.path()).unwrap();
        assert_eq!(verified.records, 2);
        let (_, offset, message) = verified.first_error.unwrap();
        assert_eq!(offset, third);
        assert_eq!(message, "checksum mismatch");
    }

    #[test]
    fn the_record_format_is_stable() {
        let event = Event {
            ts: Timestamp::parse("2027-01-11T08:00:00Z").unwrap(),
            origin: Some(Origin {
                source: Arc::from("gw"),
                epoch: 0,
                seq: 7,
            }),
            body: Body::Demand { load: 8, mw: 420.5 },
        };
        let mut bytes = Vec::new();
        RecordEncoder::default().encode(&mut bytes, 42, &event);
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let golden = include_str!("../../tests/data/record.golden.hex").trim();
        assert_eq!(hex, golden);
    }
}
