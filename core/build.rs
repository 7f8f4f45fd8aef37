//! Link options for the shared library the apps load (the `cdylib`): relocations packed.
//!
//! Position-independent code carries a table of relocations that the loader applies when the
//! library is loaded: one 24-byte entry per pointer in the library's data (vtables, string
//! tables), 475 KB of the 7.3 MB release library. Packed, the same table takes a few KB, and
//! loading does less work. Linux (glibc 2.36 and later) reads RELR; Android has read its own
//! packed format since API 23 (the app's minSdk is 24). Apple's linker packs them already
//! (chained fixups), and the iOS build is a static library anyway.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    match std::env::var("CARGO_CFG_TARGET_OS").as_deref() {
        Ok("linux") => println!("cargo:rustc-cdylib-link-arg=-Wl,-z,pack-relative-relocs"),
        Ok("android") => println!("cargo:rustc-cdylib-link-arg=-Wl,--pack-dyn-relocs=android"),
        _ => {}
    }
}
