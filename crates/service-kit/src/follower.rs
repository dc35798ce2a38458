//! A minimal pure core for services whose real core has not landed yet:
//! it follows the ledger's blocks through the inbox, so the shell's
//! exactly-once consumption is exercised by every service from day one.
//!
//! State: the last ledger block seen and how many ledger events were
//! observed. Replacing it with a service's real core changes nothing in the
//! shell.

use aggregate::Aggregate;
use envelope::{codec, DecodeError, VersionedEvent};
use serde::{Deserialize, Serialize};
use std::marker::PhantomData;

/// Gives a follower its service name.
pub trait Name: Send + Sync + 'static {
    const NAME: &'static str;
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum FollowerCommand {
    /// A ledger event at `seq` carrying `block` was delivered.
    Observe { seq: u64, block: u64 },
    /// A wire command this core does not know.
    Unsupported,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum FollowerEvent {
    Observed { seq: u64, block: u64 },
}

impl VersionedEvent for FollowerEvent {
    fn event_type(&self) -> &'static str {
        "Observed"
    }
    fn version(&self) -> u16 {
        1
    }
    fn encode_payload(&self) -> Vec<u8> {
        match self {
            FollowerEvent::Observed { seq, block } => codec::encode(&(seq, block)),
        }
    }
    fn decode_payload(event_type: &str, version: u16, payload: &[u8]) -> Result<Self, DecodeError> {
        match (event_type, version) {
            ("Observed", 1) => {
                let (seq, block) =
                    codec::decode(payload).map_err(|reason| DecodeError::Malformed {
                        event_type: event_type.into(),
                        version,
                        reason,
                    })?;
                Ok(FollowerEvent::Observed { seq, block })
            }
            _ => Err(DecodeError::UnknownType {
                event_type: event_type.into(),
                version,
            }),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum FollowerRejection {
    #[error("this service accepts no commands yet")]
    UnknownCommand,
    #[error("ledger event {seq} is not the next one after {last}")]
    OutOfOrder { seq: u64, last: u64 },
}

/// Follows ledger blocks.
#[derive(Serialize, Deserialize)]
pub struct Follower<N> {
    pub ledger_block: u64,
    pub ledger_seq: u64,
    pub observed: u64,
    #[serde(skip)]
    _name: PhantomData<N>,
}

impl<N> Default for Follower<N> {
    fn default() -> Self {
        Follower {
            ledger_block: 0,
            ledger_seq: 0,
            observed: 0,
            _name: PhantomData,
        }
    }
}

impl<N: Name> Aggregate for Follower<N> {
    const SERVICE: &'static str = N::NAME;
    type Command = FollowerCommand;
    type Event = FollowerEvent;
    type Rejection = FollowerRejection;

    fn decide(&self, command: &FollowerCommand) -> Result<Vec<FollowerEvent>, FollowerRejection> {
        match *command {
            FollowerCommand::Observe { seq, block } => {
                if seq != self.ledger_seq + 1 {
                    return Err(FollowerRejection::OutOfOrder {
                        seq,
                        last: self.ledger_seq,
                    });
                }
                Ok(vec![FollowerEvent::Observed { seq, block }])
            }
            FollowerCommand::Unsupported => Err(FollowerRejection::UnknownCommand),
        }
    }

    fn evolve(&mut self, event: &FollowerEvent) {
        match *event {
            FollowerEvent::Observed { seq, block } => {
                self.ledger_seq = seq;
                self.ledger_block = self.ledger_block.max(block);
                self.observed += 1;
            }
        }
    }

    fn block(&self) -> u64 {
        self.ledger_block
    }

    fn digest(&self) -> [u8; 32] {
        aggregate::canonical::digest(&(self.ledger_block, self.ledger_seq, self.observed))
    }

    fn snapshot(&self) -> Vec<u8> {
        codec::encode(&(self.ledger_block, self.ledger_seq, self.observed))
    }

    fn restore(bytes: &[u8]) -> Result<Self, String> {
        let (ledger_block, ledger_seq, observed) = codec::decode(bytes)?;
        Ok(Follower {
            ledger_block,
            ledger_seq,
            observed,
            _name: PhantomData,
        })
    }
}

/// The shell glue for a follower service.
pub struct FollowerService<N>(PhantomData<N>);

impl<N: Name> crate::Service for FollowerService<N> {
    type Core = Follower<N>;
    type Wire = serde_json::Value;

    fn admit(_caller: crate::Caller, _len: u32, _wire: serde_json::Value) -> FollowerCommand {
        FollowerCommand::Unsupported
    }

    fn sources() -> &'static [&'static str] {
        &["ledger"]
    }

    fn on_foreign(_core: &Follower<N>, event: &envelope::Envelope) -> Option<FollowerCommand> {
        Some(FollowerCommand::Observe {
            seq: event.seq,
            block: event.block,
        })
    }

    fn query(
        core: &Follower<N>,
        name: &str,
        _args: &serde_json::Value,
    ) -> Result<serde_json::Value, String> {
        match name {
            "follower" => Ok(serde_json::json!({
                "ledger_block": core.ledger_block,
                "ledger_seq": core.ledger_seq,
                "observed": core.observed,
            })),
            other => Err(format!("unknown query {other}")),
        }
    }
}
