//! The pure TAO ledger: block clock, halving emission, balances, custody, fees.
