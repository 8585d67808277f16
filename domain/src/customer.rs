//! Customers: the member networks of the exchange. Their kinds and
//! statuses, the newtypes that a form or a CSV row must parse into, and the
//! one set of rules both follow.

use std::collections::HashMap;

use crate::UnknownValue;

words! {
    /// What kind of member a customer is. Only `full` and `probono`
    /// members get access through PeeringDB.
    pub enum CustomerKind ("customer type") {
        Full = "full",
        Associate = "associate",
        Probono = "probono",
        Internal = "internal",
    }
}
serde_as_word!(CustomerKind);

impl CustomerKind {
    pub fn may_log_in_with_peeringdb(self) -> bool {
        matches!(self, CustomerKind::Full | CustomerKind::Probono)
    }
}

words! {
    /// Where a customer stands. Only `active` customers get access through PeeringDB.
    pub enum CustomerStatus ("customer status") {
        Active = "active",
        Suspended = "suspended",
        Left = "left",
    }
}
serde_as_word!(CustomerStatus);

/// An autonomous system number that a customer may hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Asn(u32);

impl Asn {
    /// One ASN as people type it: `64500` or `AS64500`. AS0 never (RFC
    /// 7607); AS_TRANS, documentation, private-use and reserved numbers only
    /// when the operator insists (labs and demos use them; a typo usually
    /// lands there too).
    pub fn parse(token: &str, allow_reserved: bool) -> Result<Asn, String> {
        let digits = token.strip_prefix("AS").or_else(|| token.strip_prefix("as")).unwrap_or(token);
        let asn: u32 = digits.parse().map_err(|_| format!("{token:?} is not an ASN (1 to 4294967295)"))?;
        match asn_problem(asn, allow_reserved) {
            Some(problem) => Err(problem),
            None => Ok(Asn(asn)),
        }
    }

    pub fn get(self) -> u32 {
        self.0
    }
}

impl std::fmt::Display for Asn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AS{}", self.0)
    }
}

/// Why an ASN cannot be a member's, if it cannot.
pub fn asn_problem(asn: u32, allow_reserved: bool) -> Option<String> {
    let reserved = match asn {
        0 => return Some("AS0 is reserved (RFC 7607) and can never be used".into()),
        23456 => "is AS_TRANS (RFC 6793), not a real network",
        64496..=64511 | 65536..=65551 => "is reserved for documentation (RFC 5398)",
        64512..=65534 | 4_200_000_000..=4_294_967_294 => "is for private use (RFC 6996)",
        65535 | 4_294_967_295 => "is reserved (RFC 7300)",
        65552..=131_071 => "is reserved by IANA",
        _ => return None,
    };
    (!allow_reserved).then(|| format!("AS{asn} {reserved}; tick \"allow reserved ASNs\" if you really mean it"))
}

/// A list of ASNs as people type it: `64500 AS64501; 64502`, or commas.
/// Sorted, without repeats, never empty.
pub fn parse_asns(field: &str, allow_reserved: bool) -> Result<Vec<Asn>, String> {
    let mut asns = Vec::new();
    for token in field.split([' ', ';', ',']).filter(|t| !t.is_empty()) {
        let asn = Asn::parse(token, allow_reserved)?;
        if !asns.contains(&asn) {
            asns.push(asn);
        }
    }
    if asns.is_empty() {
        return Err("at least one ASN is required".into());
    }
    asns.sort_unstable();
    Ok(asns)
}

/// "AS64500, AS64501": ASNs the way network engineers write them.
pub fn format_asns(asns: &[u32]) -> String {
    asns.iter().map(|a| format!("AS{a}")).collect::<Vec<_>>().join(", ")
}

/// A customer's unique short name: 1–64 of `a-z 0-9 - _ .`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Shortname(String);

impl Shortname {
    pub fn parse(s: &str) -> Result<Shortname, String> {
        let s = s.trim();
        let ok = !s.is_empty() && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-_.".contains(&b));
        if ok {
            Ok(Shortname(s.to_string()))
        } else {
            Err(format!("shortname {s:?} must be 1-64 characters of a-z, 0-9, '-', '_' or '.'"))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A customer's name as people read it: not empty, at most 200 characters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CustomerName(String);

impl CustomerName {
    pub fn parse(s: &str) -> Result<CustomerName, String> {
        let name = s.trim();
        if name.is_empty() {
            return Err("name is empty".into());
        }
        if name.chars().count() > 200 {
            return Err("name is longer than 200 characters".into());
        }
        Ok(CustomerName(name.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A customer that passed every rule: what the database layer writes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidCustomer {
    pub name: CustomerName,
    pub shortname: Shortname,
    pub asns: Vec<Asn>,
    pub kind: CustomerKind,
    pub status: CustomerStatus,
    pub peeringdb_login: bool,
}

impl ValidCustomer {
    pub fn asn_numbers(&self) -> Vec<u32> {
        self.asns.iter().map(|a| a.get()).collect()
    }
}

/// A customer as typed into the form or a CSV row, before checking.
#[derive(Clone, Debug, Default)]
pub struct CustomerFields<'a> {
    pub name: &'a str,
    pub shortname: &'a str,
    pub asns: &'a str,
    pub kind: &'a str,
    pub status: &'a str,
    pub peeringdb_login: bool,
    pub allow_reserved: bool,
}

fn choice<T>(field: &str, value: &str, parse: fn(&str) -> Result<T, UnknownValue>, all: &[&str]) -> Result<T, String> {
    parse(value).map_err(|_| format!("{field} {value:?} is not one of {}", all.join(", ")))
}

/// The one set of rules for a customer, from the form and from CSV alike.
/// Problems read as a sentence fragment ("name is empty") so the console
/// and the CSV report can each frame them.
pub fn validate_customer(f: &CustomerFields<'_>) -> Result<ValidCustomer, String> {
    let name = CustomerName::parse(f.name)?;
    let shortname = Shortname::parse(f.shortname)?;
    let asns = parse_asns(f.asns, f.allow_reserved)?;
    let kinds: Vec<&str> = CustomerKind::ALL.iter().map(|k| k.as_str()).collect();
    let kind = choice("type", f.kind.trim(), CustomerKind::parse, &kinds)?;
    let statuses: Vec<&str> = CustomerStatus::ALL.iter().map(|s| s.as_str()).collect();
    let status = choice("status", f.status.trim(), CustomerStatus::parse, &statuses)?;
    Ok(ValidCustomer { name, shortname, asns, kind, status, peeringdb_login: f.peeringdb_login })
}

/// The columns of a customer CSV, in order.
pub const CSV_HEADER: [&str; 6] = ["name", "shortname", "asns", "type", "status", "peeringdb_login"];

/// A bad row of a CSV import, with its line number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    pub line: u64,
    pub message: String,
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

fn parse_row(record: &csv::StringRecord, allow_reserved: bool) -> Result<ValidCustomer, String> {
    if record.len() != CSV_HEADER.len() {
        return Err(format!("expected {} fields, found {}", CSV_HEADER.len(), record.len()));
    }
    let field = |i: usize| record.get(i).unwrap_or("").trim();
    let peeringdb_login = match field(5) {
        "" | "true" | "yes" | "1" => true,
        "false" | "no" | "0" => false,
        other => return Err(format!("peeringdb_login {other:?} is not true or false")),
    };
    validate_customer(&CustomerFields {
        name: field(0),
        shortname: field(1),
        asns: field(2),
        kind: field(3),
        status: field(4),
        peeringdb_login,
        allow_reserved,
    })
}

/// Every customer of a CSV text, or every problem in it: an import is all
/// or nothing.
pub fn parse_customers(text: &str, allow_reserved: bool) -> Result<Vec<ValidCustomer>, Vec<RowError>> {
    // A browser posts a textarea with CRLF line ends, and the csv crate then
    // counts one line too few: the line numbers are those of the LF text.
    let text = if text.contains('\r') { std::borrow::Cow::Owned(text.replace("\r\n", "\n")) } else { std::borrow::Cow::Borrowed(text) };
    let mut reader = csv::ReaderBuilder::new().has_headers(true).flexible(true).from_reader(text.as_bytes());
    let mut errors = Vec::new();
    match reader.headers() {
        Ok(h) => {
            let found: Vec<&str> = h.iter().map(str::trim).collect();
            if found != CSV_HEADER {
                errors.push(RowError { line: 1, message: format!("the header must be {}", CSV_HEADER.join(",")) });
                return Err(errors);
            }
        }
        Err(e) => return Err(vec![RowError { line: 1, message: e.to_string() }]),
    }
    let mut customers = Vec::new();
    let mut seen: HashMap<Shortname, u64> = HashMap::new();
    for record in reader.records() {
        match record {
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                errors.push(RowError { line, message: e.to_string() });
            }
            Ok(record) => {
                let line = record.position().map_or(0, |p| p.line());
                match parse_row(&record, allow_reserved) {
                    Ok(c) => {
                        if let Some(first) = seen.insert(c.shortname.clone(), line) {
                            errors.push(RowError { line, message: format!("shortname {:?} already used on line {first}", c.shortname.as_str()) });
                        } else {
                            customers.push(c);
                        }
                    }
                    Err(message) => errors.push(RowError { line, message }),
                }
            }
        }
    }
    if errors.is_empty() {
        Ok(customers)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &str = "name,shortname,asns,type,status,peeringdb_login\n";

    #[test]
    fn parses_the_demo_exchange() {
        let text = include_str!("../../fixtures/customers.csv");
        let customers = parse_customers(text, true).unwrap();
        assert_eq!(customers.len(), 65);
        let alpha = &customers[0];
        assert_eq!((alpha.name.as_str(), alpha.shortname.as_str(), alpha.asn_numbers()), ("Alpha Net", "alpha", vec![64500]));
        assert!(customers.iter().any(|c| c.shortname.as_str() == "gamma" && !c.peeringdb_login));
    }

    #[test]
    fn several_asns_are_space_separated() {
        let c = parse_customers(&format!("{HEAD}Multi,multi,64500 AS64501 64500,full,active,true\n"), true).unwrap();
        assert_eq!(c[0].asn_numbers(), vec![64500, 64501]);
    }

    #[test]
    fn a_pasted_csv_with_crlf_line_ends_reports_the_same_line_numbers() {
        let text = format!("{HEAD}Good,good,13335,full,active,true\nBad,bad,0,full,active,true\nOdd,odd,15169,gold,active,true\n");
        let lines = |t: &str| parse_customers(t, false).unwrap_err().iter().map(|e| e.line).collect::<Vec<_>>();
        assert_eq!(lines(&text), vec![3, 4]);
        assert_eq!(lines(&text.replace('\n', "\r\n")), vec![3, 4]);
    }

    #[test]
    fn every_bad_row_is_reported_with_its_line_number() {
        let text = format!(
            "{HEAD}Good,good,64500,full,active,true\n\
             ,noname,64501,full,active,true\n\
             Bad ASN,badasn,70000000000,full,active,true\n\
             Zero,zero,0,full,active,true\n\
             Trans,trans,23456,full,active,true\n\
             Type,type,64502,gold,active,true\n\
             Status,status,64503,full,gone,true\n\
             Flag,flag,64504,full,active,maybe\n\
             Short,Has Space,64505,full,active,true\n\
             Dup,good,64506,full,active,true\n\
             Few,few,64507\n"
        );
        let errors = parse_customers(&text, true).unwrap_err();
        let lines: Vec<u64> = errors.iter().map(|e| e.line).collect();
        // AS_TRANS passes here: this import allows reserved ASNs.
        assert_eq!(lines, vec![3, 4, 5, 7, 8, 9, 10, 11, 12]);
        assert!(errors[0].message.contains("name is empty"));
        assert!(errors[2].message.contains("RFC 7607"), "{}", errors[2]);
        assert!(errors[7].message.contains("already used on line 2"), "{}", errors[7]);
    }

    #[test]
    fn a_wrong_header_is_refused() {
        let errors = parse_customers("name,asn\nX,1\n", false).unwrap_err();
        assert_eq!(errors[0].line, 1);
    }

    #[test]
    fn reserved_asns_need_the_operator_to_insist() {
        for asn in [23456, 64496, 64511, 64512, 65534, 65535, 65536, 65551, 65552, 131071, 4_200_000_000, 4_294_967_295] {
            assert!(asn_problem(asn, false).is_some(), "AS{asn} passed unforced");
            assert!(asn_problem(asn, true).is_none(), "AS{asn} refused even when forced");
        }
        assert!(asn_problem(0, true).is_some(), "AS0 must never pass");
        for asn in [1, 13335, 64495, 131072, 3_999_999_999] {
            assert_eq!(asn_problem(asn, false), None, "AS{asn} is a public ASN");
        }
    }

    #[test]
    fn the_demo_exchange_needs_reserved_asns_allowed() {
        let errors = parse_customers(include_str!("../../fixtures/customers.csv"), false).unwrap_err();
        assert!(errors[0].message.contains("RFC"), "{}", errors[0]);
    }

    #[test]
    fn form_fields_follow_the_csv_rules() {
        let ok = CustomerFields { name: " Multi ", shortname: "multi", asns: "AS13335, 15169", kind: "full", status: "active", peeringdb_login: true, allow_reserved: false };
        let c = validate_customer(&ok).unwrap();
        assert_eq!((c.name.as_str(), c.asn_numbers()), ("Multi", vec![13335, 15169]));
        assert!(validate_customer(&CustomerFields { asns: "", ..ok.clone() }).unwrap_err().contains("at least one ASN"));
        assert!(validate_customer(&CustomerFields { kind: "gold", ..ok.clone() }).unwrap_err().contains("type"));
        assert!(validate_customer(&CustomerFields { asns: "4294967296", ..ok.clone() }).unwrap_err().contains("not an ASN"));
    }
}
