//! A private OpenSSH server on a free loopback port: host key, client key and config made here
//! with `ssh-keygen` in a temporary folder, `sshd -D -e` with `LogLevel DEBUG` writing to a log
//! file the tests read (it names each `direct-tcpip` channel). Stopped and removed on drop.

use crate::skip::{skipped, Need};
use crate::unique;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const SSHD: &str = "/usr/sbin/sshd";
const HOW_TO_INSTALL: &str =
    "install OpenSSH's server (`apt-get install openssh-server`); DC_SKIP_SSHD=1 skips these tests";

pub struct Sshd {
    pub dir: PathBuf,
    pub port: u16,
    /// The login the client key is authorized for (the user running the tests).
    pub user: String,
    /// OpenSSH private key (no passphrase) that the server accepts.
    pub client_key: String,
    /// A key the server does not know.
    pub stranger_key: String,
    /// Another authorized key, encrypted with `passphrase`.
    pub encrypted_key: String,
    pub passphrase: String,
    child: Option<Child>,
}

fn keygen(path: &Path, passphrase: &str) {
    let status = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", passphrase, "-C", "dc-test", "-f"])
        .arg(path)
        .status()
        .unwrap_or_else(|e| panic!("cannot run ssh-keygen: {e}; {HOW_TO_INSTALL}"));
    assert!(status.success(), "ssh-keygen failed for {}", path.display());
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl Sshd {
    /// `None` only when the developer opted out with `DC_SKIP_SSHD=1`; panics, saying how to fix
    /// it, when sshd is not installed.
    pub fn start() -> Option<Self> {
        if skipped(Need::Sshd) {
            return None;
        }
        assert!(Path::new(SSHD).exists(), "{SSHD} is missing; {HOW_TO_INSTALL}");
        // sshd refuses to start without its privilege separation folder when run as root.
        let _ = std::fs::create_dir_all("/run/sshd");
        let dir = std::env::temp_dir().join(unique("dc-sshd"));
        std::fs::create_dir_all(&dir).unwrap();
        for key in ["host_key", "other_host_key", "client_key", "stranger_key"] {
            keygen(&dir.join(key), "");
        }
        let passphrase = unique("Key-pass");
        keygen(&dir.join("encrypted_key"), &passphrase);
        let authorized = std::fs::read_to_string(dir.join("client_key.pub")).unwrap()
            + &std::fs::read_to_string(dir.join("encrypted_key.pub")).unwrap();
        std::fs::write(dir.join("authorized_keys"), authorized).unwrap();
        let user = String::from_utf8(Command::new("id").arg("-un").output().unwrap().stdout)
            .unwrap()
            .trim()
            .to_string();
        let read = |name: &str| std::fs::read_to_string(dir.join(name)).unwrap();
        let mut sshd = Self {
            port: free_port(),
            user,
            client_key: read("client_key"),
            stranger_key: read("stranger_key"),
            encrypted_key: read("encrypted_key"),
            passphrase,
            dir,
            child: None,
        };
        sshd.run("host_key");
        Some(sshd)
    }

    fn run(&mut self, host_key: &str) {
        let d = self.dir.display();
        let config = format!(
            "Port {port}\nListenAddress 127.0.0.1\nHostKey {d}/{host_key}\nPidFile {d}/sshd.pid\n\
             AuthorizedKeysFile {d}/authorized_keys\nStrictModes no\nUsePAM no\n\
             PasswordAuthentication no\nKbdInteractiveAuthentication no\nPermitRootLogin prohibit-password\n\
             AllowTcpForwarding yes\nLogLevel DEBUG\n",
            port = self.port
        );
        std::fs::write(self.dir.join("sshd_config"), config).unwrap();
        let log = std::fs::OpenOptions::new().create(true).append(true).open(self.log_path()).unwrap();
        let child = Command::new(SSHD)
            .args(["-D", "-e", "-f"])
            .arg(self.dir.join("sshd_config"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {SSHD}: {e}; {HOW_TO_INSTALL}"));
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "sshd did not listen on {}: {}", self.port, self.log());
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Stops the server, dropping every session, and starts it again on the same port with the
    /// same host key (`other_host_key: false`) or a different one.
    pub fn restart(&mut self, other_host_key: bool) {
        self.stop();
        self.run(if other_host_key { "other_host_key" } else { "host_key" });
    }

    /// `SHA256:...` of a host key as `ssh-keygen -l` reports it, independently of our client.
    pub fn fingerprint(&self, other_host_key: bool) -> String {
        let key = if other_host_key { "other_host_key.pub" } else { "host_key.pub" };
        let out = Command::new("ssh-keygen")
            .args(["-l", "-E", "sha256", "-f"])
            .arg(self.dir.join(key))
            .output()
            .unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        text.split_whitespace().nth(1).unwrap().to_string()
    }

    pub fn log_path(&self) -> PathBuf {
        self.dir.join("sshd.log")
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
