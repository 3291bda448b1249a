//! Weighted max-min fairness among the members of a share: the consumers of a short
//! tier, or the storage plants in proportion to their availability.

use crate::schedule::simplex::{Engine, EngineError};

/// How much more than the common level a member may get and still count as limited.
pub(super) const FREEZE_REL: f64 = 1e-6;

/// How far outside its bounds a column's fair-share target may lie and still be
/// reached (clamped): the engine's own tolerance.
const SLACK: f64 = 1e-9;

/// One member of a fair share: the columns whose sum it gets (a consumer's one, a
/// plant's two), and its weight.
pub(super) struct Item {
    cols: [usize; 2],
    len: usize,
    weight: f64,
}

impl Item {
    pub(super) fn new(cols: &[usize], weight: f64) -> Item {
        let mut item = Item {
            cols: [0; 2],
            len: cols.len(),
            weight,
        };
        item.cols[..cols.len()].copy_from_slice(cols);
        item
    }

    fn cols(&self) -> &[usize] {
        &self.cols[..self.len]
    }

    fn value(&self, engine: &Engine) -> f64 {
        self.cols().iter().map(|&j| engine.value(j)).sum()
    }
}

/// The common case of [`share`] in one step. The members' total is pinned by the face
/// the earlier steps left, and so are some members; if every other member can get the
/// same fraction of its weight, what the pinned ones leave over the others' weights,
/// that is the fair share: no fraction can rise without another falling, and the
/// pinned ones cannot move. Each such member moves towards its target within bounds
/// spanning where it is and where it should be; if all arrive, they are pinned there.
/// Otherwise their bounds are restored (the point stays feasible) and `false` sends
/// the members to progressive filling. Applies when each member has at most one
/// column left free.
fn share_evenly(engine: &mut Engine, open: &[&Item]) -> Result<bool, EngineError> {
    /// A member's free column on its way to its target, and the bounds it had.
    struct Move {
        col: usize,
        /// What the member's other, pinned column holds.
        rest: f64,
        weight: f64,
        bounds: (f64, f64),
        /// Towards the target: the column's cost.
        toward: f64,
    }
    let mut moves = Vec::with_capacity(open.len());
    let (mut total, mut weights) = (0.0, 0.0);
    for item in open {
        let value = item.value(engine);
        total += value;
        let mut free = item.cols().iter().filter(|&&j| !engine.fixed(j));
        match (free.next(), free.next()) {
            (None, _) => total -= value, // pinned: keeps its figure
            (Some(&col), None) => {
                weights += item.weight;
                moves.push(Move {
                    col,
                    rest: value - engine.value(col),
                    weight: item.weight,
                    bounds: engine.bounds(col),
                    toward: 0.0,
                });
            }
            _ => return Ok(false),
        }
    }
    if moves.is_empty() {
        return Ok(true);
    }
    let level = total / weights;
    let target = |m: &Move| level * m.weight - m.rest;
    // A member whose pinned column already holds more than its share (a plant's
    // must-run part) cannot be brought to it within its bounds: progressive filling
    // shares the rest among the others.
    let reachable = |m: &Move| {
        let (lo, hi) = m.bounds;
        (lo - SLACK..=hi + SLACK).contains(&target(m))
    };
    if !moves.iter().all(reachable) {
        return Ok(false);
    }
    for m in &mut moves {
        let (x, target) = (engine.value(m.col), target(m));
        engine.set_bounds(m.col, x.min(target), x.max(target));
        m.toward = if x > target { 1.0 } else { -1.0 };
    }
    engine.minimise(moves.iter().map(|m| (m.col, m.toward)))?;
    let arrived = moves.iter().all(|m| {
        let target = target(m);
        (engine.value(m.col) - target).abs() <= 1e-9 * (1.0 + target.abs())
    });
    for m in &moves {
        let x = engine.value(m.col);
        if arrived {
            engine.set_bounds(m.col, x, x);
        } else {
            engine.set_bounds(m.col, m.bounds.0, m.bounds.1);
        }
    }
    Ok(arrived)
}

/// Weighted max-min fairness by progressive filling. A fresh level λ gets a row
/// `member − weight·λ ≥ 0` for every member not yet limited and is raised as far as
/// it goes. Members whose row the optimum holds (its surplus has a non-zero reduced
/// cost) are frozen; each other member at the level is tested by maximising it alone
/// (λ held), and frozen if it cannot get more than `λ·weight` (by over [`FREEZE_REL`]
/// of its weight); repeat for the rest. Everyone keeps λ as floor, through its
/// row. A frozen member also gets its tested maximum as ceiling, by bounding its row's
/// surplus: exact, since the feasible set only shrinks from here, and it stops later
/// objectives from moving MW between members.
pub(super) fn share(engine: &mut Engine, items: &[Item]) -> Result<(), EngineError> {
    let mut open: Vec<&Item> = items.iter().filter(|i| i.weight > 0.0).collect();
    if open.len() <= 1 || share_evenly(engine, &open)? {
        return Ok(()); // one member's figure is the pinned total itself
    }
    let mut level = 0.0;
    while !open.is_empty() {
        let lambda = engine.add_column(&[], level, 1.0, level);
        let surplus: Vec<usize> = open
            .iter()
            .map(|item| {
                let member = item.cols().iter().map(|&j| (j, 1.0));
                let terms: Vec<(usize, f64)> = member.chain([(lambda, -item.weight)]).collect();
                engine.add_row(&terms, 0.0, f64::INFINITY)
            })
            .collect();
        engine.minimise([(lambda, -1.0)])?;
        level = engine.value(lambda);
        engine.set_bounds(lambda, level, level);
        // A member whose surplus the level's optimum holds at zero is limited in every
        // schedule at this level: frozen without a test.
        let mut frozen: Vec<bool> = surplus.iter().map(|&s| engine.held(s)).collect();
        for (&s, _) in surplus.iter().zip(&frozen).filter(|&(_, &f)| f) {
            engine.set_bounds(s, 0.0, 0.0);
        }
        for (k, item) in open.iter().enumerate() {
            let room = FREEZE_REL * item.weight.max(1.0);
            if frozen[k] || engine.value(surplus[k]) > room {
                continue; // limited already, or above the level: not limited
            }
            engine.minimise(item.cols().iter().map(|&j| (j, -1.0)))?;
            let above = engine.value(surplus[k]);
            if above <= room {
                frozen[k] = true;
                engine.set_bounds(surplus[k], 0.0, above);
            }
        }
        if !frozen.contains(&true) {
            // Numerically stuck: λ should have frozen someone. Stop here rather than
            // loop; everyone keeps at least λ.
            break;
        }
        let mut k = 0;
        open.retain(|_| {
            k += 1;
            !frozen[k - 1]
        });
    }
    Ok(())
}
