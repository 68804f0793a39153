//! [`List`]: the balancer's subchannels, one per address, and what it knows of them.

use std::sync::Arc;

use super::subchannel::Subchannel;

/// The address list of a balancer, under its lock.
pub(super) struct List<C> {
    pub(super) subchannels: Vec<Arc<Subchannel<C>>>,
    /// pick_first's chosen subchannel.
    pub(super) selected: Option<Arc<Subchannel<C>>>,
    pub(super) started: bool,
    pub(super) resolved: bool,
    pub(super) resolve_error: Option<String>,
    pub(super) shutdown: bool,
    /// A channel over a given connection: nothing to dial.
    pub(super) fixed: bool,
}

impl<C> Default for List<C> {
    fn default() -> Self {
        List {
            subchannels: Vec::new(),
            selected: None,
            started: false,
            resolved: false,
            resolve_error: None,
            shutdown: false,
            fixed: false,
        }
    }
}
