include!("bench/link_order.rs");

fn main() {
    link_in_order(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("bench/link-order.txt"));
}
