fn main() {
    // The app runs the server in-process: the same link order as the server binary (the root
    // build.rs says why; DC_LINK_ORDER=0 turns it off).
    let order = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../bench/link-order.txt");
    println!("cargo:rerun-if-changed={}", order.display());
    println!("cargo:rerun-if-env-changed=DC_LINK_ORDER");
    let lld_default = std::env::var("TARGET").is_ok_and(|t| t == "x86_64-unknown-linux-gnu");
    let wanted = std::env::var("DC_LINK_ORDER").as_deref() != Ok("0");
    if lld_default && wanted && order.exists() {
        println!("cargo:rustc-link-arg-bins=-Wl,--symbol-ordering-file={}", order.display());
        println!("cargo:rustc-link-arg-bins=-Wl,--no-warn-symbol-ordering");
    }
    tauri_build::build()
}
