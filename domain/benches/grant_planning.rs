//! Planning the grants of one login, 10 000 customers × 1 000 networks,
//! within the 1 ms budget of `docs/design.md`. Pure code, so criterion.
//!
//! `cargo bench -p domain --bench grant_planning`

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use domain::grants::{plan, Customer, Existing, Network};
use domain::{CustomerKind, CustomerStatus, Role, RolePolicy, Source};

fn exchange() -> (Vec<Network>, Vec<Customer>, Vec<Existing>) {
    // 1 000 networks, perms cycling through update/read/none.
    let networks: Vec<Network> = (0..1_000).map(|i| Network { asn: 200_000 + i * 10, perms: [15, 1, 3, 0][i as usize % 4] }).collect();
    // 10 000 customers, one or two ASNs; every tenth shares an ASN with a network.
    let customers: Vec<Customer> = (0..10_000)
        .map(|i| Customer {
            id: i64::from(i),
            asns: if i % 3 == 0 { vec![200_000 + i, 300_000 + i] } else { vec![200_000 + i] },
            kind: if i % 7 == 0 { CustomerKind::Associate } else { CustomerKind::Full },
            status: if i % 11 == 0 { CustomerStatus::Suspended } else { CustomerStatus::Active },
            peeringdb_login: i % 13 != 0,
            max_role: None,
            require_mfa: false,
        })
        .collect();
    // The person already has 300 affiliations: some PeeringDB, some manual.
    let existing: Vec<Existing> = (0..300)
        .map(|i| Existing {
            customer_id: i * 30,
            role: if i % 2 == 0 { Role::Admin } else { Role::Member },
            source: if i % 5 == 0 { Source::Manual } else { Source::Peeringdb },
        })
        .collect();
    (networks, customers, existing)
}

fn bench(c: &mut Criterion) {
    let (networks, customers, existing) = exchange();
    let sample = plan(&networks, &customers, &existing, RolePolicy::Perms);
    eprintln!(
        "plan: {} add, {} change, {} remove, {} keep",
        sample.add.len(),
        sample.change_role.len(),
        sample.remove.len(),
        sample.keep.len()
    );
    c.bench_function("grant planning: 10 000 customers x 1 000 networks, 300 existing", |b| {
        b.iter(|| plan(black_box(&networks), black_box(&customers), black_box(&existing), RolePolicy::Perms))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
