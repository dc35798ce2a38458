//! The conformance suite against both implementations, one `#[test]` per
//! check so a failure names the check and the store.

use store::conformance::{self, checks, Check};
use store::mem::MemStore;
use store::sled_store::SledStore;
use store::{EventStore, StoreError};

/// Runs the named check from [`checks`] on a fresh store.
fn run<S: EventStore>(name: &str, make: impl Fn() -> S) {
    let all: Vec<(&str, Check<S>)> = checks::<S>();
    let (_, check) = all
        .iter()
        .find(|(n, _)| *n == name)
        .unwrap_or_else(|| panic!("no conformance check named {name}"));
    check(&make());
}

fn sled() -> SledStore {
    SledStore::temporary().expect("temporary sled store")
}

macro_rules! suite {
    ($($name:ident),* $(,)?) => {
        mod mem {
            $(#[test] fn $name() { super::run(stringify!($name), super::MemStore::new); })*
        }
        mod sled {
            $(#[test] fn $name() { super::run(stringify!($name), super::sled); })*
        }
        /// Guards the list below against a check added to the suite but
        /// not here.
        #[test]
        fn every_check_is_listed() {
            let listed = [$(stringify!($name)),*];
            let suite: Vec<&str> = checks::<MemStore>().into_iter().map(|(n, _)| n).collect();
            assert_eq!(suite, listed);
        }
    };
}

suite!(
    empty_store,
    append_read_round_trip,
    read_from_position,
    read_respects_max,
    iter_from_position,
    iter_raw_from_decodes_to_same,
    for_each_raw_from_lends_the_same,
    stale_writer_conflicts,
    invalid_batch_rejected,
    multi_event_append_atomic,
    checkpoints_in_batch,
    dedup_in_batch,
    journal_in_batch,
    metadata_only_batch,
    set_checkpoint_standalone,
    snapshots_save_load_replace,
    racing_appends_one_wins,
    contending_writers_stay_gap_free,
);

#[test]
fn run_all_mem() {
    conformance::run_all(MemStore::new);
}

#[test]
fn run_all_sled() {
    conformance::run_all(sled);
}

#[test]
fn sled_reopen_preserves_everything() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store");
    conformance::reopen_preserves_everything(|| reopen(&path));
}

/// Opens `path` again after the previous store on it was dropped. sled
/// releases its directory lock when the last handle to the database goes,
/// and its background flusher thread can hold one a moment past the drop
/// (seen once in CI: `could not acquire lock ... WouldBlock`), so a lock
/// refusal is retried for up to 5 s; any other error fails at once.
fn reopen(path: &std::path::Path) -> SledStore {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        match SledStore::open(path) {
            Ok(s) => return s,
            Err(StoreError::Io(e))
                if e.contains("could not acquire lock") && std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            Err(e) => panic!("reopening {}: {e}", path.display()),
        }
    }
}

/// The append lock is per `SledStore`, so a second store on the same
/// directory would break serialization. sled's directory lock refuses it.
#[test]
fn sled_refuses_a_second_open_of_the_same_path() {
    let dir = tempfile::tempdir().unwrap();
    let first = SledStore::open(dir.path()).unwrap();
    match SledStore::open(dir.path()) {
        Err(StoreError::Io(_)) => {}
        other => panic!("second open: {other:?}"),
    }
    drop(first);
    SledStore::open(dir.path()).expect("open after the first one closed");
}

#[test]
fn stores_are_shareable_through_arc() {
    fn shared<S: EventStore>(store: S) {
        let store = std::sync::Arc::new(store);
        let other = std::sync::Arc::clone(&store);
        std::thread::spawn(move || other.append(conformance::batch(0, 1)).unwrap())
            .join()
            .unwrap();
        assert_eq!(store.last_seq(), Ok(1));
    }
    shared(MemStore::new());
    shared(sled());
}
