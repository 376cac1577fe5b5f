//! Who may start a query now: a slot of the query's connection, then one of the server's. A
//! burst waits in line for a short while (`Limits::queue_wait`) instead of being refused at
//! once; only a request still waiting after that gets 429. The per-connection limit keeps one
//! slow or hung database from holding every slot, so other connections keep answering. After a
//! connection fails to answer, its queries fail fast with 503 for `Limits::failure_pause`
//! instead of piling up on a database that is down.

use crate::config::Limits;
use crate::error::{Error, Result};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

pub struct Admission {
    server: Arc<Semaphore>,
    limits: Limits,
    gates: Mutex<HashMap<String, Arc<Gate>>>,
}

/// One connection's slots and its last failure.
struct Gate {
    slots: Arc<Semaphore>,
    failed: Mutex<Option<Failure>>,
}

struct Failure {
    until: Instant,
    message: String,
}

/// Held while a query runs (until its last byte is sent); dropping it frees both slots.
pub struct Slot {
    _connection: OwnedSemaphorePermit,
    _server: OwnedSemaphorePermit,
}

impl Admission {
    pub fn new(limits: Limits) -> Self {
        Self {
            server: Arc::new(Semaphore::new(limits.max_concurrent_queries.max(1))),
            limits,
            gates: Mutex::new(HashMap::new()),
        }
    }

    /// Waits up to `queue_wait` for a slot of `connection` and one of the server. The
    /// connection's slot comes first, so requests queued behind a hung database hold nothing
    /// that other connections need.
    pub async fn enter(&self, connection: &str) -> Result<Slot> {
        let gate = self.gate(connection);
        gate.check(connection)?;
        let deadline = tokio::time::Instant::now() + self.limits.queue_wait;
        let own = tokio::time::timeout_at(deadline, gate.slots.clone().acquire_owned())
            .await
            .ok()
            .and_then(|permit| permit.ok())
            .ok_or_else(|| {
                Error::Busy(format!(
                    "connection {connection:?} is already running {} queries, the most one connection \
                     may run at once (--max-queries-per-connection), and none finished within {} ms",
                    self.limits.max_queries_per_connection.max(1),
                    self.limits.queue_wait.as_millis()
                ))
            })?;
        // It may have failed while this request waited.
        gate.check(connection)?;
        let server = tokio::time::timeout_at(deadline, self.server.clone().acquire_owned())
            .await
            .ok()
            .and_then(|permit| permit.ok())
            .ok_or_else(|| {
                Error::Busy(format!(
                    "{} queries are already running, the most this server allows at once \
                     (--max-concurrent-queries), and none finished within {} ms; try again shortly",
                    self.limits.max_concurrent_queries.max(1),
                    self.limits.queue_wait.as_millis()
                ))
            })?;
        Ok(Slot { _connection: own, _server: server })
    }

    /// Notes how a query on `connection` ended: a failure to reach the database starts the
    /// pause; anything else the database answered ends it.
    pub fn record(&self, connection: &str, error: Option<&Error>) {
        let unreachable = matches!(
            error,
            Some(Error::Connector(e)) if e.kind() == connectors::ErrorKind::Unreachable
        );
        if error.is_some() && !unreachable {
            return;
        }
        let gate = self.gate(connection);
        let Ok(mut failed) = gate.failed.lock() else { return };
        match error {
            Some(e) if unreachable && !self.limits.failure_pause.is_zero() => {
                *failed = Some(Failure {
                    until: Instant::now() + self.limits.failure_pause,
                    message: e.to_string(),
                });
            }
            _ => *failed = None,
        }
    }

    /// Forgets `connection`'s failure, e.g. when its settings change.
    pub fn forget(&self, connection: &str) {
        if let Ok(gates) = self.gates.lock() {
            if let Some(gate) = gates.get(connection) {
                if let Ok(mut failed) = gate.failed.lock() {
                    *failed = None;
                }
            }
        }
    }

    fn gate(&self, connection: &str) -> Arc<Gate> {
        let per_connection = self.limits.max_queries_per_connection.max(1);
        let mut gates = match self.gates.lock() {
            Ok(gates) => gates,
            Err(poisoned) => poisoned.into_inner(),
        };
        if let Some(gate) = gates.get(connection) {
            return gate.clone();
        }
        if gates.len() >= MAX_IDLE_GATES {
            // Names come from requests, existing or not: forget the gates nobody is using.
            gates.retain(|_, gate| !gate.idle(per_connection));
        }
        gates
            .entry(connection.to_string())
            .or_insert_with(|| {
                Arc::new(Gate { slots: Arc::new(Semaphore::new(per_connection)), failed: Mutex::new(None) })
            })
            .clone()
    }
}

/// Gates kept before the unused ones are forgotten.
const MAX_IDLE_GATES: usize = 1024;

impl Gate {
    /// No query holds or waits for a slot and no failure is remembered.
    fn idle(self: &Arc<Self>, slots: usize) -> bool {
        Arc::strong_count(self) == 1
            && self.slots.available_permits() == slots
            && self.failed.lock().map(|f| f.is_none()).unwrap_or(true)
    }

    fn check(&self, connection: &str) -> Result<()> {
        let Ok(failed) = self.failed.lock() else { return Ok(()) };
        match &*failed {
            Some(failure) if failure.until > Instant::now() => {
                let left = failure.until.saturating_duration_since(Instant::now());
                Err(Error::Unavailable {
                    message: format!(
                        "connection {connection:?} failed moments ago ({}); its queries are refused \
                         for a few seconds instead of waiting on a database that does not answer",
                        failure.message
                    ),
                    retry_after_secs: left.as_secs() + u64::from(left.subsec_nanos() > 0),
                })
            }
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn limits() -> Limits {
        Limits {
            max_concurrent_queries: 3,
            max_queries_per_connection: 2,
            queue_wait: Duration::from_millis(100),
            failure_pause: Duration::from_millis(300),
            ..Limits::default()
        }
    }

    #[tokio::test]
    async fn a_busy_connection_leaves_the_others_their_slots() {
        let admission = Admission::new(limits());
        let _a1 = admission.enter("a").await.unwrap();
        let _a2 = admission.enter("a").await.unwrap();
        // The third query on "a" waits its turn, then is refused.
        let started = Instant::now();
        assert!(matches!(admission.enter("a").await, Err(Error::Busy(_))));
        assert!(started.elapsed() >= Duration::from_millis(100));
        // "b" still runs: "a" holds only 2 of the server's 3 slots.
        let b = admission.enter("b").await.unwrap();
        // The server's slots are all taken now; a queued query gets one when it frees.
        let waiting = tokio::spawn({
            let admission = Arc::new(admission);
            let inner = admission.clone();
            async move { inner.enter("c").await.map(|_| ()) }
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        drop(b);
        assert!(waiting.await.unwrap().is_ok(), "a queued query did not get the freed slot");
    }

    #[tokio::test]
    async fn an_unreachable_database_fails_fast_for_the_pause() {
        let admission = Admission::new(limits());
        let down =
            Error::Connector(connectors::ConnectorError::new(connectors::ErrorKind::Unreachable, "refused"));
        admission.record("a", Some(&down));
        match admission.enter("a").await {
            Err(Error::Unavailable { retry_after_secs, message }) => {
                assert_eq!(retry_after_secs, 1);
                assert!(message.contains("refused"), "{message}");
            }
            _ => panic!("not refused during the pause"),
        }
        assert!(admission.enter("b").await.is_ok());
        // Other failures (bad SQL) do not start a pause; the pause ends by itself.
        admission.record("b", Some(&Error::BadRequest("bad".into())));
        assert!(admission.enter("b").await.is_ok());
        tokio::time::sleep(Duration::from_millis(350)).await;
        assert!(admission.enter("a").await.is_ok());
        admission.record("a", Some(&down));
        admission.forget("a");
        assert!(admission.enter("a").await.is_ok());
    }
}
