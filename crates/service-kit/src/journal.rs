//! The command journal: every user command a service decided, as it was
//! signed, with the block it was decided at and what came of it.
//!
//! Why: the event log says what happened, not what was asked. A what-if
//! replay (`taonet sim replay`) must re-run the *requests* under other
//! rules, where a stake that was accepted may now be refused and the other
//! way round, so the requests themselves are kept.
//!
//! What is recorded, and where:
//!
//! - a command that was accepted: in the same atomic store batch as its
//!   events (so a crash keeps both or neither);
//! - a command that was refused by the core: in that group commit's batch
//!   too, with no events; the record is not state, so refusals still change
//!   no digest;
//! - a retry of a command already applied (same signer and id,
//!   `AlreadyProcessed`): nothing, the first record stands;
//! - commands refused before any decision (bad signature, malformed,
//!   oversized): nothing, they never reached the core.
//!
//! Records are JSON (self-describing, and the signed body is JSON anyway);
//! only the store crate knows where they live.

use keys::AccountId;
use serde::{Deserialize, Serialize};

/// What the shell knows of a command before it is decided.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Draft {
    pub signer: AccountId,
    /// Arrived on the service subject (a trusted service key).
    pub service_caller: bool,
    /// The signed body exactly as signed: `{"client", "id", "command"}`.
    pub body: String,
    /// Wall-clock time the shell admitted it (Unix ms): orders commands of
    /// different services within one block on replay.
    pub received_ms: u64,
}

/// One journal record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    pub signer: AccountId,
    #[serde(default)]
    pub service_caller: bool,
    pub body: String,
    pub received_ms: u64,
    /// The deciding core's block (`Aggregate::block`) when it decided.
    pub block: u64,
    pub outcome: RecordedOutcome,
}

/// What the core made of the command.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordedOutcome {
    /// Accepted: its events are `first_seq..=last_seq` of the log
    /// (`last_seq < first_seq` when it emitted none).
    Accepted { first_seq: u64, last_seq: u64 },
    /// Refused by the core with this code (the rejection's variant name,
    /// as the reply carries it).
    Rejected { code: String },
}

impl Record {
    pub fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("a journal record is plain JSON")
    }

    pub fn decode(bytes: &[u8]) -> Result<Record, String> {
        serde_json::from_slice(bytes).map_err(|e| format!("journal record: {e}"))
    }

    /// The command id the signer gave (`body.id`), if the body parses.
    pub fn command_id(&self) -> Option<String> {
        let v: serde_json::Value = serde_json::from_str(&self.body).ok()?;
        v.get("id")?.as_str().map(str::to_owned)
    }
}

/// A rejection's code: its variant name, exactly as
/// [`crate::shell::rejected`] puts it in the reply.
pub fn rejection_code<R: Serialize>(r: &R) -> String {
    crate::shell::rejection_parts(r).0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_and_name_their_command() {
        let r = Record {
            signer: keys::Keypair::from_uri("//Alice").unwrap().public(),
            service_caller: false,
            body: r#"{"client":"cli","id":"stake-1","command":{"X":{}}}"#.into(),
            received_ms: 5,
            block: 7,
            outcome: RecordedOutcome::Rejected {
                code: "InsufficientBalance".into(),
            },
        };
        assert_eq!(Record::decode(&r.encode()), Ok(r.clone()));
        assert_eq!(r.command_id().as_deref(), Some("stake-1"));
        assert!(Record::decode(b"{").is_err());
    }
}
