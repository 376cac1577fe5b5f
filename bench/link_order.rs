// Included by the build scripts of the server (build.rs) and the app (src-tauri/build.rs): links
// their binaries with the functions a serving process runs next to each other
// (bench/link-order.txt, made by bench/link_order.py). The kernel maps file pages around every
// code page a process touches; spread over 87 MB of text (most of it DuckDB's C++), start-up
// kept 23 MB of code resident, and under 4 MB once it is together (README, "Speed").

/// Passes `order` to the linker for the package's binaries.
fn link_in_order(order: &std::path::Path) {
    println!("cargo:rerun-if-changed={}", order.display());
    println!("cargo:rerun-if-env-changed=DC_LINK_ORDER");
    // --symbol-ordering-file is lld's: Rust links x86_64-unknown-linux-gnu with its own lld by
    // default. DC_LINK_ORDER=0 turns this off for a build that sets another linker.
    let lld_default = std::env::var("TARGET").is_ok_and(|t| t == "x86_64-unknown-linux-gnu");
    if !lld_default || std::env::var("DC_LINK_ORDER").as_deref() == Ok("0") {
        return;
    }
    let Ok(text) = std::fs::read(order) else {
        println!("cargo:warning=cannot read {}: binaries linked in the default order", order.display());
        return;
    };
    println!("cargo:rustc-link-arg-bins=-Wl,--symbol-ordering-file={}", copy_named_by_content(order, &text));
    // Names of functions that changed since the file was made are skipped, not errors.
    println!("cargo:rustc-link-arg-bins=-Wl,--no-warn-symbol-ordering");
}

/// `text` (the order file's) copied into OUT_DIR under a name that changes with it: Cargo relinks
/// only when the link arguments change, so a regenerated file under the same path would be
/// ignored until something else changed. Falls back to `order` itself if the copy fails.
fn copy_named_by_content(order: &std::path::Path, text: &[u8]) -> String {
    use std::hash::{Hash as _, Hasher as _};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    text.hash(&mut hasher);
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR").unwrap_or_default())
        .join(format!("link-order-{:016x}.txt", hasher.finish()));
    match std::fs::write(&out, text) {
        Ok(()) => out.display().to_string(),
        Err(_) => order.display().to_string(),
    }
}
