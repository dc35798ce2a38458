//! The reference-chain vectors of shared/vectors/tokenomics.json that the
//! ledger owns, asserted with tolerance 0.

mod common;

use common::*;
use ledger_core::event::{AccountReaped, Transferred};
use ledger_core::*;
use serde_json::Value;

const VECTORS: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/vectors/tokenomics.json"
));

fn vector(id: &str) -> Value {
    let all: Value = serde_json::from_str(VECTORS).unwrap();
    let v = all["vectors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["id"] == id)
        .unwrap_or_else(|| panic!("vector {id} missing"))
        .clone();
    assert_eq!(v["tolerance"], 0, "{id}: we assert exactly");
    v
}

fn u(v: &Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("not a u64: {v}"))
}

#[test]
fn tao_block_emission_schedule() {
    let v = vector("tao_block_emission_schedule");
    let cases = v["cases"].as_array().unwrap();
    assert!(cases.len() >= 9);
    for case in cases {
        let issuance = u(&case["issuance"]);
        assert_eq!(
            block_emission(issuance),
            u(&case["emission"]),
            "issuance {issuance}"
        );
        assert_eq!(schedule(issuance).block_emission_rao, u(&case["emission"]));
    }
}

#[test]
fn mint_cap_and_dust() {
    let v = vector("mint_cap_and_dust");
    let cases = v["cases"].as_array().unwrap();

    // Mint: "issuance_before B, request 21e15 - B + 1000 → minted 21e15 - B,
    // issuance after 21e15" for any B; checked over a spread of B.
    let mint = cases.iter().find(|c| c["op"] == "mint").unwrap();
    assert_eq!(mint["request"], "21e15 - B + 1000");
    assert_eq!(mint["minted"], "21e15 - B");
    let after = u(&mint["issuance_after"]);
    assert_eq!(after, TOTAL_SUPPLY);
    for b in [
        0,
        1,
        10_500_000_000_000_000,
        TOTAL_SUPPLY - 1_000,
        TOTAL_SUPPLY - 1,
        TOTAL_SUPPLY,
    ] {
        let request = TOTAL_SUPPLY - b + 1000;
        let minted = mint_amount(request, b);
        assert_eq!(minted, TOTAL_SUPPLY - b);
        assert_eq!(b + minted, after);
    }

    // Transfer that reaps the sender; fees off as in the upstream unit test.
    let t = cases.iter().find(|c| c["op"] == "transfer").unwrap();
    let ed = u(&t["existential_deposit"]);
    let (sender_balance, amount) = (u(&t["sender_balance"]), u(&t["amount"]));
    // A fresh receiver, as upstream: 102 ≥ ED 100 opens its account.
    let receiver_balance = 0;
    let g = Genesis {
        existential_deposit: ed,
        ..genesis(&[(alice(), sender_balance)])
    };
    let before = given([genesis_applied(g.clone())]).ledger;
    let dust = sender_balance - amount;
    let after = given([genesis_applied(g)])
        .when(transfer(alice(), bob(), amount, false))
        .then(&[
            LedgerEvent::Transferred(Transferred {
                from: alice(),
                to: bob(),
                amount,
                fee: 0,
            }),
            LedgerEvent::AccountReaped(AccountReaped {
                account: alice(),
                dust,
            }),
        ]);
    assert_eq!(after.balance(&alice()), u(&t["sender_after"]));
    assert_eq!(
        after.balance(&bob()) - receiver_balance,
        u(&t["receiver_gets"])
    );
    let delta = after.total_issuance() as i128 - before.total_issuance() as i128;
    assert_eq!(delta, t["total_issuance_delta"].as_i64().unwrap() as i128);
    assert!(
        after.accounts().all(|(who, _)| who != alice()),
        "sender reaped"
    );
}
