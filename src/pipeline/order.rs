//! The ordering core of the pipeline: duplicates, lateness, the watermark, and ticks.
//!
//! Accepted events wait in a reorder buffer until the watermark (newest accepted
//! event time − `allowed_lateness`) passes the tick boundary they precede; the tick at
//! boundary B is then evaluated on the state made by the events with `ts` < B. The
//! buffer keeps, per tick and per object, only the newest reading — the only one
//! that tick can see — so its size is bounded by (lateness ÷ interval) × objects,
//! whatever the input rate.

use crate::event::RejectReason;
use crate::event::{Body, Event, Origin, Subject};
use crate::grid::{Grid, Telemetry};
use crate::time::{Timestamp, micros};
use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::sync::Arc;

/// What became of an offered event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Accepted,
    Duplicate,
    Rejected(RejectReason),
}

/// The most ticks evaluated one by one across a jump in event time: an hour of
/// 1-second ticks. Earlier ticks of a longer jump are skipped.
const MAX_FILLED_TICKS: i64 = 3600;

pub struct Ingest {
    grid: Arc<Grid>,
    state: Telemetry,
    /// (boundary the event precedes, the object it reports on) → the newest such reading and its time.
    pending: BTreeMap<(Timestamp, (Subject, usize)), (Timestamp, Body)>,
    dedupe: Dedupe,
    newest: Option<Timestamp>,
    /// The next tick boundary to evaluate; `None` before the first event.
    next_tick: Option<Timestamp>,
}

impl Ingest {
    pub fn new(grid: Arc<Grid>) -> Self {
        Ingest {
            state: Telemetry::new(&grid),
            grid,
            pending: BTreeMap::new(),
            dedupe: Dedupe::default(),
            newest: None,
            next_tick: None,
        }
    }

    /// The newest accepted event time, the reference a replay of event files judges
    /// `too_far_ahead` against.
    pub fn newest(&self) -> Option<Timestamp> {
        self.newest
    }

    /// The newest accepted event time minus the allowed lateness.
    pub fn watermark(&self) -> Option<Timestamp> {
        self.newest
            .map(|n| n.saturating_sub(self.grid.time.allowed_lateness))
    }

    /// Checks and buffers one decoded event. `now` is what "the present" means for the
    /// `too_far_ahead` check: the wall clock for live sources, the newest accepted event
    /// time in a replay of event files (which must not depend on when it runs), and
    /// `None` for events read back from the log, which were judged when recorded. Only
    /// the reading is kept, so the caller keeps the event (to record it, or to say what
    /// was refused).
    pub fn offer(&mut self, event: &Event, now: Option<Timestamp>) -> Verdict {
        if let Some(origin) = &event.origin
            && self.dedupe.seen(origin, event.ts)
        {
            return Verdict::Duplicate;
        }
        if self.watermark().is_some_and(|w| event.ts < w) {
            return Verdict::Rejected(RejectReason::Late);
        }
        if let Some(now) = now
            && event.ts > now.saturating_add(self.grid.time.max_ahead)
        {
            return Verdict::Rejected(RejectReason::TooFarAhead);
        }
        if let Some(origin) = &event.origin {
            self.dedupe.record(origin, event.ts);
        }
        self.newest = Some(self.newest.map_or(event.ts, |n| n.max(event.ts)));
        let interval = self.grid.schedule.interval;
        if interval.is_zero() {
            event.body.apply_to(&mut self.state);
            self.next_tick = Some(event.ts);
            return Verdict::Accepted;
        }
        if self.next_tick.is_none() {
            self.next_tick = Some(event.ts.next_boundary(interval));
        }
        if let Some(target) = event.body.subject() {
            let key = (event.ts.next_boundary(interval), target);
            match self.pending.get(&key) {
                Some((held, _)) if *held > event.ts => {}
                _ => {
                    self.pending.insert(key, (event.ts, event.body));
                }
            }
        }
        Verdict::Accepted
    }

    /// Evaluates every tick the watermark has reached, in order, calling `tick` with
    /// each boundary and the state it sees.
    pub fn run_ticks(&mut self, mut tick: impl FnMut(Timestamp, &Telemetry)) {
        let interval = self.grid.schedule.interval;
        let Some(mut next) = self.next_tick else {
            return;
        };
        if interval.is_zero() {
            tick(next, &self.state);
            self.next_tick = None;
            return;
        }
        let Some(watermark) = self.watermark() else {
            return;
        };
        // A jump in event time is not filled tick by tick beyond [`MAX_FILLED_TICKS`]:
        // the ticks in between see no new event, and each one costs a schedule and a
        // copy of the state. The bound is in ticks of the configured interval, not tied
        // to `max_ahead`, so that replaying with a larger `max_ahead` decides the same.
        let span = micros(interval).saturating_mul(MAX_FILLED_TICKS);
        if watermark.micros_since(next) > span {
            next = Timestamp::from_micros(watermark.as_micros().saturating_sub(span))
                .next_boundary(interval);
        }
        while next <= watermark {
            while let Some(entry) = self.pending.first_entry() {
                if entry.key().0 > next {
                    break;
                }
                entry.remove().1.apply_to(&mut self.state);
            }
            tick(next, &self.state);
            next = next.saturating_add(interval);
        }
        self.next_tick = Some(next);
    }
}

/// Remembers, per sender, which sequence numbers were accepted: the current epoch, the
/// highest number in it with its event time, and a window of the [`WINDOW`] numbers
/// below that. A line of an earlier epoch, or further back than the window, is told
/// apart by its time: no newer than the highest number's event, it is an old line sent
/// again and counts as seen; newer, the sender has restarted its numbering without
/// saying so (or once sent a wild number or epoch), and the window starts again from
/// it, so no single line can silence a sender.
#[derive(Default)]
struct Dedupe {
    /// Looked up for every event with an origin, so hashed with foldhash: several times
    /// quicker than SipHash on a short name, and still seeded per process; the map
    /// holds at most [`MAX_SENDERS`].
    senders: foldhash::HashMap<Arc<str>, SeqWindow>,
    /// Arrival counter, to evict the least recently heard sender when full.
    clock: u64,
}

const WINDOW: u64 = 1024;
/// Senders remembered at once; beyond this the least recently heard are forgotten.
const MAX_SENDERS: usize = 4096;
/// How many senders are forgotten together when the table is full.
const FORGOTTEN_AT_ONCE: usize = MAX_SENDERS / 8;

/// Where one line stands in its sender's numbering.
#[derive(Debug, Clone, Copy)]
struct Mark {
    epoch: u64,
    seq: u64,
    ts: Timestamp,
}

impl Mark {
    fn of(origin: &Origin, ts: Timestamp) -> Self {
        Mark {
            epoch: origin.epoch,
            seq: origin.seq,
            ts,
        }
    }
}

struct SeqWindow {
    epoch: u64,
    highest: u64,
    /// Event time of the line that set `highest`.
    highest_ts: Timestamp,
    /// A ring: bit `seq % WINDOW` set means `seq` was accepted, for the [`WINDOW`]
    /// numbers up to `highest`. Moving `highest` on clears only the slots it passes.
    bits: [u64; (WINDOW / 64) as usize],
    heard: u64,
}

impl SeqWindow {
    /// A window holding only `mark`.
    fn starting_at(mark: Mark, heard: u64) -> Self {
        let mut window = SeqWindow {
            epoch: mark.epoch,
            highest: mark.seq,
            highest_ts: mark.ts,
            bits: [0; (WINDOW / 64) as usize],
            heard,
        };
        let (word, bit) = slot(mark.seq);
        window.bits[word] |= bit;
        window
    }

    /// Further back than the window reaches: a number it cannot answer for by bits.
    fn beyond(&self, seq: u64) -> bool {
        seq < self.highest && self.highest - seq >= WINDOW
    }

    fn contains(&self, mark: Mark) -> bool {
        // What the window cannot answer for by its bits is told apart by time: an old
        // line sent again keeps its old time, a restarted sender's is newer.
        let sent_again = mark.ts <= self.highest_ts;
        match mark.epoch.cmp(&self.epoch) {
            Ordering::Greater => false,
            Ordering::Less => sent_again,
            Ordering::Equal if mark.seq > self.highest => false,
            Ordering::Equal if self.beyond(mark.seq) => sent_again,
            Ordering::Equal => {
                let (word, bit) = slot(mark.seq);
                self.bits[word] & bit != 0
            }
        }
    }

    /// Records an accepted `mark` (one [`SeqWindow::contains`] said was new).
    fn insert(&mut self, mark: Mark) {
        if mark.epoch != self.epoch || self.beyond(mark.seq) {
            *self = SeqWindow::starting_at(mark, self.heard);
            return;
        }
        if mark.seq > self.highest {
            if mark.seq - self.highest >= WINDOW {
                self.bits = [0; (WINDOW / 64) as usize];
            } else {
                // The numbers the window moves onto take the slots of those it leaves.
                for passed in self.highest + 1..=mark.seq {
                    let (word, bit) = slot(passed);
                    self.bits[word] &= !bit;
                }
            }
            self.highest = mark.seq;
            self.highest_ts = mark.ts;
        }
        let (word, bit) = slot(mark.seq);
        self.bits[word] |= bit;
    }
}

/// The word and bit of `seq`'s slot in a [`SeqWindow`] ring.
fn slot(seq: u64) -> (usize, u64) {
    let at = seq % WINDOW;
    ((at / 64) as usize, 1 << (at % 64))
}

impl Dedupe {
    fn seen(&self, origin: &Origin, ts: Timestamp) -> bool {
        self.senders
            .get(&origin.source)
            .is_some_and(|w| w.contains(Mark::of(origin, ts)))
    }

    /// Forgets the [`FORGOTTEN_AT_ONCE`] senders heard least recently. Doing it in bulk
    /// keeps a flood of new names from costing a scan of the whole table per event.
    fn forget_least_recent(&mut self) {
        let mut heard: Vec<u64> = self.senders.values().map(|w| w.heard).collect();
        let (_, &mut newest_forgotten, _) = heard.select_nth_unstable(FORGOTTEN_AT_ONCE - 1);
        // `heard` is an arrival counter, so no two senders share a value.
        self.senders.retain(|_, w| w.heard > newest_forgotten);
    }

    fn record(&mut self, origin: &Origin, ts: Timestamp) {
        self.clock += 1;
        let mark = Mark::of(origin, ts);
        if let Some(window) = self.senders.get_mut(&origin.source) {
            window.heard = self.clock;
            window.insert(mark);
            return;
        }
        if self.senders.len() >= MAX_SENDERS {
            self.forget_least_recent();
        }
        let window = SeqWindow::starting_at(mark, self.clock);
        self.senders.insert(origin.source.clone(), window);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::decode::EventDecoder;
    use std::path::Path;

    fn grid() -> Arc<Grid> {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/default.toml");
        Arc::new(crate::config::load(&path).unwrap().grid)
    }

    fn demand(d: &mut EventDecoder, ts: &str, mw: f64, seq: u64) -> Event {
        let line = format!(
            r#"{{"type":"demand","ts":"2027-01-11T00:00:{ts}Z","load":"talco","mw":{mw},"source":"s","seq":{seq}}}"#
        );
        d.decode(line.as_bytes()).unwrap()
    }

    /// Offers events and returns (tick second, talco demand seen) for every tick.
    fn ticks(ingest: &mut Ingest) -> Vec<(i64, f64)> {
        let mut seen = Vec::new();
        let talco = ingest.grid.index.loads["talco"];
        ingest.run_ticks(|ts, state| {
            seen.push((ts.as_micros() / 1_000_000 % 60, state.loads[talco]))
        });
        seen
    }

    #[test]
    fn a_tick_sees_only_events_before_its_boundary() {
        let grid = grid();
        let mut d = EventDecoder::new(grid.clone());
        let mut ingest = Ingest::new(grid);
        assert_eq!(
            ingest.offer(&demand(&mut d, "00.5", 100.0, 1), None),
            Verdict::Accepted
        );
        assert_eq!(
            ingest.offer(&demand(&mut d, "01.5", 200.0, 2), None),
            Verdict::Accepted
        );
        assert!(
            ticks(&mut ingest).is_empty(),
            "watermark 1.5 - 2 s has reached no boundary"
        );
        // Out of order but within the lateness: it belongs before tick 1.
        assert_eq!(
            ingest.offer(&demand(&mut d, "00.7", 150.0, 3), None),
            Verdict::Accepted
        );
        assert_eq!(
            ingest.offer(&demand(&mut d, "04.2", 400.0, 4), None),
            Verdict::Accepted
        );
        // Watermark 2.2: ticks 1 and 2.
        assert_eq!(ticks(&mut ingest), vec![(1, 150.0), (2, 200.0)]);
        assert_eq!(
            ingest.offer(&demand(&mut d, "02.1", 1.0, 5), None),
            Verdict::Rejected(RejectReason::Late)
        );
        assert_eq!(
            ingest.offer(&demand(&mut d, "04.2", 400.0, 4), None),
            Verdict::Duplicate
        );
        assert_eq!(
            ingest.offer(&demand(&mut d, "07.0", 700.0, 6), None),
            Verdict::Accepted
        );
        assert_eq!(ticks(&mut ingest), vec![(3, 200.0), (4, 200.0), (5, 400.0)]);
    }

    #[test]
    fn refuses_events_too_far_beyond_the_wall_clock() {
        let grid = grid();
        let mut d = EventDecoder::new(grid.clone());
        let mut ingest = Ingest::new(grid);
        let wall = Timestamp::parse("2027-01-10T22:00:00Z");
        let verdict = ingest.offer(&demand(&mut d, "00.0", 1.0, 1), wall);
        assert_eq!(verdict, Verdict::Rejected(RejectReason::TooFarAhead));
        assert_eq!(
            ingest.offer(&demand(&mut d, "00.0", 1.0, 1), None),
            Verdict::Accepted
        );
    }

    fn mark(epoch: u64, seq: u64, second: i64) -> Mark {
        Mark {
            epoch,
            seq,
            ts: Timestamp::from_micros(second * 1_000_000),
        }
    }

    #[test]
    fn dedupe_window_tracks_recent_sequence_numbers() {
        let mut w = SeqWindow::starting_at(mark(0, 10, 1), 0);
        w.insert(mark(0, 8, 1));
        let seen = |w: &SeqWindow, seq| w.contains(mark(0, seq, 2));
        assert!(seen(&w, 10) && seen(&w, 8) && !seen(&w, 9));
        w.insert(mark(0, 100, 2));
        assert!(seen(&w, 10) && seen(&w, 8) && !seen(&w, 9) && seen(&w, 100));
        w.insert(mark(0, 100 + WINDOW, 3));
        assert!(w.contains(mark(0, 100 + WINDOW, 3)) && !w.contains(mark(0, 99 + WINDOW, 3)));
        assert!(
            w.contains(mark(0, 100, 2)),
            "beyond the window and no newer than the highest: sent again"
        );
        assert!(
            !w.contains(mark(0, 100, 4)),
            "beyond the window and newer: a restarted numbering"
        );
        w.insert(mark(0, 3, 4));
        assert!(w.contains(mark(0, 3, 4)) && !w.contains(mark(0, 100 + WINDOW, 5)));
        w.insert(mark(2, 0, 5));
        assert!(w.contains(mark(2, 0, 5)) && !w.contains(mark(2, 3, 5)));
        assert!(
            w.contains(mark(0, 3, 5)) && w.contains(mark(1, 77, 4)),
            "an earlier epoch no newer than the highest line: sent again"
        );
        assert!(
            !w.contains(mark(0, 3, 6)),
            "an earlier epoch and newer: the epoch was wild, or the sender's memory lost"
        );
        w.insert(mark(0, 3, 6));
        assert!(w.contains(mark(0, 3, 6)) && !w.contains(mark(2, 0, 7)));
    }

    /// The table of senders stays bounded, and the ones heard most recently stay in it.
    #[test]
    fn the_least_recently_heard_senders_are_forgotten() {
        let mut dedupe = Dedupe::default();
        let origin = |n: usize| Origin {
            source: Arc::from(format!("gw-{n}")),
            epoch: 0,
            seq: 1,
        };
        let at = Timestamp::from_micros(0);
        for n in 0..MAX_SENDERS * 3 {
            dedupe.record(&origin(n), at);
            // One sender speaks all along and is never forgotten.
            dedupe.record(&origin(0), at);
            assert!(dedupe.senders.len() <= MAX_SENDERS);
        }
        assert!(dedupe.seen(&origin(0), at));
        assert!(dedupe.seen(&origin(MAX_SENDERS * 3 - 1), at));
        assert!(
            !dedupe.seen(&origin(MAX_SENDERS), at),
            "heard long ago: forgotten"
        );
    }

    /// A wild epoch does not silence its sender either.
    #[test]
    fn a_wild_epoch_does_not_silence_a_sender() {
        let grid = grid();
        let mut d = EventDecoder::new(grid.clone());
        let mut ingest = Ingest::new(grid);
        let mut line = |ts: &str, epoch: u64, seq: u64| {
            let line = format!(
                r#"{{"type":"demand","ts":"2027-01-11T00:00:{ts}Z","load":"talco","mw":1,"source":"s","epoch":{epoch},"seq":{seq}}}"#
            );
            d.decode(line.as_bytes()).unwrap()
        };
        assert_eq!(ingest.offer(&line("00.0", 0, 1), None), Verdict::Accepted);
        assert_eq!(
            ingest.offer(&line("00.1", u64::MAX, 2), None),
            Verdict::Accepted
        );
        assert_eq!(ingest.offer(&line("00.2", 0, 3), None), Verdict::Accepted);
        assert_eq!(ingest.offer(&line("00.2", 0, 3), None), Verdict::Duplicate);
        assert_eq!(ingest.offer(&line("00.3", 0, 4), None), Verdict::Accepted);
    }

    /// A wild number does not silence its sender: the next number from its own range
    /// starts the window again, and repeats of it are caught from then on.
    #[test]
    fn a_wild_sequence_number_does_not_silence_a_sender() {
        let grid = grid();
        let mut d = EventDecoder::new(grid.clone());
        let mut ingest = Ingest::new(grid);
        let wild = demand(&mut d, "00.0", 1.0, u64::MAX);
        assert_eq!(ingest.offer(&wild, None), Verdict::Accepted);
        let next = demand(&mut d, "00.1", 2.0, 5);
        assert_eq!(ingest.offer(&next, None), Verdict::Accepted);
        assert_eq!(ingest.offer(&next, None), Verdict::Duplicate);
        assert_eq!(
            ingest.offer(&demand(&mut d, "00.2", 3.0, 6), None),
            Verdict::Accepted
        );
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(300))]

            /// For lines that come in time order, the window answers as a set of every
            /// number inserted would, within [`WINDOW`] of the highest; further back a
            /// newer line is a restart, and a number inserted from there starts the set
            /// again.
            #[test]
            fn the_dedupe_window_remembers_what_a_set_would(
                steps in proptest::collection::vec((0u64..3000, any::<bool>()), 1..300)
            ) {
                let mut window = SeqWindow::starting_at(mark(0, 0, 0), 0);
                let mut inserted = std::collections::BTreeSet::from([0]);
                for (step, (seq, insert)) in (1..).zip(steps) {
                    let highest = *inserted.last().unwrap();
                    if insert && !window.contains(mark(0, seq, step)) {
                        window.insert(mark(0, seq, step));
                        if seq < highest && highest - seq >= WINDOW {
                            inserted.clear();
                        }
                        inserted.insert(seq);
                    }
                    let highest = *inserted.last().unwrap();
                    for probe in seq.saturating_sub(WINDOW + 2)..seq + 2 {
                        let model = probe <= highest
                            && highest - probe < WINDOW
                            && inserted.contains(&probe);
                        prop_assert_eq!(window.contains(mark(0, probe, step + 1)), model, "probe {}", probe);
                        // A line sent again keeps its old time: from beyond the window
                        // it is a repeat, never a restart.
                        let beyond = probe < highest && highest - probe >= WINDOW;
                        prop_assert_eq!(window.contains(mark(0, probe, 0)), model || beyond, "old probe {}", probe);
                    }
                }
            }

            /// Whatever the arrival order, each tick sees, for every load, the accepted
            /// reading with the latest `ts` (the later arrival on a tie) among those
            /// before its boundary — what a naive model keeping every event computes.
            #[test]
            fn ticks_see_the_newest_reading_before_their_boundary(
                offsets in proptest::collection::vec((0u64..40_000, 0usize..3, 0u32..1000, any::<bool>()), 1..120)
            ) {
                let grid = grid();
                let mut decoder = EventDecoder::new(grid.clone());
                let mut ingest = Ingest::new(grid.clone());
                let loads = ["talco", "north-industry", "south-industry"];
                let mut accepted: Vec<(Timestamp, usize, usize, f64)> = Vec::new();
                let mut newest_ts = 0u64;
                for (arrival, (millis, load, mw, repeat)) in offsets.into_iter().enumerate() {
                    // Keep most events near the newest so that some are in time and some late.
                    let ts_ms = if millis % 5 == 0 { millis } else { newest_ts.saturating_sub(millis % 2500) + millis % 700 };
                    newest_ts = newest_ts.max(ts_ms);
                    let seq = if repeat && arrival > 0 { arrival as u64 - 1 } else { arrival as u64 };
                    let line = format!(
                        r#"{{"type":"demand","ts":"{}","load":"{}","mw":{mw},"source":"p","seq":{seq}}}"#,
                        Timestamp::from_micros(1_800_000_000_000_000 + ts_ms as i64 * 1000),
                        loads[load]
                    );
                    let event = decoder.decode(line.as_bytes()).unwrap();
                    let ts = event.ts;
                    if ingest.offer(&event, None) == Verdict::Accepted {
                        accepted.push((ts, arrival, grid.index.loads[loads[load]], f64::from(mw)));
                    }
                    let mut ticks = Vec::new();
                    ingest.run_ticks(|b, state| ticks.push((b, state.loads.clone())));
                    for (boundary, seen) in ticks {
                        let mut model = vec![0.0; grid.loads.len()];
                        let mut before: Vec<_> = accepted.iter().filter(|e| e.0 < boundary).collect();
                        before.sort_by_key(|e| (e.0, e.1));
                        for (_, _, load, mw) in before {
                            model[*load] = *mw;
                        }
                        prop_assert_eq!(&seen, &model, "tick {}", boundary);
                    }
                }
            }
        }
    }
}
