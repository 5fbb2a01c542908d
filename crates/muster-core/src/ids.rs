//! Identifiers of an incident: an opaque id that never changes and a human number (`INC-42`).

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use uuid::Uuid;

/// The opaque, permanent identity of an incident. External systems reference this id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct IncidentId(pub Uuid);

impl fmt::Display for IncidentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// The human number people say out loud: `INC-42`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct IncidentNumber(pub i64);

impl fmt::Display for IncidentNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "INC-{}", self.0)
    }
}

/// How a person may point at an incident: `INC-7`, `inc-7`, `7` or the opaque id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IncidentRef {
    Number(IncidentNumber),
    Id(IncidentId),
}

impl FromStr for IncidentRef {
    type Err = crate::DomainError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        let digits = t
            .strip_prefix("INC-")
            .or_else(|| t.strip_prefix("inc-"))
            .or_else(|| t.strip_prefix("Inc-"))
            .unwrap_or(t);
        if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
            if let Ok(n) = digits.parse::<i64>()
                && n > 0
            {
                return Ok(IncidentRef::Number(IncidentNumber(n)));
            }
        } else if let Ok(u) = Uuid::parse_str(t) {
            return Ok(IncidentRef::Id(IncidentId(u)));
        }
        Err(crate::DomainError::BadIncidentRef(
            t.chars().take(80).collect(),
        ))
    }
}

impl fmt::Display for IncidentRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IncidentRef::Number(n) => n.fmt(f),
            IncidentRef::Id(id) => id.fmt(f),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_accepted_form() {
        assert_eq!(
            "INC-12".parse::<IncidentRef>().unwrap(),
            IncidentRef::Number(IncidentNumber(12))
        );
        assert_eq!(
            " inc-3 ".parse::<IncidentRef>().unwrap(),
            IncidentRef::Number(IncidentNumber(3))
        );
        assert_eq!(
            "7".parse::<IncidentRef>().unwrap(),
            IncidentRef::Number(IncidentNumber(7))
        );
        let u = Uuid::now_v7();
        assert_eq!(
            u.to_string().parse::<IncidentRef>().unwrap(),
            IncidentRef::Id(IncidentId(u))
        );
    }

    #[test]
    fn rejects_garbage() {
        for bad in [
            "",
            "INC-",
            "INC-0",
            "0",
            "-3",
            "INC-x",
            "hello",
            "99999999999999999999999",
        ] {
            assert!(bad.parse::<IncidentRef>().is_err(), "{bad} accepted");
        }
    }
}
