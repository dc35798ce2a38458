//! The governance service.
