//! Label values that form a closed set, as enums, and a family's handles resolved once
//! per value: the hot path indexes an array instead of hashing label strings, and a
//! call site names an enum variant, never a string.

use super::Metrics;
use prometheus::core::{MetricVec, MetricVecBuilder};
use prometheus::{IntCounter, IntCounterVec, Opts};
use std::marker::PhantomData;

/// The values of one label.
pub trait Label: Copy {
    /// The label's name on `/metrics`.
    const NAME: &'static str;

    /// Every value, in the order of [`Label::index`].
    fn all() -> impl Iterator<Item = Self>;

    /// The value on `/metrics`.
    fn value(self) -> &'static str;

    /// The position of this value in [`Label::all`].
    fn index(self) -> usize;
}

/// One handle of a family for each value of `L`.
pub struct ByLabel<L, M> {
    handles: Box<[M]>,
    label: PhantomData<fn() -> L>,
}

// By hand: a derive would ask `L: Clone` of the marker.
impl<L, M: Clone> Clone for ByLabel<L, M> {
    fn clone(&self) -> Self {
        ByLabel {
            handles: self.handles.clone(),
            label: PhantomData,
        }
    }
}

impl<L: Label, M> ByLabel<L, M> {
    /// `handle(value)` for every value of `L`.
    pub fn new(handle: impl FnMut(L) -> M) -> Self {
        debug_assert!(
            L::all().enumerate().all(|(at, label)| label.index() == at),
            "{}: index() follows all()",
            L::NAME
        );
        ByLabel {
            handles: L::all().map(handle).collect(),
            label: PhantomData,
        }
    }

    /// The handles of `family`, whose one label is `L`, resolved for every value (so
    /// each shows on `/metrics` from the start, at zero).
    pub fn resolve<P: MetricVecBuilder<M = M>>(family: &MetricVec<P>) -> Self {
        Self::new(|label| family.with_label_values(&[label.value()]))
    }

    pub fn get(&self, label: L) -> &M {
        &self.handles[label.index()]
    }

    /// Every handle, in the order of [`Label::all`].
    pub fn iter(&self) -> impl Iterator<Item = &M> {
        self.handles.iter()
    }
}

impl<L: Label> ByLabel<L, IntCounter> {
    /// A counter family whose one label is `L`, registered on `metrics`, with every
    /// value's counter resolved.
    pub fn counters(metrics: &Metrics, name: &str, help: &str) -> Self {
        let family = IntCounterVec::new(Opts::new(name, help), &[L::NAME]);
        Self::resolve(&metrics.register(family))
    }
}
