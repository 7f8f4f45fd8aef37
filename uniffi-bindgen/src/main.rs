//! `uniffi-bindgen`, pinned to the same UniFFI version as the core.
//!
//! Run in library mode against an unstripped build of `satchel-core`:
//! `cargo run -p uniffi-bindgen -- generate --library target/debug/libsatchel_core.so --language kotlin --out-dir OUT`.
fn main() {
    uniffi::uniffi_bindgen_main()
}
