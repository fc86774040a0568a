//! Sets of (protocol, port) pairs: what a rule allows, and what reaches a destination once
//! egress and ingress are intersected.

use std::collections::BTreeMap;
use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Protocol {
    Tcp,
    Udp,
    Sctp,
}

impl Protocol {
    pub const ALL: [Protocol; 3] = [Self::Tcp, Self::Udp, Self::Sctp];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Tcp => "TCP",
            Self::Udp => "UDP",
            Self::Sctp => "SCTP",
        }
    }

    /// Parses a protocol as the API spells it (`TCP`, `UDP`, `SCTP`); case-insensitive for
    /// command-line use.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|protocol| protocol.as_str().eq_ignore_ascii_case(text))
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

pub const MIN_PORT: u16 = 1;
pub const MAX_PORT: u16 = 65535;

/// Per protocol, sorted, disjoint, non-adjacent inclusive port ranges.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct PortSet {
    ranges: BTreeMap<Protocol, Vec<(u16, u16)>>,
}

impl PortSet {
    pub fn none() -> Self {
        Self::default()
    }

    pub fn all() -> Self {
        let mut set = Self::none();
        for protocol in Protocol::ALL {
            set.add(protocol, MIN_PORT, MAX_PORT);
        }
        set
    }

    pub fn protocol(protocol: Protocol) -> Self {
        let mut set = Self::none();
        set.add(protocol, MIN_PORT, MAX_PORT);
        set
    }

    pub fn single(protocol: Protocol, port: u16) -> Self {
        let mut set = Self::none();
        set.add(protocol, port, port);
        set
    }

    /// Adds `first..=last`; an empty range (last < first) adds nothing.
    pub fn add(&mut self, protocol: Protocol, first: u16, last: u16) {
        if last < first {
            return;
        }
        let ranges = self.ranges.entry(protocol).or_default();
        ranges.push((first, last));
        ranges.sort_unstable();
        let mut merged: Vec<(u16, u16)> = Vec::with_capacity(ranges.len());
        for &(start, end) in ranges.iter() {
            match merged.last_mut() {
                Some(last) if u32::from(start) <= u32::from(last.1) + 1 => last.1 = last.1.max(end),
                _ => merged.push((start, end)),
            }
        }
        *ranges = merged;
    }

    pub fn union_with(&mut self, other: &PortSet) {
        for (protocol, ranges) in &other.ranges {
            for &(first, last) in ranges {
                self.add(*protocol, first, last);
            }
        }
    }

    pub fn intersect(&self, other: &PortSet) -> PortSet {
        let mut out = PortSet::none();
        for (protocol, mine) in &self.ranges {
            let Some(theirs) = other.ranges.get(protocol) else { continue };
            for &(a1, a2) in mine {
                for &(b1, b2) in theirs {
                    out.add(*protocol, a1.max(b1), a2.min(b2));
                }
            }
        }
        out
    }

    /// The ports in `self` that are not in `other`.
    pub fn minus(&self, other: &PortSet) -> PortSet {
        let mut out = PortSet::none();
        for (protocol, mine) in &self.ranges {
            let theirs = other.ranges.get(protocol).map(Vec::as_slice).unwrap_or_default();
            for &(first, last) in mine {
                let mut next = u32::from(first);
                for &(cut1, cut2) in theirs {
                    if u32::from(cut2) < next || cut1 > last {
                        continue;
                    }
                    if u32::from(cut1) > next {
                        out.add(*protocol, next as u16, cut1 - 1);
                    }
                    next = u32::from(cut2) + 1;
                }
                if next <= u32::from(last) {
                    out.add(*protocol, next as u16, last);
                }
            }
        }
        out
    }

    pub fn contains(&self, protocol: Protocol, port: u16) -> bool {
        self.ranges
            .get(&protocol)
            .is_some_and(|ranges| ranges.iter().any(|&(first, last)| first <= port && port <= last))
    }

    pub fn is_empty(&self) -> bool {
        self.ranges.values().all(Vec::is_empty)
    }

    pub fn is_all(&self) -> bool {
        *self == Self::all()
    }

    /// `(protocol, first, last)` triples in order, for JSON output.
    pub fn ranges(&self) -> impl Iterator<Item = (Protocol, u16, u16)> + '_ {
        self.ranges.iter().flat_map(|(protocol, ranges)| {
            ranges.iter().map(move |&(first, last)| (*protocol, first, last))
        })
    }
}

/// `all ports`, `none`, or e.g. `TCP 80,443,8000-8080; UDP 53` (`TCP any` for a whole protocol).
impl fmt::Display for PortSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_all() {
            return f.write_str("all ports");
        }
        if self.is_empty() {
            return f.write_str("none");
        }
        let mut first_protocol = true;
        for (protocol, ranges) in &self.ranges {
            if ranges.is_empty() {
                continue;
            }
            if !first_protocol {
                f.write_str("; ")?;
            }
            first_protocol = false;
            write!(f, "{protocol} ")?;
            if ranges == &[(MIN_PORT, MAX_PORT)] {
                f.write_str("any")?;
                continue;
            }
            for (index, &(first, last)) in ranges.iter().enumerate() {
                if index > 0 {
                    f.write_str(",")?;
                }
                if first == last {
                    write!(f, "{first}")?;
                } else {
                    write!(f, "{first}-{last}")?;
                }
            }
        }
        Ok(())
    }
}

impl serde::Serialize for PortSet {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut seq = serializer.serialize_seq(None)?;
        for (protocol, first, last) in self.ranges() {
            seq.serialize_element(&serde_json::json!({"protocol": protocol, "from": first, "to": last}))?;
        }
        seq.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adjacent_and_overlapping_ranges_merge() {
        let mut set = PortSet::none();
        set.add(Protocol::Tcp, 80, 80);
        set.add(Protocol::Tcp, 81, 90);
        set.add(Protocol::Tcp, 85, 100);
        set.add(Protocol::Udp, 53, 53);
        assert_eq!(set.to_string(), "TCP 80-100; UDP 53");
    }

    #[test]
    fn intersection_and_difference_work_per_protocol() {
        let mut left = PortSet::protocol(Protocol::Tcp);
        left.add(Protocol::Udp, 53, 53);
        let mut right = PortSet::none();
        right.add(Protocol::Tcp, 8000, 8080);
        assert_eq!(left.intersect(&right).to_string(), "TCP 8000-8080");
        assert_eq!(left.minus(&right).to_string(), "TCP 1-7999,8081-65535; UDP 53");
        assert!(right.minus(&left).is_empty());
    }

    #[test]
    fn whole_sets_print_plainly() {
        assert_eq!(PortSet::all().to_string(), "all ports");
        assert_eq!(PortSet::none().to_string(), "none");
        assert_eq!(PortSet::protocol(Protocol::Udp).to_string(), "UDP any");
        assert!(PortSet::all().contains(Protocol::Sctp, 65535));
    }
}
