//! `[[contracts]]`: exports, transits and import offers, their firmness, tiers, floors,
//! windows and tariffs.

use super::Elements;
use super::checker::Checker;
use super::grid::Areas;
use crate::config::raw;
use crate::grid::{AreaKind, Contract, ContractKind, Firmness, Floor, Window};
use std::collections::HashMap;

pub(super) fn check_contracts(
    c: &mut Checker,
    raw: Elements<raw::ContractTable>,
    areas: &Areas,
    ids: &mut HashMap<String, usize>,
) -> Vec<Contract> {
    let mut contracts = Vec::new();
    for (path, k) in raw {
        c.register(ids, format!("{path}.id"), &k.id, contracts.len());
        let from = areas.reference(c, format!("{path}.from"), &k.from);
        let to = areas.reference(c, format!("{path}.to"), &k.to);
        let kind = contract_kind(c, &path, &k, areas, (from, to));
        let firmness = match k.firmness.as_str() {
            "firm" => Firmness::Firm,
            "non_firm" => Firmness::NonFirm,
            other => {
                c.error(
                    format!("{path}.firmness"),
                    format!("{other:?}"),
                    "expected \"firm\" or \"non_firm\"",
                );
                Firmness::NonFirm
            }
        };
        let tier = c.tier(format!("{path}.tier"), k.tier);
        let max_mw = c.non_negative(format!("{path}.max_mw"), k.max_mw);
        let floor = match kind {
            ContractKind::Import => refuse_floor(c, &path, &k),
            ContractKind::Export | ContractKind::Transit => check_floor(c, &path, &k, max_mw),
        };
        let window = k.window.map(|w| Window {
            start: c.month_day(format!("{path}.window.start"), &w.start),
            end: c.month_day(format!("{path}.window.end"), &w.end),
        });
        let tariff_usd_per_mwh = k
            .tariff_usd_per_mwh
            .map(|usd| c.non_negative(format!("{path}.tariff_usd_per_mwh"), usd));
        contracts.push(Contract {
            id: k.id,
            from: from.unwrap_or(0),
            to: to.unwrap_or(0),
            kind,
            firmness,
            tier,
            max_mw,
            floor,
            window,
            tariff_usd_per_mwh,
        });
    }
    contracts
}

/// What the kinds of the two areas make of a contract; `(from, to)` are their
/// positions, `None` where the id named no area (already reported).
fn contract_kind(
    c: &mut Checker,
    path: &str,
    k: &raw::ContractTable,
    areas: &Areas,
    (from, to): (Option<usize>, Option<usize>),
) -> ContractKind {
    let kind_of = |at: Option<usize>| at.map(|a| areas.list[a].kind);
    match (kind_of(from), kind_of(to)) {
        (Some(AreaKind::Domestic), Some(AreaKind::Neighbor)) => ContractKind::Export,
        (Some(AreaKind::Neighbor), Some(AreaKind::Neighbor)) if from != to => ContractKind::Transit,
        (Some(AreaKind::Neighbor), Some(AreaKind::Domestic)) => ContractKind::Import,
        (Some(_), Some(_)) => {
            c.error(
                format!("{path}.to"),
                format!("{:?}", k.to),
                "a contract runs from a domestic area to a neighbor (export), between two different neighbors (transit) or from a neighbor to a domestic area (import offer)",
            );
            ContractKind::Export
        }
        _ => ContractKind::Export,
    }
}

/// An import offer is a source, not a consumer: nothing is served to it, so a floor
/// (a minimum served at its own tier) has no meaning, and either key is refused.
fn refuse_floor(c: &mut Checker, path: &str, k: &raw::ContractTable) -> Option<Floor> {
    const WHY: &str = "an import offer (neighbor to domestic) is a source and has no floor";
    if let Some(mw) = k.floor_mw {
        c.error(format!("{path}.floor_mw"), mw, WHY);
    }
    if let Some(tier) = k.floor_tier {
        c.error(format!("{path}.floor_tier"), tier, WHY);
    }
    None
}

/// `floor_mw` and `floor_tier` come together or not at all.
fn check_floor(c: &mut Checker, path: &str, k: &raw::ContractTable, max_mw: f64) -> Option<Floor> {
    match (k.floor_mw, k.floor_tier) {
        (None, None) => None,
        (Some(mw), Some(floor_tier)) => {
            let mw = c.non_negative(format!("{path}.floor_mw"), mw);
            if max_mw >= 0.0 && mw > max_mw {
                c.error(
                    format!("{path}.floor_mw"),
                    mw,
                    format!("larger than max_mw ({max_mw})"),
                );
            }
            Some(Floor {
                mw,
                tier: c.tier(format!("{path}.floor_tier"), floor_tier),
            })
        }
        (Some(mw), None) => {
            c.error(format!("{path}.floor_mw"), mw, "needs floor_tier as well");
            None
        }
        (None, Some(t)) => {
            c.error(format!("{path}.floor_tier"), t, "needs floor_mw as well");
            None
        }
    }
}
