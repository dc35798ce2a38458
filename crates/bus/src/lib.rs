//! NATS JetStream plumbing: outbox publisher, inbox consumers, command request/reply.
