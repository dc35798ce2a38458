//! The amm service.
