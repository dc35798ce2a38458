//! The consensus service.
