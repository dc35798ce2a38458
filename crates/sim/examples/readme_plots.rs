//! Writes the README's charts: `examples/rules.json` under the three
//! emission rules, as small PNGs in `docs/img/`.
//!
//! ```text
//! cargo run --release -p sim --example readme_plots
//! ```

use amm_core::EmissionRule;
use std::path::Path;

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let s = sim::Scenario::load(&root.join("examples/rules.json")).expect("examples/rules.json");
    let rules = [
        EmissionRule::EmaPrice,
        EmissionRule::NetFlow,
        EmissionRule::RootWeights,
    ];
    let cmp = sim::compare(&s, &rules, &mut |_, _, _| {}).expect("the comparison runs");
    for p in sim::plot::write_comparison_png(&cmp, &root.join("docs/img")).expect("written") {
        println!("{}", p.display());
    }
}
