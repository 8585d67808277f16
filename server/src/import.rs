//! Parsing the customer CSV (`name,shortname,asns,type,status,peeringdb_login`).
//! Pure: it reads text and returns either every customer or every bad row
//! with its line number, so an import is all or nothing.

use std::collections::HashMap;

use crate::store::CustomerInput;

pub const HEADER: [&str; 6] = ["name", "shortname", "asns", "type", "status", "peeringdb_login"];
pub const TYPES: [&str; 4] = ["full", "associate", "probono", "internal"];
pub const STATUSES: [&str; 3] = ["active", "suspended", "left"];

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

/// ASNs no network can hold: 0, AS_TRANS (23456) and the last of each space.
pub fn asn_problem(asn: u32) -> Option<String> {
    match asn {
        0 => Some("AS0 is reserved".into()),
        23456 => Some("AS23456 is AS_TRANS, not a real network".into()),
        65535 | 4294967295 => Some(format!("AS{asn} is reserved")),
        _ => None,
    }
}

pub fn parse_asns(field: &str) -> Result<Vec<u32>, String> {
    let mut asns = Vec::new();
    for token in field.split([' ', ';']).filter(|t| !t.is_empty()) {
        let digits = token.strip_prefix("AS").or_else(|| token.strip_prefix("as")).unwrap_or(token);
        let asn: u32 = digits.parse().map_err(|_| format!("{token:?} is not an ASN (1 to 4294967295)"))?;
        if let Some(p) = asn_problem(asn) {
            return Err(p);
        }
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

fn valid_shortname(s: &str) -> bool {
    !s.is_empty() && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-_.".contains(&b))
}

fn parse_row(record: &csv::StringRecord) -> Result<CustomerInput, String> {
    if record.len() != HEADER.len() {
        return Err(format!("expected {} fields, found {}", HEADER.len(), record.len()));
    }
    let field = |i: usize| record.get(i).unwrap_or("").trim();
    let name = field(0);
    if name.is_empty() {
        return Err("name is empty".into());
    }
    let shortname = field(1);
    if !valid_shortname(shortname) {
        return Err(format!("shortname {shortname:?} must be 1-64 characters of a-z, 0-9, '-', '_' or '.'"));
    }
    let asns = parse_asns(field(2))?;
    let kind = field(3);
    if !TYPES.contains(&kind) {
        return Err(format!("type {kind:?} is not one of {}", TYPES.join(", ")));
    }
    let status = field(4);
    if !STATUSES.contains(&status) {
        return Err(format!("status {status:?} is not one of {}", STATUSES.join(", ")));
    }
    let peeringdb_login = match field(5) {
        "" | "true" | "yes" | "1" => true,
        "false" | "no" | "0" => false,
        other => return Err(format!("peeringdb_login {other:?} is not true or false")),
    };
    Ok(CustomerInput {
        name: name.to_string(),
        shortname: shortname.to_string(),
        asns,
        kind: kind.to_string(),
        status: status.to_string(),
        peeringdb_login,
    })
}

/// Every customer in the file, or every problem in it.
pub fn parse_customers(text: &str) -> Result<Vec<CustomerInput>, Vec<RowError>> {
    let mut reader = csv::ReaderBuilder::new().has_headers(true).flexible(true).from_reader(text.as_bytes());
    let mut errors = Vec::new();
    match reader.headers() {
        Ok(h) => {
            let found: Vec<&str> = h.iter().map(str::trim).collect();
            if found != HEADER {
                errors.push(RowError { line: 1, message: format!("the header must be {}", HEADER.join(",")) });
                return Err(errors);
            }
        }
        Err(e) => return Err(vec![RowError { line: 1, message: e.to_string() }]),
    }
    let mut customers = Vec::new();
    let mut seen: HashMap<String, u64> = HashMap::new();
    for record in reader.records() {
        match record {
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                errors.push(RowError { line, message: e.to_string() });
            }
            Ok(record) => {
                let line = record.position().map_or(0, |p| p.line());
                match parse_row(&record) {
                    Ok(c) => {
                        if let Some(first) = seen.insert(c.shortname.clone(), line) {
                            errors.push(RowError { line, message: format!("shortname {:?} already used on line {first}", c.shortname) });
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
        let customers = parse_customers(text).unwrap();
        assert_eq!(customers.len(), 65);
        let alpha = &customers[0];
        assert_eq!((alpha.name.as_str(), alpha.shortname.as_str(), alpha.asns.as_slice()), ("Alpha Net", "alpha", &[64500][..]));
        assert!(customers.iter().any(|c| c.shortname == "gamma" && !c.peeringdb_login));
    }

    #[test]
    fn several_asns_are_space_separated() {
        let c = parse_customers(&format!("{HEAD}Multi,multi,64500 AS64501 64500,full,active,true\n")).unwrap();
        assert_eq!(c[0].asns, vec![64500, 64501]);
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
        let errors = parse_customers(&text).unwrap_err();
        let lines: Vec<u64> = errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, vec![3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
        assert!(errors[0].message.contains("name is empty"));
        assert!(errors[3].message.contains("AS_TRANS"), "{}", errors[3]);
        assert!(errors[8].message.contains("already used on line 2"), "{}", errors[8]);
    }

    #[test]
    fn a_wrong_header_is_refused() {
        let errors = parse_customers("name,asn\nX,1\n").unwrap_err();
        assert_eq!(errors[0].line, 1);
    }
}
