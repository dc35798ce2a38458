//! Kill -9 tests for the durability sentences in `sled_store`'s docs.
//!
//! The test binary re-runs itself as a writer child (the `crash_child`
//! test, which does nothing unless `STORE_CRASH_CHILD` is set), waits until
//! the child reports a position, SIGKILLs it while it is still appending,
//! and reopens the directory.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use store::conformance::batch;
use store::sled_store::SledStore;
use store::{EventStore, StoreError};

const CHILD_ENV: &str = "STORE_CRASH_CHILD";
const PER_BATCH: u64 = 5;
const REPORTED_BATCHES: u64 = 20;

/// One batch of the child's log: `PER_BATCH` events, the checkpoint
/// `inbox` set to the batch's last seq, and a dedup record per batch.
fn append_batch(store: &SledStore, number: u64) -> Result<u64, StoreError> {
    let expected = (number - 1) * PER_BATCH;
    let mut b = batch(expected, PER_BATCH);
    b.checkpoints = vec![("inbox".into(), expected + PER_BATCH)];
    b.dedup = vec![(dedup_key(number), number.to_be_bytes().to_vec())];
    store.append(b)
}

fn dedup_key(batch_number: u64) -> Vec<u8> {
    format!("batch:{batch_number}").into_bytes()
}

/// The writer. `flush`: append, flush, report, keep appending unflushed.
/// `noflush`: append, report, keep appending; never flush.
#[test]
fn crash_child() {
    let Ok(spec) = std::env::var(CHILD_ENV) else {
        return;
    };
    let (mode, path) = spec.split_once(' ').expect("mode and path");
    let store = SledStore::open(Path::new(path)).unwrap();
    let mut number = 0;
    for _ in 0..REPORTED_BATCHES {
        number += 1;
        append_batch(&store, number).unwrap();
    }
    if mode == "flush" {
        store.flush().unwrap();
    }
    println!("READY {}", number * PER_BATCH);
    // Keep appending so the kill lands mid-append. The deadline only stops
    // an orphan if the parent died without killing us.
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        number += 1;
        append_batch(&store, number).unwrap();
    }
    std::process::exit(3);
}

/// Runs the child in `mode`, kills it once it reports, returns the reported
/// last seq.
fn kill_writer(mode: &str, path: &Path) -> u64 {
    let exe = std::env::current_exe().unwrap();
    let mut child = Command::new(exe)
        .args([
            "--exact",
            "crash_child",
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .env(CHILD_ENV, format!("{mode} {}", path.display()))
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut reported = None;
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        // libtest prints "test crash_child ... " before the child's output.
        if let Some((_, n)) = line.split_once("READY ") {
            reported = Some(n.trim().parse().unwrap());
            break;
        }
    }
    child.kill().unwrap(); // SIGKILL on Unix
    let status = child.wait().unwrap();
    assert!(!status.success(), "child was not killed: {status}");
    reported.expect("child exited before reporting")
}

/// What a reopened store must look like after any crash: whole batches
/// only, gap-free, metadata exactly matching the surviving events.
fn assert_whole_batches(store: &SledStore) -> u64 {
    let last = store.last_seq().unwrap();
    assert_eq!(
        last % PER_BATCH,
        0,
        "a batch survived in part: last seq {last}"
    );
    let seqs: Vec<u64> = store.iter_from(0).map(|e| e.unwrap().seq).collect();
    assert_eq!(seqs, (1..=last).collect::<Vec<_>>(), "log has a gap");
    let batches = last / PER_BATCH;
    let inbox = (batches > 0).then_some(last);
    assert_eq!(store.checkpoint("inbox").unwrap(), inbox, "checkpoint");
    if batches > 0 {
        assert!(store.dedup(&dedup_key(batches)).unwrap().is_some(), "dedup");
    }
    assert_eq!(store.dedup(&dedup_key(batches + 1)).unwrap(), None, "dedup");
    // The cached position is right: the next batch appends, a stale one not.
    assert_eq!(append_batch(store, batches + 1), Ok(last + PER_BATCH));
    last
}

/// A flushed append survives kill -9; a crash mid-append leaves whole
/// batches.
#[test]
fn flushed_appends_survive_kill_9() {
    for _ in 0..3 {
        let dir = tempfile::tempdir().unwrap();
        let reported = kill_writer("flush", dir.path());
        let store = SledStore::open(dir.path()).unwrap();
        let last = assert_whole_batches(&store);
        assert!(last >= reported, "flushed {reported}, recovered {last}");
    }
}

/// Without flush nothing is promised about how much survives, only that
/// what survives is whole batches with their metadata.
#[test]
fn unflushed_appends_are_lost_whole_on_kill_9() {
    for _ in 0..3 {
        let dir = tempfile::tempdir().unwrap();
        let reported = kill_writer("noflush", dir.path());
        let store = SledStore::open(dir.path()).unwrap();
        let last = assert_whole_batches(&store);
        eprintln!("unflushed: child reported {reported}, {last} recovered");
    }
}
