//! Tracing and OpenTelemetry export; W3C trace context in NATS headers and envelopes.
