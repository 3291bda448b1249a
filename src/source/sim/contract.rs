//! Contracts: the counterparties' nominations, and what they ask of the domestic side.

use super::LOSS_ALLOWANCE;
use super::shape::{between, bound_millis, millis};
use crate::grid::{Contract, ContractKind, Firmness, Window};
use crate::time::Timestamp;
use rand_chacha::ChaCha8Rng;

pub(super) struct ContractSim {
    max_mw: f64,
    max_m: i64,
    kind: ContractKind,
    firmness: Firmness,
    window: Option<Window>,
    /// The latest nomination, counted in the plausible dispatch while in window.
    nominated_mw: f64,
}

impl ContractSim {
    pub(super) fn new(contract: &Contract) -> Self {
        ContractSim {
            max_mw: contract.max_mw,
            max_m: bound_millis(contract.max_mw),
            kind: contract.kind,
            firmness: contract.firmness,
            window: contract.window,
            nominated_mw: 0.0,
        }
    }

    /// The nomination at `ts`, in thousandths. In winter the counterparties ask for
    /// part of their maximum (firm more than non-firm) and the scheduler curtails; in
    /// summer firm contracts ask for their maximum and non-firm ones for most of it.
    /// Out of its window a contract asks for a little, as a counterparty probing the
    /// window would, so the scheduler's `out_of_window` is exercised. An import offer
    /// is the other way round: a neighbor with a winter surplus offers most of its
    /// maximum, and in summer, when the domestic side has its own, a little.
    pub(super) fn nominate(&mut self, rng: &mut ChaCha8Rng, ts: Timestamp, winter: bool) -> i64 {
        let in_window = self.window.is_none_or(|w| w.contains(ts));
        let share = match (in_window, winter, self.firmness) {
            (false, _, _) => between(rng, 0.1, 0.3),
            _ if self.kind == ContractKind::Import => match winter {
                true => between(rng, 0.6, 1.0),
                false => between(rng, 0.1, 0.3),
            },
            (true, true, Firmness::Firm) => between(rng, 0.6, 1.0),
            (true, true, Firmness::NonFirm) => between(rng, 0.3, 0.7),
            (true, false, Firmness::Firm) => 1.0,
            (true, false, Firmness::NonFirm) => between(rng, 0.5, 0.9),
        };
        // Counterparties nominate whole megawatts.
        let mw = (self.max_mw * share).round();
        let mw_m = millis(mw).min(self.max_m);
        self.nominated_mw = if in_window { mw_m as f64 / 1000.0 } else { 0.0 };
        mw_m
    }

    /// The MW the latest nomination asks the domestic side to generate: an export's
    /// whole nomination, a transit's losses; an import offer asks for none (whether it
    /// is taken is the scheduler's choice, not the neighbor's).
    pub(super) fn generation_mw(&self) -> f64 {
        match self.kind {
            ContractKind::Export => self.nominated_mw,
            ContractKind::Transit => self.nominated_mw * (LOSS_ALLOWANCE - 1.0),
            ContractKind::Import => 0.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    /// An import offer is nominated the other way round from an export: most of its
    /// maximum in a winter, a little in a summer, and asks the domestic side for none of
    /// its generation.
    #[test]
    fn an_import_offer_offers_most_in_winter_and_asks_for_no_generation() {
        let tree = serde_json::json!({
            "areas": [{"id": "d", "kind": "domestic"}, {"id": "n", "kind": "neighbor"}],
            "contracts": [{"id": "in", "from": "n", "to": "d", "firmness": "non_firm",
                "tier": 1, "max_mw": 200.0}],
        });
        let grid = crate::config::from_value(&tree).unwrap().grid;
        let mut offer = ContractSim::new(&grid.contracts[0]);
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let ts = Timestamp::parse("2027-01-15T17:00:00Z").unwrap();
        for _ in 0..50 {
            let winter = offer.nominate(&mut rng, ts, true);
            assert!((120_000..=200_000).contains(&winter), "{winter}");
            assert_eq!(offer.generation_mw(), 0.0);
            let summer = offer.nominate(&mut rng, ts, false);
            assert!((20_000..=60_000).contains(&summer), "{summer}");
        }
    }
}
