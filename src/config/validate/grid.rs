//! The grid's objects: `[[areas]]`, `[[plants]]`, `[[loads]]`, `[[data_centers]]` and
//! `[[lines]]`, each checked and given its position in the [`Index`](crate::grid::Index).

use super::Elements;
use super::checker::Checker;
use crate::config::{ConfigError, raw};
use crate::grid::{
    Area, AreaKind, DataCenter, Line, Load, LoadClass, LoadProfile, Plant, PlantKind, Reservoir,
    River,
};
use std::collections::HashMap;
use std::time::Duration;

/// The longest travel time between two plants: the simulator keeps one figure a
/// second of it in memory.
const MAX_TRAVEL: Duration = Duration::from_secs(2 * 86_400);

/// The checked areas, which every other object names by id.
pub(super) struct Areas<'a> {
    pub(super) list: &'a [Area],
    pub(super) ids: &'a HashMap<String, usize>,
}

impl Areas<'_> {
    pub(super) fn reference(&self, c: &mut Checker, path: String, id: &str) -> Option<usize> {
        c.reference(self.ids, path, id, "area")
    }

    /// Plants, loads and sites are all inside the grid, so their area is domestic.
    fn domestic(&self, c: &mut Checker, path: String, id: &str) -> usize {
        let at = self.reference(c, path.clone(), id);
        if let Some(at) = at
            && self.list[at].kind != AreaKind::Domestic
        {
            c.error(path, format!("{id:?}"), "must be a domestic area");
        }
        at.unwrap_or(0)
    }
}

pub(super) fn check_areas(
    c: &mut Checker,
    raw: Elements<raw::AreaTable>,
    ids: &mut HashMap<String, usize>,
) -> Vec<Area> {
    let mut areas = Vec::new();
    for (path, area) in raw {
        let kind = match area.kind.as_str() {
            "domestic" => AreaKind::Domestic,
            "neighbor" => AreaKind::Neighbor,
            other => {
                c.error(
                    format!("{path}.kind"),
                    format!("{other:?}"),
                    "expected \"domestic\" or \"neighbor\"",
                );
                AreaKind::Neighbor
            }
        };
        c.register(ids, format!("{path}.id"), &area.id, areas.len());
        areas.push(Area {
            name: area.name.unwrap_or_else(|| area.id.clone()),
            id: area.id,
            kind,
        });
    }
    if !areas.iter().any(|a| a.kind == AreaKind::Domestic) {
        c.errors.push(ConfigError {
            path: "areas".into(),
            value: None,
            message: "at least one area must be of kind \"domestic\"".into(),
        });
    }
    areas
}

pub(super) fn check_plants(
    c: &mut Checker,
    raw: Elements<raw::PlantTable>,
    areas: &Areas,
    ids: &mut HashMap<String, usize>,
) -> Vec<Plant> {
    let mut plants = Vec::new();
    // (path of `downstream_of`, the id it names), resolved once every plant is known.
    let mut upstream = Vec::new();
    for (path, p) in raw {
        c.register(ids, format!("{path}.id"), &p.id, plants.len());
        let area = areas.domestic(c, format!("{path}.area"), &p.area);
        let capacity_mw = c.non_negative(format!("{path}.capacity_mw"), p.capacity_mw);
        let unit_mw = c.non_negative(format!("{path}.unit_mw"), p.unit_mw);
        let min_mw = c.non_negative(format!("{path}.min_mw"), p.min_mw);
        let capacity_known = capacity_mw.is_finite() && capacity_mw >= 0.0;
        if capacity_known && unit_mw > capacity_mw {
            c.error(
                format!("{path}.unit_mw"),
                unit_mw,
                format!("larger than capacity_mw ({capacity_mw})"),
            );
        }
        if capacity_known && min_mw > capacity_mw {
            c.error(
                format!("{path}.min_mw"),
                min_mw,
                format!("larger than capacity_mw ({capacity_mw})"),
            );
        }
        let kind = match p.kind.as_deref() {
            None | Some("hydro") => PlantKind::Hydro,
            Some("thermal") => PlantKind::Thermal,
            Some(other) => {
                c.error(
                    format!("{path}.kind"),
                    format!("{other:?}"),
                    "expected \"hydro\" or \"thermal\"",
                );
                PlantKind::Hydro
            }
        };
        if kind == PlantKind::Thermal {
            for (key, given) in [
                ("reservoir", p.reservoir.is_some()),
                ("river", p.river.is_some()),
            ] {
                if given {
                    c.errors.push(ConfigError {
                        path: format!("{path}.{key}"),
                        value: None,
                        message: "a thermal plant has no water: remove the table or the kind"
                            .into(),
                    });
                }
            }
        }
        let reservoir = p
            .reservoir
            .map(|r| check_reservoir(c, format!("{path}.reservoir"), r));
        let river = p.river.map(|r| {
            let path = format!("{path}.river");
            if let Some(id) = &r.downstream_of {
                upstream.push((plants.len(), format!("{path}.downstream_of"), id.clone()));
            }
            check_river(c, path, r)
        });
        plants.push(Plant {
            id: p.id,
            area,
            capacity_mw,
            unit_mw,
            min_mw,
            reservoir,
            kind,
            river,
        });
    }
    for (at, path, id) in upstream {
        let Some(above) = c.reference(ids, path.clone(), &id, "plant") else {
            continue;
        };
        if plants[above].river.is_none() {
            c.error(
                path,
                format!("{id:?}"),
                "names a plant without [plants.river]",
            );
        } else if flows_into(&plants, above, at) {
            c.error(path, format!("{id:?}"), "the river would flow in a circle");
        } else if let Some(river) = plants[at].river.as_mut() {
            river.downstream_of = Some(above);
        }
    }
    plants
}

/// True when the water of `from` reaches `to` over the links resolved so far, or
/// `from` is `to`.
fn flows_into(plants: &[Plant], from: usize, to: usize) -> bool {
    let mut at = from;
    // Each step goes one plant down; more steps than plants would be a circle.
    for _ in 0..=plants.len() {
        if at == to {
            return true;
        }
        match plants[at].river.as_ref().and_then(|r| r.downstream_of) {
            Some(next) => at = next,
            None => return false,
        }
    }
    true
}

/// `[plants.river]`; its `downstream_of` is resolved by [`check_plants`].
fn check_river(c: &mut Checker, path: String, r: raw::RiverTable) -> River {
    let rated_flow_m3s = c.positive(format!("{path}.rated_flow_m3s"), r.rated_flow_m3s);
    let mut inflow_m3s = [0.0; 12];
    if let Some(given) = r.inflow_m3s {
        if given.len() != 12 {
            c.error(
                format!("{path}.inflow_m3s"),
                format!("{given:?}"),
                format!(
                    "needs 12 monthly flows, January first (found {})",
                    given.len()
                ),
            );
        } else {
            for (month, flow) in given.iter().enumerate() {
                inflow_m3s[month] = c.non_negative(format!("{path}.inflow_m3s[{month}]"), *flow);
            }
        }
    }
    let travel = match &r.travel {
        Some(text) if r.downstream_of.is_none() => {
            c.error(
                format!("{path}.travel"),
                format!("{text:?}"),
                "a travel time needs downstream_of",
            );
            Duration::ZERO
        }
        Some(text) => {
            let travel = c.duration(format!("{path}.travel"), text);
            if travel > MAX_TRAVEL {
                c.error(format!("{path}.travel"), format!("{text:?}"), "at most 48h");
            }
            travel
        }
        None => Duration::ZERO,
    };
    River {
        rated_flow_m3s,
        inflow_m3s,
        downstream_of: None,
        travel,
    }
}

fn check_reservoir(c: &mut Checker, path: String, r: raw::ReservoirTable) -> Reservoir {
    let floor_m = r.floor_m;
    if !floor_m.is_finite() {
        c.error(format!("{path}.floor_m"), floor_m, "must be a finite level");
    }
    let mut rule_curve_m = [floor_m; 12];
    if r.rule_curve_m.len() != 12 {
        c.error(
            format!("{path}.rule_curve_m"),
            format!("{:?}", r.rule_curve_m),
            format!(
                "needs 12 monthly levels, January first (found {})",
                r.rule_curve_m.len()
            ),
        );
    } else {
        for (month, level) in r.rule_curve_m.iter().enumerate() {
            if !level.is_finite() {
                c.error(
                    format!("{path}.rule_curve_m[{month}]"),
                    level,
                    "must be a finite level",
                );
            }
            rule_curve_m[month] = *level;
        }
    }
    if let Some(full_m) = r.full_m {
        let path = format!("{path}.full_m");
        if !full_m.is_finite() {
            c.error(path, full_m, "must be a finite level");
        } else if floor_m.is_finite() && full_m <= floor_m {
            c.error(path, full_m, format!("must be above floor_m ({floor_m})"));
        } else if let Some((month, level)) = rule_curve_m
            .iter()
            .enumerate()
            .find(|(_, level)| level.is_finite() && full_m < **level)
        {
            c.error(
                path,
                full_m,
                format!("below rule_curve_m[{month}] ({level})"),
            );
        }
    }
    Reservoir {
        floor_m,
        rule_curve_m,
        full_m: r.full_m,
    }
}

/// `installed_mw` bounds a load that declares no `max_mw` of its own.
pub(super) fn check_loads(
    c: &mut Checker,
    raw: Elements<raw::LoadTable>,
    areas: &Areas,
    ids: &mut HashMap<String, usize>,
    installed_mw: f64,
) -> Vec<Load> {
    let mut loads = Vec::new();
    for (path, l) in raw {
        c.register(ids, format!("{path}.id"), &l.id, loads.len());
        let area = areas.domestic(c, format!("{path}.area"), &l.area);
        let tier = c.tier(format!("{path}.tier"), l.tier);
        let class = match l.class.as_str() {
            "essential" => LoadClass::Essential,
            "residential" => LoadClass::Residential,
            "industrial" => LoadClass::Industrial,
            "other" => LoadClass::Other,
            other => {
                c.error(
                    format!("{path}.class"),
                    format!("{other:?}"),
                    "expected \"essential\", \"residential\", \"industrial\" or \"other\"",
                );
                LoadClass::Other
            }
        };
        let peak_mw = l
            .peak_mw
            .map(|v| c.non_negative(format!("{path}.peak_mw"), v));
        let profile = match l.profile.as_deref() {
            None | Some("class") => LoadProfile::Class,
            Some("flat") => LoadProfile::Flat,
            Some(other) => {
                c.error(
                    format!("{path}.profile"),
                    format!("{other:?}"),
                    "expected \"class\" (its class's daily shape) or \"flat\" (round the clock)",
                );
                LoadProfile::Class
            }
        };
        let max_mw = l
            .max_mw
            .map_or(installed_mw, |v| c.positive(format!("{path}.max_mw"), v));
        loads.push(Load {
            id: l.id,
            area,
            tier,
            class,
            peak_mw,
            profile,
            max_mw,
        });
    }
    loads
}

/// Decisions list a site's firm and flexible parts among the loads, so a site's id
/// must differ from every load's.
pub(super) fn check_data_centers(
    c: &mut Checker,
    raw: Elements<raw::DataCenterTable>,
    areas: &Areas,
    load_ids: &HashMap<String, usize>,
    ids: &mut HashMap<String, usize>,
) -> Vec<DataCenter> {
    let mut data_centers = Vec::new();
    for (path, d) in raw {
        c.register(ids, format!("{path}.id"), &d.id, data_centers.len());
        if load_ids.contains_key(&d.id) {
            c.error(
                format!("{path}.id"),
                format!("{:?}", d.id),
                "a load already has this id",
            );
        }
        let area = areas.domestic(c, format!("{path}.area"), &d.area);
        let firm_tier = c.tier(format!("{path}.firm_tier"), d.firm_tier);
        let flexible_tier = c.tier(format!("{path}.flexible_tier"), d.flexible_tier);
        let capacity_mw = d
            .capacity_mw
            .map(|v| c.non_negative(format!("{path}.capacity_mw"), v));
        let size_mw = d.size_mw.map(|v| c.positive(format!("{path}.size_mw"), v));
        if let (Some(size), Some(capacity)) = (size_mw, capacity_mw)
            && size > capacity
        {
            c.error(
                format!("{path}.size_mw"),
                size,
                format!("larger than capacity_mw ({capacity})"),
            );
        }
        data_centers.push(DataCenter {
            id: d.id,
            area,
            firm_tier,
            flexible_tier,
            capacity_mw,
            size_mw,
        });
    }
    data_centers
}

pub(super) fn check_lines(
    c: &mut Checker,
    raw: Elements<raw::LineTable>,
    areas: &Areas,
    ids: &mut HashMap<String, usize>,
) -> Vec<Line> {
    let mut lines = Vec::new();
    for (path, l) in raw {
        c.register(ids, format!("{path}.id"), &l.id, lines.len());
        let from = areas.reference(c, format!("{path}.from"), &l.from);
        let to = areas.reference(c, format!("{path}.to"), &l.to);
        if from.is_some() && from == to {
            c.error(
                format!("{path}.to"),
                format!("{:?}", l.to),
                "a line must join two different areas",
            );
        }
        let capacity_mw = c.non_negative(format!("{path}.capacity_mw"), l.capacity_mw);
        let reverse_capacity_mw =
            c.non_negative(format!("{path}.reverse_capacity_mw"), l.reverse_capacity_mw);
        if !(0.0..1.0).contains(&l.loss_fraction) {
            c.error(
                format!("{path}.loss_fraction"),
                l.loss_fraction,
                "must be at least 0 and below 1",
            );
        }
        let ramp_mw_per_min = c.non_negative(format!("{path}.ramp_mw_per_min"), l.ramp_mw_per_min);
        lines.push(Line {
            id: l.id,
            from: from.unwrap_or(0),
            to: to.unwrap_or(0),
            capacity_mw,
            reverse_capacity_mw,
            loss_fraction: l.loss_fraction,
            ramp_mw_per_min,
        });
    }
    lines
}
