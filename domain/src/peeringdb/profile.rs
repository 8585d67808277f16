//! PeeringDB's `/profile/v1` document, parsed strictly where it matters
//! (id, ASNs, permissions) and leniently elsewhere: unknown fields are
//! ignored because PeeringDB adds fields over time, and the keys of scopes
//! not granted are absent, not null.

use serde::Deserialize;

use crate::grants::Network;

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct Profile {
    pub id: i64,
    #[serde(default)]
    pub given_name: Option<String>,
    #[serde(default)]
    pub family_name: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub verified_user: bool,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub verified_email: bool,
    /// `None` when the `networks` scope was not granted.
    #[serde(default)]
    pub networks: Option<Vec<ProfileNetwork>>,
    #[serde(default)]
    pub amr: Option<Vec<String>>,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct ProfileNetwork {
    pub id: i64,
    #[serde(default)]
    pub name: String,
    pub asn: u32,
    /// CRUD bitmask: read=1, update=2, create=4, delete=8.
    pub perms: u8,
    #[serde(default)]
    pub manage_peering_sessions: Option<u8>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ProfileError {
    #[error("the profile is not valid JSON of the expected shape: {0}")]
    Malformed(String),
}

impl Profile {
    pub fn parse(body: &[u8]) -> Result<Profile, ProfileError> {
        serde_json::from_slice(body).map_err(|e| ProfileError::Malformed(e.to_string()))
    }

    /// The name to show: `name`, else given + family name, else "PeeringDB user N".
    pub fn display_name(&self) -> String {
        if let Some(n) = self.name.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
            return n.to_string();
        }
        let joined = [self.given_name.as_deref(), self.family_name.as_deref()]
            .into_iter()
            .flatten()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        if joined.is_empty() {
            format!("PeeringDB user {}", self.id)
        } else {
            joined
        }
    }

    /// The networks as the grants planner takes them (none without the scope).
    pub fn grant_networks(&self) -> Vec<Network> {
        self.networks.iter().flatten().map(|n| Network { asn: n.asn, perms: n.perms }).collect()
    }

    pub fn asns(&self) -> Vec<u32> {
        let mut asns: Vec<u32> = self.networks.iter().flatten().map(|n| n.asn).collect();
        asns.sort_unstable();
        asns.dedup();
        asns
    }

    /// True when `amr` names a second factor (any order).
    pub fn has_mfa(&self) -> bool {
        self.amr.iter().flatten().any(|m| m == "mfa" || m == "otp" || m == "swk")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Profile {
        let path = format!("{}/../fixtures/profiles/{name}.json", env!("CARGO_MANIFEST_DIR"));
        Profile::parse(&std::fs::read(path).unwrap()).unwrap()
    }

    #[test]
    fn fixtures_parse() {
        let alice = fixture("alice");
        assert_eq!(alice.id, 1001);
        assert!(alice.verified_user && alice.verified_email);
        assert_eq!(alice.grant_networks(), vec![Network { asn: 64500, perms: 15 }, Network { asn: 64501, perms: 1 }]);
        assert!(alice.has_mfa());
        assert!(fixture("bob").networks.unwrap().is_empty());
        assert!(!fixture("carol").verified_email);
        assert!(!fixture("dave").verified_user);
        assert_eq!(fixture("erin").asns().len(), 60);
        assert_eq!(fixture("frank").asns(), vec![64502]);
    }

    #[test]
    fn unknown_fields_are_ignored_and_absent_scopes_are_none() {
        let p = Profile::parse(br#"{"id": 7, "name": "X", "brand_new_field": {"a": 1}, "verified_user": true}"#).unwrap();
        assert_eq!(p.networks, None);
        assert_eq!(p.email, None);
        assert!(!p.verified_email);
        assert!(p.grant_networks().is_empty());
    }

    #[test]
    fn malformed_documents_are_refused() {
        for bad in [&b"not json"[..], br#"{"name": "no id"}"#, br#"{"id": 1, "networks": [{"id": 1, "asn": -5, "perms": 1}]}"#, br#"[]"#] {
            assert!(Profile::parse(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn amr_order_does_not_matter() {
        let p = Profile::parse(br#"{"id": 1, "amr": ["mfa", "pwd"]}"#).unwrap();
        assert!(p.has_mfa());
    }

    #[test]
    fn display_name_falls_back() {
        let p = Profile::parse(br#"{"id": 9, "given_name": "Matt", "family_name": "Griswold"}"#).unwrap();
        assert_eq!(p.display_name(), "Matt Griswold");
        let p = Profile::parse(br#"{"id": 9}"#).unwrap();
        assert_eq!(p.display_name(), "PeeringDB user 9");
    }
}
