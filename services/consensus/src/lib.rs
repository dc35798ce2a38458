//! The consensus service. Its pure core has not landed yet (see the open issues);
//! until then it runs the shared follower core, which consumes the
//! ledger's events exactly once and tracks the ledger's block, so the
//! service already takes part in the cluster, in replay and in tests.

use service_kit::follower::{FollowerService, Name};
use service_kit::{ServiceConfig, ShellError};
use std::sync::Arc;
use store::EventStore;
use tokio::sync::watch;

/// The name this service's log and stream carry.
pub struct ConsensusName;

impl Name for ConsensusName {
    const NAME: &'static str = "consensus";
}

/// The shell glue for this service.
pub type ConsensusService = FollowerService<ConsensusName>;

/// Runs the consensus service on a store until `shutdown`.
pub async fn run(
    cfg: ServiceConfig,
    store: Arc<dyn EventStore>,
    shutdown: watch::Receiver<bool>,
) -> Result<(), ShellError> {
    service_kit::run::<ConsensusService>(cfg, store, Vec::new(), shutdown).await
}
