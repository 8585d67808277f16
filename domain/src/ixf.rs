//! Customers from an IX-F Member Export, the euro-ix JSON that IXP Manager
//! and most exchanges publish (schema versions 0.6 to 1.0): which members
//! of which exchange become which customers, and what the export no
//! longer lists. Every problem names its place in the JSON
//! (`member_list[3].asnum`); one problem and nothing is imported.

use std::collections::{BTreeMap, HashSet};

use serde::Deserialize;

use crate::customer::{validate_customer, Asn, CustomerFields, CustomerKind, CustomerStatus, Shortname, ValidCustomer};

/// The schema versions this reader knows. Later minor versions only add
/// fields it does not read.
pub const VERSIONS: [&str; 5] = ["0.6", "0.7", "0.8", "0.9", "1.0"];

/// A problem of the export, at a place in its JSON.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IxfError {
    /// `member_list[3].connection_list[0].state`, or empty for the whole file.
    pub path: String,
    pub message: String,
}

impl std::fmt::Display for IxfError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.path.is_empty() {
            write!(f, "{}", self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

fn error(path: impl Into<String>, message: impl Into<String>) -> IxfError {
    IxfError { path: path.into(), message: message.into() }
}

#[derive(Deserialize)]
struct Export {
    version: String,
    ixp_list: Vec<Ixp>,
    member_list: Vec<Member>,
}

#[derive(Deserialize)]
struct Ixp {
    ixp_id: i64,
    #[serde(default)]
    shortname: Option<String>,
    #[serde(default)]
    name: Option<String>,
}

#[derive(Deserialize)]
struct Member {
    asnum: u32,
    #[serde(default)]
    member_type: Option<String>,
    #[serde(default)]
    name: Option<String>,
    connection_list: Vec<Connection>,
}

#[derive(Deserialize)]
struct Connection {
    ixp_id: i64,
    #[serde(default)]
    state: Option<String>,
}

/// How member types and connection states become customer types and
/// statuses (`PEERPORTAL_IXF_MEMBER_TYPES`, `PEERPORTAL_IXF_STATES`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mapping {
    pub member_types: BTreeMap<String, CustomerKind>,
    pub states: BTreeMap<String, CustomerStatus>,
}

impl Default for Mapping {
    /// Peering members are full members, the exchange's own networks are
    /// internal, anything else an associate; a connection that is up (in
    /// any version's words) is active, an inactive one suspended.
    fn default() -> Self {
        Mapping {
            member_types: [("peering", CustomerKind::Full), ("ixp", CustomerKind::Internal), ("other", CustomerKind::Associate)]
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
            states: [
                ("active", CustomerStatus::Active),
                ("connected", CustomerStatus::Active),
                ("operational", CustomerStatus::Active),
                ("inactive", CustomerStatus::Suspended),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
        }
    }
}

impl Mapping {
    /// The defaults with `member_types` and `states` laid over them, each
    /// as `word=value, word=value` (`peering=full, other=probono`).
    pub fn parse(member_types: Option<&str>, states: Option<&str>) -> Result<Mapping, String> {
        let mut mapping = Mapping::default();
        for pair in pairs(member_types)? {
            let kind = CustomerKind::parse(pair.1).map_err(|_| format!("{:?} is not a customer type ({})", pair.1, words(CustomerKind::ALL.iter().map(|k| k.as_str()))))?;
            mapping.member_types.insert(pair.0.to_string(), kind);
        }
        for pair in pairs(states)? {
            let status =
                CustomerStatus::parse(pair.1).map_err(|_| format!("{:?} is not a customer status ({})", pair.1, words(CustomerStatus::ALL.iter().map(|s| s.as_str()))))?;
            mapping.states.insert(pair.0.to_string(), status);
        }
        Ok(mapping)
    }
}

fn words<'a>(all: impl Iterator<Item = &'a str>) -> String {
    all.collect::<Vec<_>>().join(", ")
}

fn pairs(text: Option<&str>) -> Result<Vec<(&str, &str)>, String> {
    text.unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| p.split_once('=').map(|(a, b)| (a.trim(), b.trim())).ok_or_else(|| format!("{p:?} is not word=value")))
        .collect()
}

/// A customer the portal has, as an import matches against it.
#[derive(Clone, Debug)]
pub struct Known {
    pub shortname: String,
    pub name: String,
    pub asns: Vec<u32>,
    pub peeringdb_login: bool,
}

/// What an export means for the customer list.
#[derive(Debug, PartialEq, Eq)]
pub struct Plan {
    /// The exchange read: its id and name in the export.
    pub ixp: (i64, String),
    /// One customer per member organisation (its ASNs together), new or
    /// updating the known customer that holds one of its ASNs.
    pub customers: Vec<ValidCustomer>,
    /// Known customers none of whose ASNs the export lists at this
    /// exchange: for the operator to look at, never removed by an import.
    pub missing: Vec<String>,
}

/// Reads an export and plans the customers of exchange `ixp_id` (needed
/// when the export describes several).
pub fn plan(json: &str, ixp_id: Option<i64>, mapping: &Mapping, known: &[Known], allow_reserved: bool) -> Result<Plan, Vec<IxfError>> {
    // serde would read an array as the struct's fields in order.
    if json.trim_start().starts_with('[') {
        return Err(vec![error("", "the file is a JSON array: an IX-F export is an object with version, ixp_list and member_list")]);
    }
    let export: Export = serde_path_to_error::deserialize(&mut serde_json::Deserializer::from_str(json)).map_err(|e| {
        // `?` stands for a key the reader had not yet read (a cut file).
        let path = e.path().to_string();
        let path = path.trim_end_matches(".?");
        let path = if path == "." || path == "?" { String::new() } else { path.to_string() };
        vec![error(path, e.into_inner().to_string())]
    })?;
    if !VERSIONS.contains(&export.version.as_str()) {
        return Err(vec![error("version", format!("{:?} is not a schema version this reader knows ({})", export.version, VERSIONS.join(", ")))]);
    }
    let ixp = choose_ixp(&export.ixp_list, ixp_id)?;

    // Members of this exchange, grouped by organisation name: the export
    // lists one member per ASN.
    let mut errors = Vec::new();
    let mut organisations: BTreeMap<String, Organisation> = BTreeMap::new();
    let mut seen_asns = HashSet::new();
    for (i, member) in export.member_list.iter().enumerate() {
        let at = format!("member_list[{i}]");
        let connections: Vec<(usize, &Connection)> = member.connection_list.iter().enumerate().filter(|(_, c)| c.ixp_id == ixp.0).collect();
        if connections.is_empty() {
            continue; // A member of another exchange in the same file.
        }
        if let Err(e) = Asn::parse(&member.asnum.to_string(), allow_reserved) {
            errors.push(error(format!("{at}.asnum"), e));
            continue;
        }
        if !seen_asns.insert(member.asnum) {
            errors.push(error(format!("{at}.asnum"), format!("AS{} is listed twice", member.asnum)));
            continue;
        }
        let member_type = member.member_type.as_deref().unwrap_or("peering");
        let Some(kind) = mapping.member_types.get(member_type) else {
            errors.push(error(format!("{at}.member_type"), format!("{member_type:?} has no customer type (PEERPORTAL_IXF_MEMBER_TYPES)")));
            continue;
        };
        let mut status = None;
        for (j, connection) in &connections {
            let state = connection.state.as_deref().unwrap_or("active");
            match mapping.states.get(state) {
                None => errors.push(error(format!("{at}.connection_list[{j}].state"), format!("{state:?} has no customer status (PEERPORTAL_IXF_STATES)"))),
                // The best of its connections: one that is up makes the member active.
                Some(s) => status = Some(status.map_or(*s, |prev: CustomerStatus| if *s == CustomerStatus::Active { *s } else { prev })),
            }
        }
        let Some(status) = status else { continue };
        let name = member.name.as_deref().map(str::trim).filter(|n| !n.is_empty());
        let Some(name) = name else {
            errors.push(error(format!("{at}.name"), "a member needs a name"));
            continue;
        };
        let org = organisations.entry(name.to_lowercase()).or_insert_with(|| Organisation { name: name.to_string(), asns: Vec::new(), kind: *kind, status, at: at.clone() });
        org.asns.push(member.asnum);
        if status == CustomerStatus::Active {
            org.status = CustomerStatus::Active;
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }

    let mut taken: HashSet<String> = known.iter().map(|k| k.shortname.clone()).collect();
    let mut customers = Vec::new();
    let mut matched = HashSet::new();
    for org in organisations.values() {
        let existing = known.iter().find(|k| k.asns.iter().any(|a| org.asns.contains(a)));
        let shortname = match existing {
            Some(k) => {
                matched.insert(k.shortname.clone());
                k.shortname.clone()
            }
            None => free_shortname(&org.name, &mut taken),
        };
        let mut asns = org.asns.clone();
        asns.sort_unstable();
        let asns = asns.iter().map(u32::to_string).collect::<Vec<_>>().join(" ");
        let fields = CustomerFields {
            name: &org.name,
            shortname: &shortname,
            asns: &asns,
            kind: org.kind.as_str(),
            status: org.status.as_str(),
            // An operator's opt-out stays; new customers may log in.
            peeringdb_login: existing.is_none_or(|k| k.peeringdb_login),
            allow_reserved,
        };
        match validate_customer(&fields) {
            Ok(c) => customers.push(c),
            Err(e) => errors.push(error(&org.at, e)),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let missing = known.iter().filter(|k| !matched.contains(&k.shortname)).map(|k| k.shortname.clone()).collect();
    Ok(Plan { ixp, customers, missing })
}

struct Organisation {
    name: String,
    asns: Vec<u32>,
    kind: CustomerKind,
    status: CustomerStatus,
    /// The first member entry, for a problem's place.
    at: String,
}

fn choose_ixp(list: &[Ixp], wanted: Option<i64>) -> Result<(i64, String), Vec<IxfError>> {
    let label = |ixp: &Ixp| ixp.shortname.clone().or_else(|| ixp.name.clone()).unwrap_or_else(|| format!("ixp_id {}", ixp.ixp_id));
    match (wanted, list) {
        (Some(id), _) => list
            .iter()
            .find(|i| i.ixp_id == id)
            .map(|i| (i.ixp_id, label(i)))
            .ok_or_else(|| vec![error("ixp_list", format!("no exchange has ixp_id {id} (it lists {})", ids(list)))]),
        (None, [only]) => Ok((only.ixp_id, label(only))),
        (None, []) => Err(vec![error("ixp_list", "lists no exchange")]),
        (None, _) => Err(vec![error("ixp_list", format!("lists several exchanges ({}): choose one by its ixp_id", ids(list)))]),
    }
}

fn ids(list: &[Ixp]) -> String {
    list.iter()
        .map(|i| format!("{} {}", i.ixp_id, i.shortname.as_deref().or(i.name.as_deref()).unwrap_or("")).trim().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// A shortname from an organisation's name (`Alpha Net GmbH` →
/// `alpha-net-gmbh`), made unique against `taken`.
fn free_shortname(name: &str, taken: &mut HashSet<String>) -> String {
    let mut base = String::new();
    for c in name.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            base.push(c);
        } else if !base.ends_with('-') && !base.is_empty() {
            base.push('-');
        }
    }
    let mut base: String = base.trim_matches('-').chars().take(24).collect();
    base = base.trim_matches('-').to_string();
    if Shortname::parse(&base).is_err() {
        base = "member".to_string();
    }
    let mut candidate = base.clone();
    let mut n = 2;
    while taken.contains(&candidate) {
        candidate = format!("{base}-{n}");
        n += 1;
    }
    taken.insert(candidate.clone());
    candidate
}

#[cfg(test)]
mod tests {
    use super::*;

    const V10: &str = include_str!("../../fixtures/ixf/v1.0.json");
    const V07: &str = include_str!("../../fixtures/ixf/v0.7.json");
    const V06: &str = include_str!("../../fixtures/ixf/v0.6.json");

    fn plan_of(json: &str, ixp: Option<i64>, known: &[Known]) -> Result<Plan, Vec<IxfError>> {
        plan(json, ixp, &Mapping::default(), known, true)
    }

    fn row(p: &Plan, shortname: &str) -> (Vec<u32>, CustomerKind, CustomerStatus, bool) {
        let c = p.customers.iter().find(|c| c.shortname.as_str() == shortname).unwrap_or_else(|| panic!("{shortname} in {:?}", p.customers));
        (c.asn_numbers(), c.kind, c.status, c.peeringdb_login)
    }

    fn only_error(result: Result<Plan, Vec<IxfError>>) -> IxfError {
        let errors = result.unwrap_err();
        assert_eq!(errors.len(), 1, "{errors:?}");
        errors.into_iter().next().unwrap()
    }

    #[test]
    fn every_schema_version_reads_into_the_same_customers() {
        for (json, version) in [(V06, "0.6"), (V07, "0.7"), (V10, "1.0")] {
            let p = plan_of(json, Some(1), &[]).unwrap_or_else(|e| panic!("{version}: {e:?}"));
            assert_eq!(p.ixp, (1, "EX-IX".to_string()), "{version}");
            assert_eq!(row(&p, "alpha-net").1, CustomerKind::Full, "{version}");
        }
        assert_eq!(row(&plan_of(V06, None, &[]).unwrap(), "example-ix-route-servers").2, CustomerStatus::Active, "no state is active");
    }

    #[test]
    fn members_of_one_organisation_become_one_customer_with_their_asns() {
        let p = plan_of(V10, Some(1), &[]).unwrap();
        assert_eq!(row(&p, "alpha-net"), (vec![64500, 64501], CustomerKind::Full, CustomerStatus::Active, true));
        assert_eq!(p.customers.len(), 4, "Delta is a member of the other exchange only");
    }

    #[test]
    fn member_types_and_connection_states_map_to_types_and_statuses() {
        let p = plan_of(V10, Some(1), &[]).unwrap();
        assert_eq!(row(&p, "beta-carrier").2, CustomerStatus::Suspended, "inactive");
        assert_eq!(row(&p, "example-ix-route-servers").1, CustomerKind::Internal);
        assert_eq!(row(&p, "gamma-research").1, CustomerKind::Associate);
        assert_eq!(row(&p, "gamma-research").2, CustomerStatus::Active, "one connection up is enough");

        let mapping = Mapping::parse(Some("other=probono"), Some("inactive=left")).unwrap();
        let p = plan(V10, Some(1), &mapping, &[], true).unwrap();
        assert_eq!(row(&p, "gamma-research").1, CustomerKind::Probono);
        assert_eq!(row(&p, "beta-carrier").2, CustomerStatus::Left);
        assert!(Mapping::parse(Some("other=gold"), None).unwrap_err().contains("\"gold\" is not a customer type"));
        assert!(Mapping::parse(None, Some("inactive")).unwrap_err().contains("word=value"));
    }

    #[test]
    fn several_exchanges_in_one_file_need_a_choice() {
        let e = only_error(plan_of(V10, None, &[]));
        assert_eq!(e.path, "ixp_list");
        assert!(e.message.contains("1 EX-IX, 2 EX-IX-2") && e.message.contains("choose one by its ixp_id"), "{e}");
        let second = plan_of(V10, Some(2), &[]).unwrap();
        assert_eq!(second.customers.iter().map(|c| c.shortname.as_str()).collect::<Vec<_>>(), ["delta-elsewhere", "gamma-research"]);
        assert_eq!(only_error(plan_of(V10, Some(7), &[])).path, "ixp_list");
    }

    #[test]
    fn known_customers_are_matched_by_asn_and_keep_their_shortname_and_opt_out() {
        let known = [
            Known { shortname: "alpha".into(), name: "Alpha".into(), asns: vec![64501], peeringdb_login: false },
            Known { shortname: "gone".into(), name: "Gone Networks".into(), asns: vec![65000], peeringdb_login: true },
            Known { shortname: "beta-carrier".into(), name: "Another Beta".into(), asns: vec![65001], peeringdb_login: true },
        ];
        let p = plan_of(V10, Some(1), &known).unwrap();
        assert_eq!(row(&p, "alpha"), (vec![64500, 64501], CustomerKind::Full, CustomerStatus::Active, false));
        assert_eq!(row(&p, "beta-carrier-2").0, vec![64510], "a new customer never takes a known shortname");
        assert_eq!(p.missing, ["gone", "beta-carrier"], "listed, not removed");
    }

    #[test]
    fn reserved_asns_are_refused_unless_allowed_naming_the_member() {
        let e = plan(V07, None, &Mapping::default(), &[], false).unwrap_err();
        assert_eq!(e[0].path, "member_list[0].asnum");
        assert_eq!(e.len(), 2, "every bad member is named: {e:?}");
    }

    #[test]
    fn a_malformed_export_names_the_place_of_its_problem() {
        for (file, path, words) in [
            (include_str!("../../fixtures/ixf/malformed-asnum.json"), "member_list[1].asnum", "invalid type"),
            (include_str!("../../fixtures/ixf/malformed-no-connections.json"), "member_list[0]", "connection_list"),
            (include_str!("../../fixtures/ixf/malformed-state.json"), "member_list[0].connection_list[0].state", "\"testing\""),
            (include_str!("../../fixtures/ixf/malformed-version.json"), "version", "\"2.0\""),
            (include_str!("../../fixtures/ixf/malformed-truncated.json"), "member_list[0]", "EOF"),
            ("[]", "", "an object with version"),
            ("\"1.0\"", "", "invalid type"),
        ] {
            let e = only_error(plan_of(file, None, &[]));
            assert_eq!(e.path, path, "{e}");
            assert!(e.message.contains(words), "{e}");
        }
    }

    #[test]
    fn shortnames_are_made_from_names_and_kept_unique() {
        let mut taken = HashSet::from(["alpha-net".to_string()]);
        assert_eq!(free_shortname("Alpha Net", &mut taken), "alpha-net-2");
        assert_eq!(free_shortname("  Ünïcode — Networks, Inc. ", &mut taken), "n-code-networks-inc");
        assert_eq!(free_shortname("???", &mut taken), "member");
        assert!(free_shortname("A very long organisation name that goes on", &mut taken).len() <= 24);
    }
}
