//! Subject and stream names.

/// JetStream stream holding one service's events.
pub fn stream(service: &str) -> String {
    format!("TAONET_{}", service.to_uppercase())
}

/// Subject of one event.
pub fn event(service: &str, event_type: &str) -> String {
    format!("taonet.evt.{service}.{event_type}")
}

/// Wildcard over a service's events.
pub fn events(service: &str) -> String {
    format!("taonet.evt.{service}.>")
}

/// Subject of a user command.
pub fn command(service: &str, name: &str) -> String {
    format!("taonet.cmd.{service}.{name}")
}

/// Subject of a service-to-service command (saga steps).
pub fn service_command(service: &str, name: &str) -> String {
    format!("taonet.svc.{service}.{name}")
}

/// Subject of a query.
pub fn query(service: &str, name: &str) -> String {
    format!("taonet.qry.{service}.{name}")
}

/// Header carrying the event sequence (for humans reading the stream).
pub const SEQ_HEADER: &str = "Taonet-Seq";
/// W3C trace context header.
pub const TRACEPARENT: &str = "traceparent";
pub const TRACESTATE: &str = "tracestate";
