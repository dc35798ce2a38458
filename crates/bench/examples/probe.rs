use std::time::Instant;
use store::{Batch, EventStore};
fn main() {
    let dir = tempfile::tempdir().unwrap();
    let s = store::sled_store::SledStore::open(&dir.path().join("x")).unwrap();
    let env = store::conformance::event(1);
    let bytes = envelope::codec::encode_envelope(&env).len();
    println!("env {bytes} B");
    let per = 10_000u64;
    let mut last = 0;
    for round in 0..10 {
        let mut b = Batch {
            expected_last_seq: last,
            ..Default::default()
        };
        for i in 0..per {
            let mut e = env.clone();
            e.seq = last + 1 + i;
            e.payload = vec![7u8; 80];
            b.events.push(e);
            b.dedup.push((
                format!(
                    "cmd/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/bench-{}",
                    last + i
                )
                .into_bytes(),
                vec![1u8; 12],
            ));
        }
        let t = Instant::now();
        last = s.append(b).unwrap();
        let a = t.elapsed();
        let t = Instant::now();
        s.flush().unwrap();
        let f = t.elapsed();
        let t = Instant::now();
        for i in 0..per {
            let _ = s.dedup(format!("cmd/zzzz/{i}").as_bytes()).unwrap();
        }
        let d = t.elapsed();
        println!(
            "round {round}: append {:?} ({:.2} us/ev) flush {:?} dedup-miss {:.2} us",
            a,
            a.as_secs_f64() * 1e6 / per as f64,
            f,
            d.as_secs_f64() * 1e6 / per as f64
        );
    }
}
