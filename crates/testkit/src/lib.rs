//! Test harness: nats-server on free ports, OTLP receiver.
