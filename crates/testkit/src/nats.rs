use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The nats-server binary: `$TAONET_NATS_SERVER` or `nats-server` on PATH.
pub fn nats_server_bin() -> PathBuf {
    std::env::var_os("TAONET_NATS_SERVER")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("nats-server"))
}

/// A nats-server child process with JetStream, listening on 127.0.0.1.
///
/// The first start picks free ports (`-p -1 -m -1`) and reads them from the
/// ports file; restarts reuse the same client port and store dir so clients
/// reconnect to the same address and streams survive.
pub struct NatsServer {
    child: Option<Child>,
    port: u16,
    monitor_port: u16,
    store_dir: PathBuf,
    _tmp: Option<tempfile::TempDir>,
}

impl NatsServer {
    /// Starts a server on free ports with a fresh temp store dir.
    pub fn start() -> Self {
        let tmp = tempfile::tempdir().expect("temp dir");
        let store = tmp.path().to_path_buf();
        let mut s = Self::start_in(&store);
        s._tmp = Some(tmp);
        s
    }

    /// Starts a server on free ports with the given store dir.
    pub fn start_in(store_dir: &Path) -> Self {
        let mut s = NatsServer {
            child: None,
            port: 0,
            monitor_port: 0,
            store_dir: store_dir.to_path_buf(),
            _tmp: None,
        };
        s.spawn();
        s
    }

    fn spawn(&mut self) {
        let ports_dir = self.store_dir.join("ports");
        let _ = std::fs::remove_dir_all(&ports_dir);
        std::fs::create_dir_all(&ports_dir).expect("ports dir");
        let port = if self.port == 0 {
            "-1".to_string()
        } else {
            self.port.to_string()
        };
        let mport = if self.monitor_port == 0 {
            "-1".to_string()
        } else {
            self.monitor_port.to_string()
        };
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.store_dir.join("nats-server.log"))
            .expect("log file");
        let child = Command::new(nats_server_bin())
            .args(["-a", "127.0.0.1", "-p", &port, "-m", &mport, "-js", "-sd"])
            .arg(self.store_dir.join("js"))
            .arg("--ports_file_dir")
            .arg(&ports_dir)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start {:?}: {e}. Install it (apt-get install nats-server) or set TAONET_NATS_SERVER",
                    nats_server_bin()
                )
            });
        let pid = child.id();
        self.child = Some(child);
        let file = ports_dir.join(format!("nats-server_{pid}.ports"));
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(text) = std::fs::read_to_string(&file) {
                if let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) {
                    let url = v["nats"][0].as_str().unwrap_or_default();
                    let mon = v["monitoring"][0].as_str().unwrap_or_default();
                    self.port = port_of(url);
                    self.monitor_port = port_of(mon);
                    break;
                }
            }
            assert!(
                Instant::now() < deadline,
                "nats-server did not write its ports file"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        // The ports file appears once listeners are up; JetStream may need a
        // moment more, which clients absorb by retrying.
    }

    /// `nats://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// The monitoring endpoint (`/healthz`, `/jsz`).
    pub fn monitor_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.monitor_port)
    }

    pub fn store_dir(&self) -> &Path {
        &self.store_dir
    }

    /// Kills the server (SIGKILL) and waits for it.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Stops and starts again on the same ports and store.
    pub fn restart(&mut self) {
        self.kill();
        self.spawn();
    }

    /// Starts again after [`NatsServer::kill`].
    pub fn start_again(&mut self) {
        if self.child.is_none() {
            self.spawn();
        }
    }
}

fn port_of(url: &str) -> u16 {
    url.rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .unwrap_or(0)
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.kill();
    }
}
