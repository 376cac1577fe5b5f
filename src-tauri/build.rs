include!("../bench/link_order.rs");

fn main() {
    // The app runs the server in-process, so it gets the server's link order too.
    link_in_order(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../bench/link-order.txt"));
    tauri_build::build()
}
