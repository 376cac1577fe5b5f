//! Links the server binary with the functions a serving process runs placed next to each other
//! (bench/link-order.txt, made by bench/link_order.py). The kernel maps file pages around every
//! code page a process touches; spread over 87 MB of text (most of it DuckDB's C++), start-up and
//! queries kept 30 MB of code resident, and 18 MB once they are together (README, "Speed").

fn main() {
    let order = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("bench/link-order.txt");
    println!("cargo:rerun-if-changed={}", order.display());
    println!("cargo:rerun-if-env-changed=DC_LINK_ORDER");
    // --symbol-ordering-file is lld's: Rust links x86_64-unknown-linux-gnu with its own lld by
    // default. DC_LINK_ORDER=0 turns this off for a build that sets another linker.
    let lld_default = std::env::var("TARGET").is_ok_and(|t| t == "x86_64-unknown-linux-gnu");
    let wanted = std::env::var("DC_LINK_ORDER").as_deref() != Ok("0");
    if lld_default && wanted && order.exists() {
        println!("cargo:rustc-link-arg-bins=-Wl,--symbol-ordering-file={}", order.display());
        // Names of functions that changed since the file was made are skipped, not errors.
        println!("cargo:rustc-link-arg-bins=-Wl,--no-warn-symbol-ordering");
    }
}
