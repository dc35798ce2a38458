//! Test harness shared by every test that needs real infrastructure.
//!
//! - [`nats::NatsServer`]: a real `nats-server` with JetStream on free ports
//!   and a temp store dir; restartable on the same port and store so tests
//!   can take NATS away under load and bring it back.
//! - [`fuzz`]: structure-aware fuzzing of a pure core's `decide` on
//!   proptest (hostile edits of valid seed commands; docs/fuzzing.md).
//!
//! The OTLP receiver that stands in for Jaeger is its own crate
//! (`otlp-receiver`) because the compose test override runs it as a binary.

pub mod fuzz;
pub mod nats;
