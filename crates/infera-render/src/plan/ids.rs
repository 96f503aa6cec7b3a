//! Typed indices into the plan's lists, so a region, a datacenter and an FDB region can never be
//! mixed up (`plan.regions[id]`, `plan.datacenters[id]`, `plan.fdb_regions[id]`).

use super::{DatacenterPlan, FdbRegionPlan, RegionPlan};
use std::fmt;
use std::ops::{Index, IndexMut};

macro_rules! id {
    ($(#[$doc:meta])* $name:ident indexes $item:ty) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(usize);

        impl $name {
            /// The id of the item at `index` (ids are positions in the plan's list).
            #[must_use]
            pub const fn new(index: usize) -> Self {
                Self(index)
            }

            /// The position in the plan's list.
            #[must_use]
            pub const fn index(self) -> usize {
                self.0
            }
        }

        impl From<$name> for usize {
            fn from(id: $name) -> usize {
                id.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl Index<$name> for Vec<$item> {
            type Output = $item;

            fn index(&self, id: $name) -> &$item {
                &self[id.0]
            }
        }

        impl IndexMut<$name> for Vec<$item> {
            fn index_mut(&mut self, id: $name) -> &mut $item {
                &mut self[id.0]
            }
        }

        impl Index<$name> for [$item] {
            type Output = $item;

            fn index(&self, id: $name) -> &$item {
                &self[id.0]
            }
        }
    };
}

id! {
    /// A region of the spec: its position in `spec.regions` and [`crate::Plan::regions`].
    RegionId indexes RegionPlan
}

// The planner reads the spec's region of a resolved region.
impl Index<RegionId> for Vec<infera_spec::Region> {
    type Output = infera_spec::Region;

    fn index(&self, id: RegionId) -> &infera_spec::Region {
        &self[id.0]
    }
}

impl IndexMut<RegionId> for Vec<infera_spec::Region> {
    fn index_mut(&mut self, id: RegionId) -> &mut infera_spec::Region {
        &mut self[id.0]
    }
}

impl Index<RegionId> for [infera_spec::Region] {
    type Output = infera_spec::Region;

    fn index(&self, id: RegionId) -> &infera_spec::Region {
        &self[id.0]
    }
}

id! {
    /// A FoundationDB datacenter: its position in [`crate::Plan::datacenters`].
    DatacenterId indexes DatacenterPlan
}

id! {
    /// A FoundationDB region: its position in [`crate::Plan::fdb_regions`] (0 is the active one).
    FdbRegionId indexes FdbRegionPlan
}
