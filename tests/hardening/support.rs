//! What the hardening tests share: raw HTTP over TCP with time limits, database instances the
//! tests start and kill themselves (a private MariaDB or PostgreSQL in a temp dir on a spare
//! port), and a TCP proxy that can stop relaying to stand for a hung network.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The tests of this binary run one at a time: several measure time (latency while a database
/// hangs, load figures, close times) and would measure each other on a 2-core machine.
pub async fn serial() -> tokio::sync::MutexGuard<'static, ()> {
    static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    SERIAL.lock().await
}

/// Prints a measured figure where CI's log shows it: straight to standard error, which the
/// test harness does not capture (it captures only the print macros).
pub fn report(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// A response read off a raw connection: status, the header block, the body.
pub struct RawResponse {
    pub status: u16,
    pub head: String,
    pub body: String,
}

/// Sends `request` verbatim (a `Connection: close` request) and reads the whole answer, within
/// `limit`.
pub async fn raw_send(addr: SocketAddr, request: &[u8], limit: Duration) -> RawResponse {
    let work = async {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        // The server may answer (413) and close before reading everything; that is fine.
        let _ = stream.write_all(request).await;
        let mut response = Vec::new();
        let _ = stream.read_to_end(&mut response).await;
        response
    };
    let response = tokio::time::timeout(limit, work).await.expect("the server did not answer in time");
    parse_response(&response)
}

pub fn parse_response(response: &[u8]) -> RawResponse {
    let text = String::from_utf8_lossy(response).to_string();
    let status = text.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let chunked = head.to_ascii_lowercase().contains("transfer-encoding: chunked");
    let body = if chunked { dechunk(body) } else { body.to_string() };
    RawResponse { status, head: head.to_string(), body }
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let Ok(size) = usize::from_str_radix(size.trim(), 16) else { break };
        if size == 0 || rest.len() < size {
            break;
        }
        out.push_str(&rest[..size]);
        body = rest[size..].strip_prefix("\r\n").unwrap_or(&rest[size..]);
    }
    out
}

/// A free TCP port on loopback.
pub fn spare_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// Polls `ready` every 100 ms for up to `limit`.
pub fn wait_until(limit: Duration, what: &str, mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !ready() {
        assert!(Instant::now() < deadline, "{what} not ready after {limit:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn port_open(port: u16) -> bool {
    std::net::TcpStream::connect_timeout(
        &SocketAddr::from(([127, 0, 0, 1], port)),
        Duration::from_millis(200),
    )
    .is_ok()
}

/// The engine of a private instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Mariadb,
    Postgres,
}

/// A database server of our own in a temp dir: started, killed with SIGKILL and restarted by
/// the test, on a port nobody else uses. Killed when dropped.
pub struct Instance {
    pub kind: Kind,
    pub port: u16,
    dir: tempfile::TempDir,
    child: Option<Child>,
}

impl Instance {
    /// A fresh MariaDB (root without a password, grant tables skipped) or PostgreSQL (user
    /// postgres, trust) on a spare port.
    pub fn start(kind: Kind) -> Self {
        let dir = tempfile::tempdir().unwrap();
        // The server runs as its own user, which must reach the data dir.
        chmod(dir.path(), 0o755);
        let data = dir.path().join("data");
        std::fs::create_dir(&data).unwrap();
        let owner = match kind {
            Kind::Mariadb => "mysql",
            Kind::Postgres => "postgres",
        };
        run(Command::new("chown").arg(owner).arg(&data));
        match kind {
            Kind::Mariadb => run(Command::new("mariadb-install-db")
                .arg("--user=mysql")
                .arg(format!("--datadir={}", data.display()))
                .arg("--skip-test-db")
                .arg("--auth-root-authentication-method=normal")),
            Kind::Postgres => run(Command::new("runuser")
                .args(["-u", "postgres", "--"])
                .arg(pg_bin("initdb"))
                .arg("-D")
                .arg(&data)
                .args(["-A", "trust", "-U", "postgres"])),
        }
        let mut instance = Self { kind, port: spare_port(), dir, child: None };
        instance.restart();
        instance
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// Starts the server again on the same port and data, and waits until it answers.
    pub fn restart(&mut self) {
        let data = self.data();
        let mut command = match self.kind {
            Kind::Mariadb => {
                let mut c = Command::new(mariadbd());
                // --no-defaults must come first; it keeps the machine's my.cnf out.
                c.arg("--no-defaults")
                    .arg("--user=mysql")
                    .arg(format!("--datadir={}", data.display()))
                    .arg(format!("--port={}", self.port))
                    .arg("--bind-address=127.0.0.1")
                    .arg(format!("--socket={}", data.join("sock").display()))
                    .arg(format!("--pid-file={}", data.join("pid").display()))
                    .arg(format!("--log-error={}", data.join("err.log").display()))
                    .arg("--skip-grant-tables");
                c
            }
            Kind::Postgres => {
                let mut c = Command::new("runuser");
                c.args(["-u", "postgres", "--"])
                    .arg(pg_bin("postgres"))
                    .arg("-D")
                    .arg(&data)
                    .args(["-p", &self.port.to_string(), "-k"])
                    .arg(&data)
                    .args(["-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"]);
                c
            }
        };
        // The server's own messages go to a file beside its data, so a start that fails says why.
        let log_path = self.dir.path().join("server.log");
        for attempt in 1..=START_ATTEMPTS {
            let log = std::fs::OpenOptions::new().create(true).append(true).open(&log_path).unwrap();
            let child = command.stdout(Stdio::null()).stderr(log).spawn().unwrap();
            self.child = Some(child);
            match self.wait_for_port(Duration::from_secs(90)) {
                Ok(()) => {
                    // PostgreSQL listens a moment before it accepts logins.
                    std::thread::sleep(Duration::from_millis(300));
                    return;
                }
                // A server that exits at once after a SIGKILL (seen once with PostgreSQL in CI,
                // its messages then unrecorded) gets one more start; its log says why.
                Err(exited) if self.child.is_none() && attempt < START_ATTEMPTS => {
                    eprintln!(
                        "{:?} exited at start ({exited}); starting it again:\n{}",
                        self.kind,
                        tail(&log_path)
                    );
                    std::thread::sleep(Duration::from_secs(1));
                }
                Err(why) => {
                    panic!("the private {:?} did not start: {why}; its log:\n{}", self.kind, tail(&log_path))
                }
            }
        }
    }

    /// Waits until the instance's port answers: `Err` says why not (the server exited, and
    /// `child` is then `None`; or the time ran out).
    fn wait_for_port(&mut self, limit: Duration) -> Result<(), String> {
        let deadline = Instant::now() + limit;
        loop {
            if port_open(self.port) {
                return Ok(());
            }
            if let Some(child) = self.child.as_mut() {
                if let Ok(Some(status)) = child.try_wait() {
                    self.child = None;
                    return Err(format!("the server exited with {status}"));
                }
            }
            if Instant::now() >= deadline {
                return Err(format!("port {} not open after {limit:?}", self.port));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// SIGKILL to the server: MariaDB's one process, or PostgreSQL's postmaster and every
    /// backend it started (a backend outlives its killed postmaster until it next looks).
    pub fn kill(&mut self) {
        let pid_file = match self.kind {
            Kind::Mariadb => self.data().join("pid"),
            Kind::Postgres => self.data().join("postmaster.pid"),
        };
        let pid = std::fs::read_to_string(&pid_file)
            .ok()
            .and_then(|t| t.lines().next().map(|l| l.trim().to_string()))
            .filter(|p| !p.is_empty());
        if let Some(pid) = pid {
            // The postmaster first: a backend killed while its postmaster lives makes it
            // reinitialize, and the processes it then starts (not in this list) kept the shared
            // memory, so the restart failed with "pre-existing shared memory block is still in use".
            let mut pids = vec![pid.clone()];
            pids.extend(children(&pid));
            for pid in &pids {
                // Backends may already be gone with their postmaster.
                let _ = Command::new("kill").args(["-9", pid]).stderr(Stdio::null()).status();
            }
            wait_until(Duration::from_secs(10), "the killed processes to exit", || {
                pids.iter().all(|p| !Path::new(&format!("/proc/{p}")).exists() || is_zombie(p))
            });
        }
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_file(pid_file);
        let port = self.port;
        wait_until(Duration::from_secs(10), "the port to close", || !port_open(port));
    }

    /// The connection input for our API, at `port` (the instance's own, or a proxy's).
    pub fn connection(&self, name: &str, port: u16) -> serde_json::Value {
        match self.kind {
            Kind::Mariadb => serde_json::json!({"name": name, "kind": "mysql", "host": "127.0.0.1",
                "port": port, "user": "root", "database": "mysql", "tls": "disable"}),
            Kind::Postgres => serde_json::json!({"name": name, "kind": "postgres", "host": "127.0.0.1",
                "port": port, "user": "postgres", "database": "postgres", "tls": "disable"}),
        }
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        if self.child.is_some() {
            self.kill();
        }
    }
}

/// Starts of a private server before its test fails (`Instance::restart`).
const START_ATTEMPTS: u32 = 2;

/// The last lines of a server's log, for a failure message.
fn tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| format!("(no log: {e})"));
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(30)..].join("\n")
}

/// The direct children of process `pid`, from /proc.
fn children(pid: &str) -> Vec<String> {
    let mut out = Vec::new();
    if let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) {
        for task in tasks.flatten() {
            if let Ok(list) = std::fs::read_to_string(task.path().join("children")) {
                out.extend(list.split_whitespace().map(str::to_string));
            }
        }
    }
    out
}

fn is_zombie(pid: &str) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| s.rsplit(')').next().is_some_and(|rest| rest.trim_start().starts_with('Z')))
        .unwrap_or(true)
}

fn pg_bin(name: &str) -> PathBuf {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL's server binaries are in /usr/lib/postgresql (apt-get install postgresql)")
        .flatten()
        .map(|e| e.path())
        .collect();
    versions.sort();
    versions.last().expect("a PostgreSQL version in /usr/lib/postgresql").join("bin").join(name)
}

fn mariadbd() -> PathBuf {
    ["/usr/sbin/mariadbd", "/usr/bin/mariadbd"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
        .expect("mariadbd (apt-get install mariadb-server)")
}

fn run(command: &mut Command) {
    let output = command.output().unwrap_or_else(|e| panic!("{command:?}: {e}"));
    assert!(output.status.success(), "{command:?}: {}", String::from_utf8_lossy(&output.stderr));
}

fn chmod(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// A TCP proxy on loopback in front of `target`. While `hang` is set it stops relaying in both
/// directions (connections stay open, bytes wait): a database behind a dead network.
pub struct Proxy {
    pub port: u16,
    pub hang: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<()>,
}

impl Proxy {
    pub async fn start(target: u16) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let hang = Arc::new(AtomicBool::new(false));
        let flag = hang.clone();
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let flag = flag.clone();
                tokio::spawn(async move {
                    let Ok(server) = TcpStream::connect(("127.0.0.1", target)).await else { return };
                    let (cr, cw) = client.into_split();
                    let (sr, sw) = server.into_split();
                    tokio::join!(relay(cr, sw, flag.clone()), relay(sr, cw, flag));
                });
            }
        });
        Self { port, hang, task }
    }

    pub fn set_hung(&self, hung: bool) {
        self.hang.store(hung, Ordering::SeqCst);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn relay(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    hang: Arc<AtomicBool>,
) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        while hang.load(Ordering::SeqCst) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        while hang.load(Ordering::SeqCst) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        if to.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}
