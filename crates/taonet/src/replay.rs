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
pub fn open_for_read(dir: &Path) -> Result<(SledStore, Option<tempfile::TempDir>)> {
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

/// A service's command journal as JSON lines (`taonet journal`), each
/// record with its number.
pub fn journal(service: &str, data: &Path) -> Result<Vec<String>> {
    if !crate::serve::SERVICES.contains(&service) {
        bail!(
            "unknown service {service:?}; one of {:?}",
            crate::serve::SERVICES
        );
    }
    let (store, _copy) = open_for_read(&log_dir(service, data))?;
    let mut lines = Vec::new();
    for (n, record) in read_journal(service, &store)? {
        let mut v = serde_json::to_value(&record)?;
        v["n"] = n.into();
        lines.push(v.to_string());
    }
    Ok(lines)
}

/// Every journal record of `service`'s store, decoded, in order, with its
/// number.
fn read_journal(
    service: &str,
    store: &SledStore,
) -> Result<Vec<(u64, service_kit::journal::Record)>> {
    let mut all = Vec::new();
    let mut from = 1;
    loop {
        let page = store::EventStore::journal(store, from, 4096)?;
        let Some((last, _)) = page.last() else {
            return Ok(all);
        };
        from = last + 1;
        for (n, bytes) in page {
            let record = service_kit::journal::Record::decode(&bytes)
                .map_err(|e| anyhow::anyhow!("{service} journal record {n}: {e}"))?;
            all.push((n, record));
        }
    }
}

/// What `taonet sim replay --from DIR` reads from a cluster's data
/// directory (the layout of `taonet up`): `genesis.json`, and per service
/// its command journal and its log, replayed offline for the final state
/// (a running cluster's logs are copied first, as `taonet replay` does).
pub fn recording(data: &Path) -> Result<sim::replay::Recording> {
    let genesis = crate::serve::load_genesis(&data.join("genesis.json"))
        .with_context(|| format!("{}: no cluster genesis", data.display()))?;
    let mut journals = std::collections::BTreeMap::new();
    let mut real_digests = std::collections::BTreeMap::new();
    let mut ledger = None;
    let mut amm = None;
    for service in crate::serve::SERVICES {
        let dir = log_dir(service, data);
        let (store, _copy) = open_for_read(&dir).with_context(|| format!("the {service} log"))?;
        let records = read_journal(service, &store)?;
        journals.insert(
            service.to_owned(),
            records.into_iter().map(|(_, r)| r).collect(),
        );
        let digest = match service {
            "ledger" => {
                let (s, _) =
                    service_kit::runtime::replay::<ledger_core::Ledger>(&store, None, true)?;
                let d = s.digest();
                ledger = Some((s, block_timestamps(&store)?));
                d
            }
            "consensus" => {
                service_kit::runtime::replay::<consensus::ConsensusCore>(&store, None, true)?
                    .0
                    .digest()
            }
            "amm" => {
                let (s, _) = service_kit::runtime::replay::<amm_core::Amm>(&store, None, true)?;
                let d = s.digest();
                amm = Some(s);
                d
            }
            _ => service_kit::runtime::replay::<governance_core::Governance>(&store, None, true)?
                .0
                .digest(),
        };
        real_digests.insert(service.to_owned(), service_kit::digest_hex(&digest));
    }
    let (ledger, block_timestamps_ms) = ledger.expect("the ledger is one of the services");
    let amm = amm.expect("the amm is one of the services");
    Ok(sim::replay::Recording {
        source: data.display().to_string(),
        genesis,
        journals,
        blocks: ledger.height(),
        block_timestamps_ms,
        real: sim::economy::Economy::of(&ledger, &amm),
        real_digests,
    })
}

/// Block `b`'s timestamp at index `b − 1`, from `BlockProduced`.
fn block_timestamps(store: &SledStore) -> Result<Vec<u64>> {
    use envelope::VersionedEvent;
    let mut out = Vec::new();
    for env in store::EventStore::iter_from(store, 1) {
        let env = env?;
        if env.event_type != "BlockProduced" {
            continue;
        }
        if let ledger_core::event::LedgerEvent::BlockProduced(b) =
            ledger_core::event::LedgerEvent::decode_payload(
                &env.event_type,
                env.version,
                &env.payload,
            )?
        {
            if b.height != out.len() as u64 + 1 {
                bail!("ledger log: block {} follows block {}", b.height, out.len());
            }
            out.push(b.timestamp_ms);
        }
    }
    Ok(out)
}
