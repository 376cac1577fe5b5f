//! SSH tunnels for the network engines: a loopback listener per connection whose accepted sockets
//! become `direct-tcpip` channels over one SSH session to a bastion. The engines then connect
//! their pools to `127.0.0.1:<port>` as if the database were local, so sqlx needs nothing special.
//!
//! The bastion's host key is pinned on first use: the fingerprint goes into the (non-secret)
//! settings and a later, different key is refused naming both. A session that the bastion drops
//! is replaced on the next accepted socket, so a pool that reconnects finds a new session.
//! Nothing here knows an engine.

use crate::error::{ConnectStep, ConnectorError, ErrorKind, Result};
use crate::settings::Secrets;
use russh::client::{self, Handle};
use russh::keys::{HashAlg, PrivateKeyWithHashAlg, PublicKeyOrCertificate};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// Secret fields of an engine with tunnels; in the API they may also be given inside `"ssh"`.
pub const SECRET_FIELDS: [&str; 3] = ["ssh_private_key", "ssh_password", "ssh_passphrase"];

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Idle NAT and firewalls drop quiet TCP connections; a keepalive every 30 s keeps the session
/// up, and three unanswered ones end it so the next socket gets a fresh session.
const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(30);
const KEEPALIVE_MAX: usize = 3;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SshSettings {
    pub host: String,
    #[serde(default = "default_port")]
    pub port: u16,
    pub user: String,
    /// `SHA256:...` of the bastion's host key, pinned on first use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_key: Option<String>,
}

fn default_port() -> u16 {
    22
}

/// Moves `ssh.private_key` (etc.) to the top-level `ssh_private_key` secret field, so that the
/// secrets of `"ssh": {...}` are split off and stored like every other secret.
pub(crate) fn lift_secrets(input: &mut serde_json::Map<String, serde_json::Value>) {
    let Some(serde_json::Value::Object(ssh)) = input.get_mut("ssh") else { return };
    let mut lifted = Vec::new();
    for field in SECRET_FIELDS {
        if let Some(value) = ssh.remove(&field["ssh_".len()..]) {
            lifted.push((field.to_string(), value));
        }
    }
    input.extend(lifted);
}

struct Pin {
    expected: Option<String>,
    /// What the server presented, for the error and for pinning.
    seen: Arc<Mutex<Option<String>>>,
}

impl client::Handler for Pin {
    type Error = russh::Error;

    async fn check_server_key(&mut self, key: &PublicKeyOrCertificate) -> Result<bool, Self::Error> {
        let fingerprint = match key {
            PublicKeyOrCertificate::PublicKey { key, .. } => key.fingerprint(HashAlg::Sha256).to_string(),
            PublicKeyOrCertificate::Certificate(cert) => {
                cert.public_key().fingerprint(HashAlg::Sha256).to_string()
            }
        };
        let ok = self.expected.as_ref().is_none_or(|pinned| *pinned == fingerprint);
        if let Ok(mut seen) = self.seen.lock() {
            *seen = Some(fingerprint);
        }
        Ok(ok)
    }
}

fn step_error(step: ConnectStep, kind: ErrorKind, message: String) -> ConnectorError {
    ConnectorError::new(kind, message).at_step(step)
}

/// What opens a session: where, who, and the key or password.
#[derive(Clone)]
struct Bastion {
    settings: SshSettings,
    key: Option<Arc<russh::keys::PrivateKey>>,
    password: Option<String>,
}

impl Bastion {
    fn name(&self) -> String {
        format!("SSH bastion {}:{}", self.settings.host, self.settings.port)
    }

    /// One session, each step failing with its own `ConnectStep`. Returns the host key seen.
    async fn session(&self) -> Result<(Handle<Pin>, String)> {
        let name = self.name();
        let addrs: Vec<SocketAddr> =
            tokio::net::lookup_host((self.settings.host.as_str(), self.settings.port))
                .await
                .map_err(|e| {
                    step_error(
                        ConnectStep::Dns,
                        ErrorKind::Unreachable,
                        format!("{name}: DNS lookup failed: {e}"),
                    )
                })?
                .collect();
        let tcp = tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(&addrs[..]))
            .await
            .map_err(|_| {
                step_error(
                    ConnectStep::Tcp,
                    ErrorKind::Unreachable,
                    format!("{name}: no TCP answer within {} s", CONNECT_TIMEOUT.as_secs()),
                )
            })?
            .map_err(|e| {
                step_error(
                    ConnectStep::Tcp,
                    ErrorKind::Unreachable,
                    format!("{name}: TCP connection failed: {e}"),
                )
            })?;
        let config = Arc::new(client::Config {
            keepalive_interval: Some(KEEPALIVE_INTERVAL),
            keepalive_max: KEEPALIVE_MAX,
            ..client::Config::default()
        });
        let seen = Arc::new(Mutex::new(None));
        let pin = Pin { expected: self.settings.host_key.clone(), seen: seen.clone() };
        let handshake = tokio::time::timeout(CONNECT_TIMEOUT, client::connect_stream(config, tcp, pin)).await;
        let seen = seen.lock().ok().and_then(|s| s.clone());
        let mut handle = match (handshake, seen) {
            (Ok(Ok(handle)), Some(seen)) => (handle, seen),
            (Ok(Err(_)), Some(seen)) if self.settings.host_key.as_ref().is_some_and(|p| *p != seen) => {
                let pinned = self.settings.host_key.as_deref().unwrap_or_default();
                return Err(step_error(
                    ConnectStep::HostKey,
                    ErrorKind::AccessDenied,
                    format!(
                        "{name}: host key changed: pinned {pinned}, server presented {seen}; \
                         if the bastion's key was really replaced, remove ssh.host_key from the connection to pin the new one"
                    ),
                ));
            }
            (Ok(Err(e)), _) => {
                return Err(step_error(
                    ConnectStep::Ssh,
                    ErrorKind::Unreachable,
                    format!("{name}: SSH handshake failed: {e}"),
                ))
            }
            (Ok(Ok(_)), None) => {
                return Err(ConnectorError::internal(format!("{name}: no host key was presented")))
            }
            (Err(_), _) => {
                return Err(step_error(
                    ConnectStep::Ssh,
                    ErrorKind::Unreachable,
                    format!("{name}: no SSH handshake within {} s", CONNECT_TIMEOUT.as_secs()),
                ))
            }
        };
        let user = self.settings.user.clone();
        let auth = if let Some(key) = &self.key {
            let hash = handle.0.best_supported_rsa_hash().await.ok().flatten().flatten();
            handle.0.authenticate_publickey(user.clone(), PrivateKeyWithHashAlg::new(key.clone(), hash)).await
        } else if let Some(password) = &self.password {
            handle.0.authenticate_password(user.clone(), password.clone()).await
        } else {
            return Err(ConnectorError::invalid("\"ssh\" needs a \"private_key\" or a \"password\""));
        };
        match auth {
            Ok(result) if result.success() => Ok(handle),
            Ok(_) => Err(step_error(
                ConnectStep::SshAuth,
                ErrorKind::AccessDenied,
                format!("{name}: SSH authentication as {user:?} was refused"),
            )),
            Err(e) => Err(step_error(
                ConnectStep::SshAuth,
                ErrorKind::AccessDenied,
                format!("{name}: SSH authentication as {user:?} failed: {e}"),
            )),
        }
    }
}

/// A running tunnel; dropping it closes the listener. Sockets already forwarded end when the
/// pool closes them, and the session with the last of them.
pub struct Tunnel {
    local: SocketAddr,
    host_key: String,
    task: JoinHandle<()>,
}

impl Drop for Tunnel {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Tunnel {
    /// Where an engine connects: through a new tunnel to `host:port` when `ssh` is set, else
    /// straight there. The tunnel must live as long as the engine.
    pub async fn route(
        ssh: Option<&SshSettings>,
        secrets: &Secrets,
        host: &str,
        port: u16,
    ) -> Result<(Option<Self>, String, u16)> {
        match ssh {
            Some(ssh) => {
                let tunnel = Self::open(ssh, secrets, host, port).await?;
                let local = tunnel.local_addr();
                Ok((Some(tunnel), local.ip().to_string(), local.port()))
            }
            None => Ok((None, host.to_string(), port)),
        }
    }

    /// Opens the first session now, so that every step's failure is reported to the caller, then
    /// forwards each socket accepted on a loopback port to `target_host:target_port` as seen
    /// from the bastion.
    pub async fn open(
        settings: &SshSettings,
        secrets: &Secrets,
        target_host: &str,
        target_port: u16,
    ) -> Result<Self> {
        let key = match secrets.get("ssh_private_key") {
            Some(pem) => Some(Arc::new(
                russh::keys::decode_secret_key(pem, secrets.get("ssh_passphrase")).map_err(|e| {
                    step_error(
                        ConnectStep::SshAuth,
                        ErrorKind::InvalidInput,
                        format!("cannot read ssh.private_key: {e}"),
                    )
                })?,
            )),
            None => None,
        };
        let mut bastion = Bastion {
            settings: settings.clone(),
            key,
            password: secrets.get("ssh_password").map(str::to_string),
        };
        // Checked before any network step, so that a form missing both gets a 400, not a 502.
        if bastion.key.is_none() && bastion.password.is_none() {
            return Err(ConnectorError::invalid("\"ssh\" needs a \"private_key\" or a \"password\""));
        }
        let (handle, host_key) = bastion.session().await?;
        // Later sessions must present the key this one did.
        bastion.settings.host_key = Some(host_key.clone());
        let listener = TcpListener::bind(("127.0.0.1", 0)).await.map_err(|e| {
            ConnectorError::internal(format!("cannot open a loopback port for the SSH tunnel: {e}"))
        })?;
        let local = listener
            .local_addr()
            .map_err(|e| ConnectorError::internal(format!("cannot read the SSH tunnel's port: {e}")))?;
        let target = (target_host.to_string(), target_port);
        let task = tokio::spawn(forward(listener, bastion, handle, target));
        Ok(Self { local, host_key, task })
    }

    /// Where the engine connects instead of the database.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// `SHA256:...` of the bastion's host key.
    pub fn host_key(&self) -> &str {
        &self.host_key
    }
}

async fn forward(listener: TcpListener, bastion: Bastion, first: Handle<Pin>, target: (String, u16)) {
    let session = Arc::new(tokio::sync::Mutex::new(first));
    loop {
        let Ok((mut socket, peer)) = listener.accept().await else { continue };
        let bastion = bastion.clone();
        let session = session.clone();
        let target = target.clone();
        tokio::spawn(async move {
            let channel = {
                let mut current = session.lock().await;
                // A dropped bastion shows as a closed session, or as a channel that cannot open
                // on a session that does not know yet: either way, one new session is tried.
                let first = if current.is_closed() { None } else { open(&current, &target, peer).await.ok() };
                match first {
                    Some(channel) => Ok(channel),
                    None => match bastion.session().await {
                        Ok((fresh, _)) => {
                            *current = fresh;
                            open(&current, &target, peer).await
                        }
                        Err(e) => {
                            tracing::warn!("SSH tunnel: cannot reconnect: {e}");
                            return;
                        }
                    },
                }
            };
            match channel {
                Ok(channel) => {
                    let mut stream = channel.into_stream();
                    let _ = tokio::io::copy_bidirectional(&mut socket, &mut stream).await;
                }
                Err(e) => tracing::warn!(
                    "SSH tunnel: the bastion refused to forward to {}:{}: {e}",
                    target.0,
                    target.1
                ),
            }
        });
    }
}

async fn open(
    handle: &Handle<Pin>,
    target: &(String, u16),
    peer: SocketAddr,
) -> Result<russh::Channel<client::Msg>, russh::Error> {
    handle
        .channel_open_direct_tcpip(
            target.0.clone(),
            u32::from(target.1),
            peer.ip().to_string(),
            u32::from(peer.port()),
        )
        .await
}
