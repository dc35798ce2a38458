//! Harness for taonet's integration tests: a real nats-server (testkit),
//! real service processes (`taonet serve`, spawned from this crate's copy
//! of the CLI binary), real sled logs in temp dirs.
//!
//! Tests read as: start a cluster, drive it with signed commands, break
//! something (kill -9, NATS restart, a forged signature), then compare what
//! was acknowledged with what the logs and digests say.

pub mod cli;
pub mod faults;

use bus::rpc::{Accepted, CallError, CallOptions};
use keys::{AccountId, CommandBody, Keypair, Signed};
use ledger_core::{Clock, CommandBody as Ledger, Genesis};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use testkit::nats::NatsServer;

/// Path of the CLI binary built for tests. Cargo builds a package's
/// binaries before its integration tests and puts them one level above the
/// test executables (`target/<profile>/deps/..`).
/// A binary of this crate (e.g. `taonet-faults`) finds it next to itself;
/// `TAONET_TEST_NODE` overrides both.
pub fn node_bin() -> PathBuf {
    if let Some(p) = std::env::var_os("TAONET_TEST_NODE") {
        return PathBuf::from(p);
    }
    let exe = std::env::current_exe().expect("test exe");
    let here = exe.parent().expect("exe dir");
    let beside = here.join("taonet-test-node");
    if beside.exists() {
        return beside;
    }
    let dir = here.parent().expect("target dir");
    let bin = dir.join("taonet-test-node");
    assert!(
        bin.exists(),
        "{} missing: run through cargo test",
        bin.display()
    );
    bin
}

pub fn alice() -> Keypair {
    Keypair::from_uri("//Alice").expect("dev key")
}
pub fn bob() -> Keypair {
    Keypair::from_uri("//Bob").expect("dev key")
}
pub fn admin() -> Keypair {
    Keypair::from_uri("//Admin").expect("dev key")
}
pub fn service_key() -> Keypair {
    Keypair::from_uri("//AmmService").expect("dev key")
}

pub const TAO: u64 = 1_000_000_000;

/// A genesis for tests: Alice and Bob funded, //Admin may advance a manual
/// clock, //AmmService may run saga steps.
pub fn test_genesis(clock: Clock) -> Genesis {
    Genesis {
        balances: vec![
            (alice().public(), 1_000_000 * TAO),
            (bob().public(), 1_000 * TAO),
        ],
        admin: Some(admin().public()),
        services: vec![service_key().public()],
        clock,
        ..Genesis::default()
    }
}

/// A local cluster: one nats-server and any services, on temp dirs.
pub struct Cluster {
    pub nats: NatsServer,
    pub dir: tempfile::TempDir,
    genesis: PathBuf,
    procs: BTreeMap<String, Child>,
}

impl Cluster {
    pub fn start(genesis: Genesis) -> Self {
        let dir = tempfile::tempdir().expect("tmp");
        let nats = NatsServer::start_in(&dir.path().join("nats"));
        let gpath = dir.path().join("genesis.json");
        std::fs::write(&gpath, serde_json::to_string_pretty(&genesis).unwrap()).unwrap();
        Cluster {
            nats,
            dir,
            genesis: gpath,
            procs: BTreeMap::new(),
        }
    }

    /// A cluster whose genesis has subnets and economy parameters too.
    pub fn start_network(genesis: &taonet::genesis::NetworkGenesis) -> Self {
        genesis.validate().expect("valid network genesis");
        let c = Cluster::start(genesis.ledger.clone());
        std::fs::write(&c.genesis, serde_json::to_string_pretty(genesis).unwrap()).unwrap();
        c
    }

    pub fn data(&self, service: &str) -> PathBuf {
        self.dir.path().join(service)
    }

    /// Starts `taonet serve <service>` with extra environment variables.
    pub fn start_service(&mut self, service: &str, env: &[(&str, &str)]) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.path().join(format!("{service}.log")))
            .unwrap();
        let mut cmd = Command::new(node_bin());
        cmd.arg("serve")
            .arg(service)
            .arg("--data")
            .arg(self.data(service))
            .arg("--nats")
            .arg(self.nats.url())
            .env("RUST_LOG", "info")
            .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log);
        cmd.arg("--genesis").arg(&self.genesis);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = cmd.spawn().expect("spawn service");
        if let Some(mut old) = self.procs.insert(service.to_owned(), child) {
            let _ = old.kill();
            let _ = old.wait();
        }
    }

    /// The process id of a running service.
    pub fn pid(&self, service: &str) -> Option<u32> {
        self.procs.get(service).map(|c| c.id())
    }

    /// Sends a signal to a running service (SIGSTOP / SIGCONT for a stall).
    pub fn signal(&self, service: &str, sig: Signal) -> bool {
        self.pid(service)
            .is_some_and(|pid| kill(Pid::from_raw(pid as i32), sig).is_ok())
    }

    /// True when the service's process is running (not exited).
    pub fn is_running(&mut self, service: &str) -> bool {
        self.procs
            .get_mut(service)
            .is_some_and(|c| matches!(c.try_wait(), Ok(None)))
    }

    /// SIGKILL, no chance to flush or publish.
    pub fn kill9(&mut self, service: &str) {
        if let Some(mut c) = self.procs.remove(service) {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// SIGTERM and wait: a clean stop.
    pub fn stop(&mut self, service: &str) {
        if let Some(mut c) = self.procs.remove(service) {
            let _ = kill(Pid::from_raw(c.id() as i32), Signal::SIGTERM);
            let deadline = Instant::now() + Duration::from_secs(20);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = c.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = c.kill();
            let _ = c.wait();
            panic!("{service} did not stop on SIGTERM within 20 s");
        }
    }

    /// Waits until a process exits by itself (fault injection aborts).
    pub fn wait_exit(&mut self, service: &str, within: Duration) -> bool {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if let Some(c) = self.procs.get_mut(service) {
                if let Ok(Some(_)) = c.try_wait() {
                    self.procs.remove(service);
                    return true;
                }
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }

    pub fn log(&self, service: &str) -> String {
        std::fs::read_to_string(self.dir.path().join(format!("{service}.log"))).unwrap_or_default()
    }

    pub async fn client(&self) -> async_nats::Client {
        bus::connect(&self.nats.url(), "taonet-test")
            .await
            .expect("connect")
    }

    /// `taonet replay` on a service's log, through the real CLI binary.
    pub fn replay(&self, service: &str) -> Value {
        let out = Command::new(node_bin())
            .args(["replay", "--service", service, "--data"])
            .arg(self.dir.path())
            .output()
            .expect("run replay");
        assert!(
            out.status.success(),
            "replay failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("replay json")
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for (_, mut c) in std::mem::take(&mut self.procs) {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Waits until a service answers `status`.
pub async fn wait_ready(client: &async_nats::Client, service: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        match query(client, service, "status", Value::Null).await {
            Ok(v) => return v,
            Err(e) if Instant::now() > deadline => panic!("{service} not ready: {e}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

pub async fn query(
    client: &async_nats::Client,
    service: &str,
    name: &str,
    args: Value,
) -> Result<Value, CallError> {
    let opts = CallOptions {
        attempts: 1,
        timeout: Duration::from_secs(5),
        ..Default::default()
    };
    bus::rpc::query(client, &bus::subjects::query(service, name), &args, &opts).await
}

pub async fn status(client: &async_nats::Client, service: &str) -> Value {
    query(client, service, "status", Value::Null)
        .await
        .unwrap_or_else(|e| panic!("{service} status: {e}"))
}

pub async fn balance(client: &async_nats::Client, who: &AccountId) -> u64 {
    query(client, "ledger", "balance", json!({"account": who}))
        .await
        .expect("balance")["free_rao"]
        .as_u64()
        .expect("free_rao")
}

/// Signs a ledger command body.
pub fn signed(key: &Keypair, id: &str, body: &Ledger) -> bytes::Bytes {
    let b = CommandBody {
        client: "taonet-tests".to_owned(),
        id: id.to_owned(),
        command: body,
    };
    Signed::seal(key, &b).unwrap().to_bytes().unwrap().into()
}

/// Signs any service's command body.
pub fn signed_for<T: serde::Serialize>(key: &Keypair, id: &str, body: &T) -> bytes::Bytes {
    let b = CommandBody {
        client: "taonet-tests".to_owned(),
        id: id.to_owned(),
        command: body,
    };
    Signed::seal(key, &b).unwrap().to_bytes().unwrap().into()
}

/// Sends a signed user command to `service`.
pub async fn send_to(
    client: &async_nats::Client,
    service: &str,
    name: &str,
    payload: bytes::Bytes,
    opts: &CallOptions,
) -> Result<Accepted, CallError> {
    bus::rpc::call(
        client,
        &bus::subjects::command(service, name),
        async_nats::HeaderMap::new(),
        payload,
        opts,
    )
    .await
}

/// Sends a signed command to the ledger.
pub async fn send(
    client: &async_nats::Client,
    subject_kind: &str,
    payload: bytes::Bytes,
    opts: &CallOptions,
) -> Result<Accepted, CallError> {
    let subject = if subject_kind == "svc" {
        bus::subjects::service_command("ledger", "saga")
    } else {
        bus::subjects::command("ledger", subject_kind)
    };
    bus::rpc::call(
        client,
        &subject,
        async_nats::HeaderMap::new(),
        payload,
        opts,
    )
    .await
}

pub fn transfer(to: &AccountId, amount: u64) -> Ledger {
    Ledger::Transfer {
        to: *to,
        amount,
        keep_alive: true,
    }
}

/// Reads every message of a service's stream: (stream seq, envelope).
pub async fn stream_contents(
    client: &async_nats::Client,
    service: &str,
) -> Vec<(u64, envelope::Envelope)> {
    let js = async_nats::jetstream::new(client.clone());
    let mut stream = js
        .get_stream(bus::subjects::stream(service))
        .await
        .expect("stream");
    let last = stream.info().await.expect("info").state.last_sequence;
    let mut out = Vec::new();
    for seq in 1..=last {
        let m = stream.get_raw_message(seq).await.expect("message");
        out.push((
            seq,
            envelope::codec::decode_envelope(&m.payload).expect("envelope"),
        ));
    }
    out
}

/// Reads a log directly (service stopped).
pub fn read_log(path: &Path) -> Vec<envelope::Envelope> {
    use store::EventStore;
    let s = store::sled_store::SledStore::open(path).expect("open log");
    s.iter_from(1).map(|e| e.expect("event")).collect()
}
