//! Names no other test, test run or helper on the shared servers uses.

use std::sync::atomic::{AtomicU32, Ordering};

/// `prefix_<pid>_<nanos>_<n>`: unique across processes (pid), runs (time) and calls (counter),
/// and a valid unquoted identifier when the prefix is one.
pub fn unique(prefix: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("{prefix}_{}_{nanos:x}_{}", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed))
}

#[cfg(test)]
mod tests {
    #[test]
    fn names_differ() {
        assert_ne!(super::unique("dc"), super::unique("dc"));
        assert!(super::unique("dc_t").starts_with("dc_t_"));
    }
}
