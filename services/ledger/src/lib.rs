//! The ledger service.
