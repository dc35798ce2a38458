use aggregate::Aggregate;
use envelope::{codec, VersionedEvent};
use std::time::Instant;
use store::EventStore;
fn main() {
    let path = std::env::args().nth(1).unwrap();
    let s = store::sled_store::SledStore::open(std::path::Path::new(&path)).unwrap();
    for round in 0..3 {
        let t = Instant::now();
        let mut n = 0usize;
        for v in s.iter_raw_from(1) {
            n += v.unwrap().len();
        }
        let a = t.elapsed();
        let t = Instant::now();
        for v in s.iter_raw_from(1) {
            let v = v.unwrap();
            let e = codec::decode_envelope_ref(&v).unwrap();
            n += e.seq as usize;
        }
        let b = t.elapsed();
        let t = Instant::now();
        for v in s.iter_raw_from(1) {
            let v = v.unwrap();
            let e = codec::decode_envelope_ref(&v).unwrap();
            let ev = ledger_core::LedgerEvent::decode_payload(e.event_type, e.version, e.payload)
                .unwrap();
            std::hint::black_box(&ev);
        }
        let c = t.elapsed();
        let t = Instant::now();
        let mut st = ledger_core::Ledger::default();
        for v in s.iter_raw_from(1) {
            let v = v.unwrap();
            let e = codec::decode_envelope_ref(&v).unwrap();
            let ev = ledger_core::LedgerEvent::decode_payload(e.event_type, e.version, e.payload)
                .unwrap();
            st.evolve(&ev);
        }
        let d = t.elapsed();
        let cnt = s.last_seq().unwrap() as f64;
        println!(
            "round {round}: raw {:.3}us +envref {:.3}us +payload {:.3}us +evolve {:.3}us per event",
            a.as_secs_f64() * 1e6 / cnt,
            b.as_secs_f64() * 1e6 / cnt,
            c.as_secs_f64() * 1e6 / cnt,
            d.as_secs_f64() * 1e6 / cnt
        );
        std::hint::black_box(n);
    }
}
