//! Structure-aware fuzzing of a pure core's `decide`, on proptest.
//!
//! A test names a reachable state (genesis plus valid commands) and, for any
//! state, a list of *seed* commands: one or more valid-looking commands of
//! every variant. Each fuzz input picks seeds and edits their serde JSON
//! form (hostile numbers, long or foreign strings, unknown accounts, grown,
//! emptied or reordered vectors, subtrees spliced in from other seeds, so
//! enum variants and origins mix), keeping only edits that still
//! deserialize into the command type. [`fuzz_decide`] throws those at
//! `decide` and checks, for every command:
//!
//! - `decide` does not panic, leaves the digest unchanged and is
//!   deterministic (the same command decides the same way twice);
//! - a rejection is a typed value that serializes;
//! - accepted events survive their wire encoding, evolve without panicking
//!   and keep the core's invariants (the test's `invariants` function);
//!
//! and, at the end of every input, that replaying the whole log (setup and
//! accepted events, decoded from their payloads) into an empty state, and
//! restoring a snapshot, give the live digest.
//!
//! The number of inputs is proptest's: `PROPTEST_CASES` (256 by default).

use std::cell::Cell;
use std::fmt::Debug;

use aggregate::Aggregate;
use envelope::VersionedEvent;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde::{de::DeserializeOwned, Serialize};
use serde_json::Value;

/// Most commands one fuzz input sends.
pub const MAX_COMMANDS: usize = 24;
/// Most edits applied to one seed command.
pub const MAX_EDITS: usize = 5;
/// Largest vector an edit grows (big enough to hurt a quadratic rule, small
/// enough that a run stays fast).
pub const MAX_GROWN_LEN: usize = 4_096;

/// Boundary integers: every width's edges and the supply constants.
pub const EDGE_U64: [u64; 18] = [
    0,
    1,
    2,
    7,
    u8::MAX as u64,
    u8::MAX as u64 + 1,
    u16::MAX as u64,
    u16::MAX as u64 + 1,
    u32::MAX as u64,
    u32::MAX as u64 + 1,
    i64::MAX as u64,
    u64::MAX - 1,
    u64::MAX,
    500,                    // existential deposit
    1_000_000_000,          // one TAO in RAO
    21_000_000_000_000_000, // total supply
    10_500_000_000_000_000, // first halving
    1 << 53,
];

/// Edge and odd strings (the empty one, over-long ids, control and
/// multi-byte characters, path-like and wildcard text).
pub fn hostile_string(pick: u64) -> String {
    match pick % 9 {
        0 => String::new(),
        1 => "x".repeat(128),
        2 => "x".repeat(129),
        3 => "y".repeat(10_000),
        4 => "\u{0}\u{7f}\u{feff}é中🙂".to_owned(),
        5 => "taonet.>.*".to_owned(),
        6 => "/../..".to_owned(),
        7 => (pick % 100_000).to_string(),
        _ => keys::AccountId([(pick >> 8) as u8; 32]).to_ss58(),
    }
}

/// An account no fixture uses (any 32 bytes), in its JSON (SS58) form.
pub fn stranger(pick: u64) -> String {
    let mut bytes = [0u8; 32];
    for (i, b) in bytes.iter_mut().enumerate() {
        *b = (pick.rotate_left(i as u32 * 5) ^ (i as u64 * 0x9e37)) as u8;
    }
    keys::AccountId(bytes).to_ss58()
}

/// A hostile integer near `orig` or at a boundary.
pub fn hostile_u64(orig: u64, pick: u64) -> u64 {
    match pick % 8 {
        0..=2 => EDGE_U64[(pick >> 3) as usize % EDGE_U64.len()],
        3 => orig.wrapping_add(1),
        4 => orig.wrapping_sub(1),
        5 => orig.saturating_mul(2),
        6 => orig / 2,
        _ => pick >> 3,
    }
}

/// One edit of a command's JSON tree: `kind` picks what, `at` which node,
/// `pick` the new value.
#[derive(Clone, Debug)]
pub struct Edit {
    pub kind: u8,
    pub at: u32,
    pub pick: u64,
}

pub fn edit() -> impl Strategy<Value = Edit> {
    (any::<u8>(), any::<u32>(), any::<u64>()).prop_map(|(kind, at, pick)| Edit { kind, at, pick })
}

/// One command of an input: which seed, and the edits to make to it.
#[derive(Clone, Debug)]
pub struct Step {
    pub seed: u32,
    pub edits: Vec<Edit>,
}

pub fn step() -> impl Strategy<Value = Step> {
    (any::<u32>(), prop::collection::vec(edit(), 0..=MAX_EDITS))
        .prop_map(|(seed, edits)| Step { seed, edits })
}

/// JSON pointers of every node of `v` (the root is `""`).
fn pointers(v: &Value, at: String, out: &mut Vec<String>) {
    match v {
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                pointers(item, format!("{at}/{i}"), out);
            }
        }
        Value::Object(map) => {
            for (k, item) in map {
                let key = k.replace('~', "~0").replace('/', "~1");
                pointers(item, format!("{at}/{key}"), out);
            }
        }
        _ => {}
    }
    out.push(at);
}

/// The edited node, or `None` when the edit does not apply to it.
fn edited(node: &Value, e: &Edit, donors: &[Value]) -> Option<Value> {
    let pick = e.pick;
    Some(match (e.kind % 8, node) {
        // Splice: any node of any seed (variants, origins, accounts).
        (0 | 1, _) => {
            let donor = &donors[(pick as usize) % donors.len()];
            let mut ps = Vec::new();
            pointers(donor, String::new(), &mut ps);
            donor
                .pointer(&ps[(pick >> 16) as usize % ps.len()])?
                .clone()
        }
        (2, Value::Null) => Value::from(hostile_u64(0, pick)),
        (2, _) => Value::Null,
        (7, Value::Number(_)) if pick & 1 == 1 => Value::from(
            [-1i64, i64::from(i16::MIN), i64::from(i32::MIN), i64::MIN][(pick >> 1) as usize % 4],
        ),
        (_, Value::Number(n)) => Value::from(hostile_u64(n.as_u64().unwrap_or(0), pick)),
        (_, Value::Bool(b)) => Value::Bool(!b),
        (3, Value::String(_)) => Value::String(stranger(pick)),
        (_, Value::String(_)) => Value::String(hostile_string(pick)),
        (_, Value::Array(items)) if !items.is_empty() => {
            let mut items = items.clone();
            match e.kind % 4 {
                0 => items.truncate((pick as usize) % items.len()),
                1 => items.reverse(),
                _ => {
                    let n = (pick as usize) % MAX_GROWN_LEN;
                    let first = items[0].clone();
                    items.resize(n.max(items.len()), first);
                }
            }
            Value::Array(items)
        }
        (_, Value::Object(map)) if !map.is_empty() => {
            // Drop one field (exercises `#[serde(default)]` fields).
            let mut map = map.clone();
            let k = map.keys().nth((pick as usize) % map.len())?.clone();
            map.remove(&k);
            Value::Object(map)
        }
        _ => return None,
    })
}

/// Applies `edits` to `seed`, keeping each edit only if the result still
/// deserializes as `C`. Returns the command and how many edits were kept.
pub fn mutate<C: Serialize + DeserializeOwned>(
    seed: &C,
    edits: &[Edit],
    donors: &[Value],
) -> (C, usize) {
    let mut v = serde_json::to_value(seed).expect("a command serializes to JSON");
    let mut kept = 0;
    for e in edits {
        let mut ps = Vec::new();
        pointers(&v, String::new(), &mut ps);
        let p = &ps[e.at as usize % ps.len()];
        let Some(new) = v.pointer(p).and_then(|node| edited(node, e, donors)) else {
            continue;
        };
        let mut candidate = v.clone();
        *candidate.pointer_mut(p).expect("pointer of this tree") = new;
        if serde_json::from_value::<C>(candidate.clone()).is_ok() {
            v = candidate;
            kept += 1;
        }
    }
    let cmd = serde_json::from_value(v).expect("checked above");
    (cmd, kept)
}

/// What a fuzz run did, summed over its inputs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    pub inputs: u64,
    pub commands: u64,
    pub mutated: u64,
    pub accepted: u64,
    pub rejected: u64,
    pub events: u64,
}

/// Applies `cmds` in order to an empty state, panicking on a rejection:
/// a fuzz target's reachable starting point and its log.
pub fn build<A: Aggregate>(cmds: impl IntoIterator<Item = A::Command>) -> (A, Vec<A::Event>)
where
    A::Command: Debug,
{
    let mut state = A::default();
    let mut log = Vec::new();
    for cmd in cmds {
        extend(&mut state, &mut log, cmd);
    }
    (state, log)
}

/// Applies one valid command, panicking on a rejection.
pub fn extend<A: Aggregate>(state: &mut A, log: &mut Vec<A::Event>, cmd: A::Command)
where
    A::Command: Debug,
{
    match state.handle(&cmd) {
        Ok(events) => log.extend(events),
        Err(r) => panic!("setup command {cmd:?} rejected: {r}"),
    }
}

fn same_events<E: VersionedEvent>(a: &[E], b: &[E]) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|(x, y)| {
            x.event_type() == y.event_type() && x.encode_payload() == y.encode_payload()
        })
}

/// Runs the fuzz target (see the module docs) and returns what it did.
/// Panics (failing the test, with proptest's minimal input) on any broken
/// property; also if no command at all was accepted or rejected, which
/// would mean the seeds do not reach the rules.
pub fn fuzz_decide<A: Aggregate>(
    name: &str,
    base: &(A, Vec<A::Event>),
    seeds: impl Fn(&A) -> Vec<A::Command>,
    invariants: impl Fn(&A) -> Result<(), String>,
) -> Stats
where
    A::Command: Serialize + DeserializeOwned + Debug,
{
    let (start, setup_log) = base;
    let snapshot = start.snapshot();
    let stats = Cell::new(Stats::default());
    let config = Config {
        failure_persistence: None,
        ..Config::default()
    };
    let started = std::time::Instant::now();
    let mut runner = TestRunner::new(config);
    let strategy = prop::collection::vec(step(), 1..=MAX_COMMANDS);
    let result = runner.run(&strategy, |steps| {
        let mut s = stats.get();
        s.inputs += 1;
        let mut live = A::restore(&snapshot).map_err(TestCaseError::fail)?;
        let mut log: Vec<A::Event> = Vec::new();
        for st in &steps {
            let seeds = seeds(&live);
            let donors: Vec<Value> = seeds
                .iter()
                .map(|c| serde_json::to_value(c).expect("command to JSON"))
                .collect();
            let (cmd, kept) = mutate(&seeds[st.seed as usize % seeds.len()], &st.edits, &donors);
            s.commands += 1;
            s.mutated += u64::from(kept > 0);
            let before = live.digest();
            let decided = live.decide(&cmd);
            prop_assert_eq!(live.digest(), before, "decide changed the state: {:?}", cmd);
            let again = live.decide(&cmd);
            match (&decided, &again) {
                (Ok(a), Ok(b)) => prop_assert!(same_events(a, b), "nondeterministic: {:?}", cmd),
                (Err(a), Err(b)) => prop_assert_eq!(
                    serde_json::to_value(a).ok(),
                    serde_json::to_value(b).ok(),
                    "nondeterministic rejection: {:?}",
                    cmd
                ),
                _ => prop_assert!(false, "nondeterministic outcome: {:?}", cmd),
            }
            match decided {
                Ok(events) => {
                    s.accepted += 1;
                    s.events += events.len() as u64;
                    for e in &events {
                        let decoded = A::Event::decode_payload(
                            e.event_type(),
                            e.version(),
                            &e.encode_payload(),
                        )
                        .map_err(|err| TestCaseError::fail(format!("{e:?}: {err}")))?;
                        prop_assert!(
                            same_events(std::slice::from_ref(e), &[decoded]),
                            "event changed through its encoding: {:?}",
                            e
                        );
                        live.evolve(e);
                    }
                    invariants(&live)
                        .map_err(|err| TestCaseError::fail(format!("after {cmd:?}: {err}")))?;
                    log.extend(events);
                }
                Err(rejection) => {
                    s.rejected += 1;
                    prop_assert!(
                        serde_json::to_value(&rejection).is_ok()
                            && !rejection.to_string().is_empty(),
                        "rejection without a typed form: {:?}",
                        cmd
                    );
                    prop_assert_eq!(live.digest(), before);
                }
            }
        }
        let mut replayed = A::default();
        for e in setup_log.iter().chain(&log) {
            let payload = e.encode_payload();
            let decoded = A::Event::decode_payload(e.event_type(), e.version(), &payload)
                .map_err(|err| TestCaseError::fail(err.to_string()))?;
            replayed.evolve(&decoded);
        }
        prop_assert_eq!(replayed.digest(), live.digest(), "replay differs from live");
        let restored = A::restore(&live.snapshot()).map_err(TestCaseError::fail)?;
        prop_assert_eq!(
            restored.digest(),
            live.digest(),
            "snapshot differs from live"
        );
        stats.set(s);
        Ok(())
    });
    if let Err(e) = result {
        panic!("fuzz_decide[{name}]: {e}");
    }
    let s = stats.get();
    println!(
        "fuzz_decide[{name}]: {} inputs, {} commands ({} mutated), {} accepted, {} rejected, {} events, {:.1?}",
        s.inputs, s.commands, s.mutated, s.accepted, s.rejected, s.events, started.elapsed()
    );
    assert!(s.accepted > 0, "{name}: no command was ever accepted");
    assert!(s.rejected > 0, "{name}: no command was ever rejected");
    s
}
