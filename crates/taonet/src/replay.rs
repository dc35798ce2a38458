//! `taonet replay --service NAME --data DIR [--to-seq N]`: rebuilds a
//! service's state from its log without NATS and prints its digest.

use aggregate::Aggregate;
use anyhow::{bail, Context, Result};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use store::sled_store::SledStore;

/// The log dir of a service: `DIR/<service>` when it exists (the layout of
/// `taonet up`), else `DIR` itself.
pub fn log_dir(service: &str, data: &Path) -> PathBuf {
    let nested = data.join(service);
    if nested.is_dir() {
        nested
    } else {
        data.to_path_buf()
    }
}

/// Opens a log for reading. A running service holds sled's lock, so then
/// the log is copied and the copy is opened (sled recovers a copy taken
/// mid-write to its last complete batch).
fn open_for_read(dir: &Path) -> Result<(SledStore, Option<tempfile::TempDir>)> {
    if !dir.exists() {
        bail!("no log at {}", dir.display());
    }
    match SledStore::open(dir) {
        Ok(s) => Ok((s, None)),
        Err(first) => {
            let tmp = tempfile::tempdir()?;
            copy_dir(dir, tmp.path())?;
            let s = SledStore::open(tmp.path()).with_context(|| {
                format!("opening {} (and its copy) failed: {first}", dir.display())
            })?;
            Ok((s, Some(tmp)))
        }
    }
}

/// Copies a directory tree (a sled log in use, a cluster dir to keep).
pub fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

fn run<A: Aggregate>(
    service: &str,
    store: &SledStore,
    to_seq: Option<u64>,
    use_snapshot: bool,
) -> Result<Value> {
    let (state, stats) = service_kit::runtime::replay::<A>(store, to_seq, use_snapshot)?;
    Ok(json!({
        "service": service,
        "events": stats.events,
        "last_seq": stats.last_seq,
        "state_digest": service_kit::digest_hex(&state.digest()),
        "block": state.block(),
        "from_snapshot": stats.from_snapshot,
        "seconds": stats.seconds,
    }))
}

pub fn replay(
    service: &str,
    data: &Path,
    to_seq: Option<u64>,
    use_snapshot: bool,
) -> Result<Value> {
    let dir = log_dir(service, data);
    let (store, _copy) = open_for_read(&dir)?;
    match service {
        "ledger" => run::<ledger_core::Ledger>(service, &store, to_seq, use_snapshot),
        "consensus" => run::<consensus::ConsensusCore>(service, &store, to_seq, use_snapshot),
        "amm" => run::<amm_core::Amm>(service, &store, to_seq, use_snapshot),
        "governance" => run::<governance_core::Governance>(service, &store, to_seq, use_snapshot),
        other => bail!(
            "unknown service {other:?}; one of {:?}",
            crate::serve::SERVICES
        ),
    }
}
