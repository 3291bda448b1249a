//! The rules' steps on the network, in rule order: the tiers, then fairness, imports,
//! waste, run-of-river first, storage in proportion and least flow.

use super::Checkpoint;
use super::share::{Item, share};
use crate::schedule::inputs::Inputs;
use crate::schedule::network::Network;
use crate::schedule::simplex::{Engine, EngineError};

/// Rule 2: the tier steps from tier `from` up, in ascending order, every tier's total
/// before any sharing. Sharing a short tier first would pin who gets its MW, and a
/// later tier could then reach less than the lexicographic optimum (rule 10): a
/// transit and a load sharing a tier cost the domestic side very different MW. Short
/// tiers are pushed to `short`. Returns a checkpoint taken before the first tier at or
/// above `keep_from`.
pub(super) fn tiers(
    inputs: &Inputs,
    net: &mut Network,
    from: u32,
    short: &mut Vec<Vec<usize>>,
    keep_from: Option<u32>,
) -> Result<Option<Checkpoint>, EngineError> {
    let groups = &net.groups[net.groups.partition_point(|g| g.0 < from)..];
    // The members of the `k`-th tier that may be served.
    let members = |k: usize| {
        let group: &[usize] = &groups[k].1;
        group
            .iter()
            .copied()
            .filter(|&c| inputs.consumers[c].cap > 0.0)
    };
    let mut checkpoint = None;
    let mut keep = |net: &Network, tier: u32, short: &Vec<Vec<usize>>| {
        if checkpoint.is_none() && keep_from.is_some_and(|k| tier >= k) {
            checkpoint = Some(Checkpoint {
                net: net.clone(),
                tier,
                short: short.clone(),
            });
        }
    };
    // While no tier has been short, first try to serve all the remaining tiers at
    // once: the lowest tiers that this serves in full are at their optimum (nothing
    // beats full), which spares each a step of its own.
    let mut batch = true;
    let mut i = 0;
    while i < groups.len() {
        if batch {
            let weighted = (i..groups.len()).flat_map(|k| {
                let weight = (groups.len() - k) as f64;
                members(k).map(move |c| (c, weight))
            });
            net.engine
                .minimise(weighted.map(|(c, weight)| (net.served[c], -weight)))?;
            let full = |engine: &Engine, c: usize| {
                engine.value(net.served[c]) >= inputs.consumers[c].cap - 1e-9
            };
            let mut served_in_full = 0;
            while i < groups.len() && members(i).all(|c| full(&net.engine, c)) {
                keep(net, groups[i].0, short);
                for c in members(i) {
                    let cap = inputs.consumers[c].cap;
                    net.engine.set_bounds(net.served[c], cap, cap);
                }
                i += 1;
                served_in_full += 1;
            }
            if i == groups.len() {
                break;
            }
            batch = served_in_full > 0;
        }
        let k = i;
        keep(net, groups[k].0, short);
        i += 1;
        if members(k).next().is_none() {
            continue;
        }
        net.engine
            .minimise(members(k).map(|c| (net.served[c], -1.0)))?;
        net.engine.fix_face();
        let served: f64 = members(k).map(|c| net.engine.value(net.served[c])).sum();
        let capacity: f64 = members(k).map(|c| inputs.consumers[c].cap).sum();
        if served > 1e-9 && served < capacity - 1e-6 - 1e-9 * capacity {
            short.push(members(k).collect());
            batch = false;
        }
    }
    Ok(checkpoint)
}

/// The steps after the tiers, in rule order.
pub(super) fn finish(
    inputs: &Inputs,
    net: &mut Network,
    short: &[Vec<usize>],
) -> Result<(), EngineError> {
    // Rule 4: inside each short tier, ascending, weighted max-min fairness with the
    // requests as weights, every tier's total held by the faces pinned above.
    for members in short {
        let items: Vec<Item> = members
            .iter()
            .map(|&c| Item::new(&[net.served[c]], inputs.consumers[c].request))
            .collect();
        share(&mut net.engine, &items)?;
    }

    imports(inputs, net)?;

    // Rule 7: least waste. Spill is lb − must, so each must-run MW absorbed saves one.
    let spill = net.must.iter().map(|&j| (j, -1.0));
    let losses = net.loss.iter().enumerate().filter(|&(_, &loss)| loss > 0.0);
    let losses = losses.flat_map(|(l, &loss)| [(net.fwd[l], loss), (net.rev[l], loss)]);
    net.engine.minimise(spill.chain(losses))?;
    net.engine.fix_face();

    // Rule 6: run-of-river first, that is the least storage generation. Not the most
    // run-of-river generation: with waste fixed, run-of-river output can still rise by
    // trading spill for losses, sending MW both ways on a lossy line to burn them,
    // which rule 7 forbids. Least storage output leaves that trade to the least-flow
    // step below, which undoes it.
    let (must, rest) = (&net.must, &net.rest);
    let storage = || (0..net.storage.len()).filter(|&p| net.storage[p]);
    if storage().next().is_some() {
        let setpoints = storage().flat_map(|p| [(must[p], 1.0), (rest[p], 1.0)]);
        net.engine.minimise(setpoints)?;
        net.engine.fix_face();
    }
    // …then storage in proportion to availability.
    let items: Vec<Item> = storage()
        .map(|p| Item::new(&[must[p], rest[p]], inputs.avail[p]))
        .collect();
    share(&mut net.engine, &items)?;

    // Rule 7: a line never carries both ways; least flow breaks the remaining ties.
    net.engine
        .minimise(net.fwd.iter().chain(&net.rev).map(|&j| (j, 1.0)))
}

/// Rule 7: among schedules with equal served MW per tier (and, rule 10, the fair
/// shares), the least imported MW; then, that total held, the imports of the highest
/// tier are the ones avoided, tier by tier downwards, so that a lower tier is taken
/// first. The lowest tier's imports follow from the total. Every step pins its face.
fn imports(inputs: &Inputs, net: &mut Network) -> Result<(), EngineError> {
    let tiers = inputs.offer_tiers();
    if tiers.is_empty() {
        return Ok(());
    }
    let taken = |net: &Network, tier: Option<u32>| -> Vec<(usize, f64)> {
        let offers = inputs.offers.iter().zip(&net.imports);
        offers
            .filter(|(o, _)| o.cap > 0.0 && tier.is_none_or(|t| o.tier == t))
            .map(|(_, &j)| (j, 1.0))
            .collect()
    };
    net.engine.minimise(taken(net, None))?;
    net.engine.fix_face();
    for &tier in tiers.iter().skip(1).rev() {
        net.engine.minimise(taken(net, Some(tier)))?;
        net.engine.fix_face();
    }
    Ok(())
}
