//! Satchel's reference server and packager, as a library so the end-to-end tests and benchmarks
//! can drive them in-process. The `satchel-server` binary is a thin clap shell over these.

pub mod grading;
pub mod keys;
pub mod media;
pub mod pack;
pub mod private_file;
pub mod rotate;
pub mod sample;
pub mod serve;
pub mod static_files;
pub mod sync;
