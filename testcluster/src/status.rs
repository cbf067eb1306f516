//! What `corosync-quorumtool -s` reports, parsed.

use crate::error::{HarnessError, Result};

/// A node's view of quorum and membership, as printed by `corosync-quorumtool -s` run inside
/// that node's namespace (so it is corosync's own view, independent of the crate under test).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuorumStatus {
    /// The id of the node that answered ("Node ID").
    pub node_id: u32,
    /// Whether that node is quorate ("Quorate: Yes").
    pub quorate: bool,
    /// The ring id as printed, e.g. `"1.9"` (empty if not shown).
    pub ring_id: String,
    /// Node ids of the current membership, sorted ascending.
    pub members: Vec<u32>,
    /// "Expected votes" (0 if not shown).
    pub expected_votes: u32,
    /// "Total votes" (0 if not shown).
    pub total_votes: u32,
    /// "Quorum", the number of votes needed (0 if not shown).
    pub quorum: u32,
    /// The words of the "Flags" line, e.g. `["Quorate", "WaitForAll"]`.
    pub flags: Vec<String>,
}

impl QuorumStatus {
    /// Parses the output of `corosync-quorumtool -s` (node ids in decimal, the default).
    pub fn parse(text: &str) -> Result<QuorumStatus> {
        let mut status = QuorumStatus {
            node_id: 0,
            quorate: false,
            ring_id: String::new(),
            members: Vec::new(),
            expected_votes: 0,
            total_votes: 0,
            quorum: 0,
            flags: Vec::new(),
        };
        let mut saw_quorate = false;
        let mut in_members = false;
        let number = |value: &str| -> u32 {
            value
                .split_whitespace()
                .next()
                .and_then(|v| v.parse().ok())
                .unwrap_or(0)
        };
        for line in text.lines() {
            let trimmed = line.trim();
            if in_members {
                let mut words = trimmed.split_whitespace();
                if let Some(id) = words.next().and_then(|w| w.parse::<u32>().ok()) {
                    status.members.push(id);
                    continue;
                }
                if trimmed.is_empty() {
                    continue;
                }
                in_members = false;
            }
            if trimmed.starts_with("Nodeid") {
                in_members = true;
                continue;
            }
            let Some((key, value)) = trimmed.split_once(':') else {
                continue;
            };
            let value = value.trim();
            match key.trim() {
                "Node ID" => status.node_id = number(value),
                "Quorate" => {
                    saw_quorate = true;
                    status.quorate = value.eq_ignore_ascii_case("yes");
                }
                "Ring ID" => status.ring_id = value.to_string(),
                "Expected votes" => status.expected_votes = number(value),
                "Total votes" => status.total_votes = number(value),
                "Quorum" => status.quorum = number(value),
                "Flags" => status.flags = value.split_whitespace().map(str::to_string).collect(),
                _ => {}
            }
        }
        if !saw_quorate {
            return Err(HarnessError::new(format!(
                "unexpected output of corosync-quorumtool -s (no \"Quorate:\" line):\n{text}"
            )));
        }
        status.members.sort_unstable();
        Ok(status)
    }
}

/// The members in the output of `corosync-cmapctl runtime.members.`: the ids of the nodes
/// whose `runtime.members.<id>.status` is `joined`, sorted ascending. Fails on a status line
/// it cannot read.
pub(crate) fn parse_cmap_members(text: &str) -> Result<Vec<u32>> {
    let mut members = Vec::new();
    for line in text.lines() {
        let Some(rest) = line.strip_prefix("runtime.members.") else {
            continue;
        };
        let Some((id, rest)) = rest.split_once('.') else {
            continue;
        };
        let Some(value) = rest.strip_prefix("status ") else {
            continue;
        };
        let (Ok(id), Some((_, value))) = (id.parse::<u32>(), value.split_once(" = ")) else {
            return Err(HarnessError::new(format!(
                "unexpected line in the output of corosync-cmapctl runtime.members.: {line}"
            )));
        };
        if value.trim() == "joined" {
            members.push(id);
        }
    }
    members.sort_unstable();
    members.dedup();
    Ok(members)
}

#[cfg(test)]
mod unit {
    use super::{parse_cmap_members, QuorumStatus};

    #[test]
    fn parses_cmap_members() {
        let text = "runtime.members.1.config_version (u64) = 0
runtime.members.1.ip (str) = r(0) ip(10.213.0.1) 
runtime.members.1.join_count (u32) = 1
runtime.members.1.status (str) = joined
runtime.members.2.config_version (u64) = 0
runtime.members.2.ip (str) = r(0) ip(10.213.0.2) 
runtime.members.2.join_count (u32) = 2
runtime.members.2.status (str) = left
runtime.members.12.status (str) = joined
";
        assert_eq!(parse_cmap_members(text).unwrap(), vec![1, 12]);
        assert_eq!(parse_cmap_members("").unwrap(), Vec::<u32>::new());
        assert!(parse_cmap_members("runtime.members.x.status (str) = joined").is_err());
    }

    const SAMPLE: &str = "Quorum information
------------------
Date:             Sun Nov 22 19:09:09 2026
Quorum provider:  corosync_votequorum
Nodes:            2
Node ID:          1
Ring ID:          1.9
Quorate:          Yes

Votequorum information
----------------------
Expected votes:   3
Highest expected: 3
Total votes:      2
Quorum:           2  
Flags:            Quorate 

Membership information
----------------------
    Nodeid      Votes Name
         2          1 node2
         1          1 node1 (local)
";

    #[test]
    fn parses_quorumtool_output() {
        let s = QuorumStatus::parse(SAMPLE).unwrap();
        assert_eq!(s.node_id, 1);
        assert!(s.quorate);
        assert_eq!(s.ring_id, "1.9");
        assert_eq!(s.members, vec![1, 2]);
        assert_eq!(s.expected_votes, 3);
        assert_eq!(s.total_votes, 2);
        assert_eq!(s.quorum, 2);
        assert_eq!(s.flags, vec!["Quorate".to_string()]);
    }

    #[test]
    fn parses_not_quorate() {
        let text = SAMPLE
            .replace("Quorate:          Yes", "Quorate:          No")
            .replace(
                "Quorum:           2  ",
                "Quorum:           2 Activity blocked",
            );
        let s = QuorumStatus::parse(&text).unwrap();
        assert!(!s.quorate);
        assert_eq!(s.quorum, 2);
    }

    #[test]
    fn rejects_garbage() {
        assert!(QuorumStatus::parse("Cannot initialize QUORUM service").is_err());
    }
}
