//! The order of objectives: rule 2's tiers (rule 10's lexicographic optimum), rule 4's
//! weighted max-min fair shares inside each short tier, then rule 7's least imported
//! MW (imports of a lower tier first) and least waste.
//! Each step is one [`Programme::best`] over one-way schedules, every earlier optimum
//! held as a lower bound.
//!
//! # Holding optima
//!
//! An optimum is held exactly, `served ≥ optimum`, because any slack can be bought
//! back by a later step, amplified: a transit that nets against domestic flow costs
//! the domestic side a tiny share of its MW, and inside a tier a member a little
//! dearer to reach than another can be moved a long way for a little of the total.
//! Only when the solver's rounding leaves a step no solution (every step has one: the
//! previous step's) is that step solved again with every held bound lowered a little
//! ([`Slack`]); the bounds it holds afterwards stay exact.
//!
//! A member's fair share is held at no more than what the step's own solution gives
//! it (the *witness*): the common fraction λ is only as exact as the solver, and a
//! member held at λ × request from a λ rounded up could leave the next step nothing.

use super::TierFigures;
use super::programme::Programme;
use super::solver::{Goal, Held, Values};
use std::collections::BTreeMap;

/// What a step gives up of the optima held before it: this many MW, plus 1% of that
/// per MW of the optimum (a few units in the last place of the largest figures).
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct Slack(pub f64);

impl Slack {
    /// The slacks tried, least first: none, then the least the solver's rounding needs.
    const LADDER: [Slack; 5] = [
        Slack(0.0),
        Slack(1e-13),
        Slack(1e-11),
        Slack(1e-9),
        Slack(1e-7),
    ];

    pub fn of(self, x: f64) -> f64 {
        self.0 * (1.0 + 0.01 * x.abs())
    }
}

/// How far below the common fraction the members it holds may sit while one of them
/// is tested for rising: room for the solver's rounding, at most 3e-9 MW on a 300 MW
/// request.
const LEVEL_ROOM: f64 = 1e-11;

/// A rise of less than a tenth of rule 10's tolerance counts as none: freezing such a
/// member costs it less than the property test can see.
fn margin(x: f64) -> f64 {
    0.1 * super::met(x)
}

/// The programme's answer under one set of restrictions.
#[derive(Debug, Clone)]
pub struct Allocation {
    pub tiers: BTreeMap<u32, TierFigures>,
    /// Every consumer's MW: its cap in a tier served in full, else its fair share.
    pub served: Vec<f64>,
    /// The least imported MW (rule 7).
    pub imported_mw: f64,
    /// The least and the most MW of each import offer among the least-waste schedules:
    /// equal unless offers of one tier can stand in for each other, which no rule
    /// decides between.
    pub offers: Vec<(f64, f64)>,
    /// The least-waste schedule with every consumer at its share (rule 7).
    pub least_waste: Values,
    /// The most any step gave up.
    pub slack: Slack,
    /// True when progressive filling found a level at which every member could still
    /// rise alone by more than rule 10's tolerance, but not all together, which only a
    /// non-convex set of schedules (the one-way flows') allows: rule 4's shares are
    /// then not defined, and the member rising least was frozen.
    pub undefined: bool,
}

/// Every tier's optimum first, then the fair shares tier by tier, then the least
/// imports, then least waste.
pub fn allocate(programme: &Programme) -> Allocation {
    let mut steps = Steps {
        programme,
        held: Held::default(),
        slack: Slack(0.0),
        served: vec![0.0; programme.consumers.len()],
        witness: None,
        undefined: false,
    };
    let mut tiers = BTreeMap::new();
    for tier in programme.tiers() {
        let best = steps.best(Goal::Tier(tier)).objective;
        steps.held.tiers.push((tier, best));
        let requested = programme
            .members(tier)
            .iter()
            .map(|&c| programme.consumers[c].request)
            .sum();
        let figures = TierFigures {
            requested_mw: requested,
            served_mw: best,
        };
        tiers.insert(tier, figures);
    }
    for (&tier, figures) in &tiers {
        steps.share(tier, figures.served_mw);
    }
    let imported_mw = steps.imports();
    let least_waste = steps.best(Goal::Waste);
    let offers = steps.offers(&least_waste);
    Allocation {
        tiers,
        served: steps.served,
        imported_mw,
        offers,
        least_waste,
        slack: steps.slack,
        undefined: steps.undefined,
    }
}

/// The steps so far: what they hold for later ones.
struct Steps<'p, 'a> {
    programme: &'p Programme<'a>,
    held: Held,
    slack: Slack,
    /// Each consumer's share, once frozen.
    served: Vec<f64>,
    /// The latest solution, which meets everything held so far.
    witness: Option<Values>,
    undefined: bool,
}

impl Steps<'_, '_> {
    /// The best one-way schedule for `goal` with the held optima, lowered by the least
    /// slack that lets the solver find it.
    fn best(&mut self, goal: Goal) -> Values {
        for slack in Slack::LADDER {
            let held = self.held.lowered(|x| slack.of(x));
            if let Some(values) = self.programme.best(&held, goal) {
                if slack > self.slack {
                    self.slack = slack;
                }
                self.witness = Some(values.clone());
                return values;
            }
        }
        panic!("oracle: {goal:?} has no solution even with 1e-7 MW of slack")
    }

    /// Rule 4 inside one tier whose optimum is `total`: raise the common fraction of
    /// the requests, freeze the members that cannot rise above it, repeat with the
    /// rest. Members capped at 0 (out of window, cut by the state) stay at 0; in a
    /// tier served in full every member gets its cap.
    fn share(&mut self, tier: u32, total: f64) {
        let consumers = &self.programme.consumers;
        let mut open: Vec<usize> = self
            .programme
            .members(tier)
            .into_iter()
            .filter(|&c| consumers[c].cap > 0.0)
            .collect();
        let capped: f64 = open.iter().map(|&c| consumers[c].cap).sum();
        if total >= capped - margin(capped) {
            for c in open {
                self.freeze(c, consumers[c].cap);
            }
            return;
        }
        while !open.is_empty() {
            let level = self.best(Goal::Level(&open)).objective.min(1.0);
            let frozen = self.stuck(tier, total, &open, level);
            for &c in &frozen {
                self.freeze(c, level * consumers[c].request);
            }
            open.retain(|c| !frozen.contains(c));
        }
    }

    /// The open members that cannot rise above `level`, the others held there. All of
    /// them when the level uses up the tier's optimum or reaches the requests. When
    /// every one seems to rise alone, the one that rises least (as a fraction of its
    /// request): on a convex set of schedules some member cannot rise, so the others'
    /// rises are the solver's noise, amplified; only a rise beyond rule 10's tolerance
    /// means the set is not convex (one-way flows) and rule 4's shares are undefined.
    fn stuck(&mut self, tier: u32, total: f64, open: &[usize], level: f64) -> Vec<usize> {
        let consumers = &self.programme.consumers;
        let given: f64 = self
            .programme
            .members(tier)
            .iter()
            .map(|&c| match open.contains(&c) {
                true => level * consumers[c].request,
                false => self.served[c],
            })
            .sum();
        if level >= 1.0 - LEVEL_ROOM || given >= total - margin(total) {
            return open.to_vec();
        }
        let floors: Vec<(usize, f64)> = open
            .iter()
            .map(|&c| {
                (
                    c,
                    self.floor(c, (level - LEVEL_ROOM) * consumers[c].request),
                )
            })
            .collect();
        let witness = self.witness.clone();
        let mut rises = Vec::new();
        for &c in open {
            let at = level * consumers[c].request;
            let most = self.best(Goal::Rise(c, &floors)).served[c];
            rises.push((c, most - at, margin(at)));
        }
        self.witness = witness;
        let stuck: Vec<usize> = rises
            .iter()
            .filter(|&&(_, rise, margin)| rise <= margin)
            .map(|&(c, _, _)| c)
            .collect();
        if !stuck.is_empty() {
            return stuck;
        }
        let fraction = |&(c, rise, _): &(usize, f64, f64)| rise / consumers[c].request;
        let least = rises
            .iter()
            .min_by(|a, b| fraction(a).total_cmp(&fraction(b)))
            .expect("an open member");
        self.undefined |= least.1 > super::met(level * consumers[least.0].request);
        vec![least.0]
    }

    /// Rule 7: "among schedules with equal served MW per tier, prefer less imported MW
    /// (imports of a lower tier first)". Read as: the least total first; then, that
    /// total held, the imports of the highest tier are the ones avoided, tier by tier
    /// downwards, so that a lower tier's offer is taken before a higher tier's. Every
    /// least is held for later steps; returns the least total.
    fn imports(&mut self) -> f64 {
        let tiers = self.programme.offer_tiers();
        if tiers.is_empty() {
            return 0.0;
        }
        let total = (-self.best(Goal::Imports(None)).objective).max(0.0);
        self.held.imports.push((None, total));
        for &tier in tiers.iter().rev() {
            let least = (-self.best(Goal::Imports(Some(tier))).objective).max(0.0);
            self.held.imports.push((Some(tier), least));
        }
        total
    }

    /// Each offer's least and most MW with every optimum held, least waste included.
    /// An offer alone in its tier has the tier's imports, one figure; offers sharing a
    /// tier may trade MW where no rule tells them apart.
    fn offers(&mut self, least_waste: &Values) -> Vec<(f64, f64)> {
        self.held.waste = Some(-least_waste.objective);
        let offers = &self.programme.offers;
        let open = |o: usize| offers[o].cap > 0.0;
        (0..offers.len())
            .map(|o| {
                let peers =
                    (0..offers.len()).filter(|&x| open(x) && offers[x].tier == offers[o].tier);
                if !open(o) || peers.count() == 1 {
                    let mw = least_waste.imports[o];
                    return (mw, mw);
                }
                let least = self.best(Goal::Offer(o, false)).imports[o];
                let most = self.best(Goal::Offer(o, true)).imports[o];
                (least, most)
            })
            .collect()
    }

    /// At least `mw`, but no more than the witness gives member `c`.
    fn floor(&self, c: usize, mw: f64) -> f64 {
        let witness = self.witness.as_ref().expect("a tier was solved");
        mw.min(witness.served[c])
    }

    /// Gives member `c` its share `mw` and holds it there for every later step.
    fn freeze(&mut self, c: usize, mw: f64) {
        self.served[c] = mw;
        let least = self.floor(c, mw);
        self.held.consumers.push((c, least));
    }
}
