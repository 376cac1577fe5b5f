// Included by the build scripts of the server (build.rs) and the app (src-tauri/build.rs): links
// their binaries with the functions a serving process runs next to each other
// (bench/link-order.txt, made by bench/link_order.py). The kernel maps file pages around every
// code page a process touches; spread over 87 MB of text (most of it DuckDB's C++), start-up and
// queries kept 30 MB of code resident, and 18-20 MB once they are together (README, "Speed").

/// Passes `order` to the linker for the package's binaries.
fn link_in_order(order: &std::path::Path) {
    println!("cargo:rerun-if-changed={}", order.display());
    println!("cargo:rerun-if-env-changed=DC_LINK_ORDER");
    // --symbol-ordering-file is lld's: Rust links x86_64-unknown-linux-gnu with its own lld by
    // default. DC_LINK_ORDER=0 turns this off for a build that sets another linker.
    let lld_default = std::env::var("TARGET").is_ok_and(|t| t == "x86_64-unknown-linux-gnu");
    let wanted = std::env::var("DC_LINK_ORDER").as_deref() != Ok("0");
    if lld_default && wanted && order.exists() {
        println!("cargo:rustc-link-arg-bins=-Wl,--symbol-ordering-file={}", copy_named_by_content(order));
        // Names of functions that changed since the file was made are skipped, not errors.
        println!("cargo:rustc-link-arg-bins=-Wl,--no-warn-symbol-ordering");
    }
}

/// The order file copied into OUT_DIR under a name that changes with its content: Cargo relinks
/// only when the link arguments change, so a regenerated file under the same path would be
/// ignored until something else changed.
fn copy_named_by_content(order: &std::path::Path) -> String {
    use std::hash::{Hash as _, Hasher as _};
    let text = std::fs::read(order).unwrap_or_default();
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    text.hash(&mut hasher);
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR").unwrap_or_default())
        .join(format!("link-order-{:016x}.txt", hasher.finish()));
    if std::fs::write(&out, &text).is_err() {
        return order.display().to_string();
    }
    out.display().to_string()
}
