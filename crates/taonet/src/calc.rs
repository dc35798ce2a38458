//! Pure calculators: no cluster needed.

use serde_json::{json, Value};

/// `taonet calc emission --issuance RAO` (spec/tokenomics.md §1.1).
pub fn emission(issuance: u64) -> Value {
    json!({
        "issuance_rao": issuance,
        "block_emission_rao": ledger_core::block_emission(issuance),
        "era": ledger_core::era(issuance),
    })
}
