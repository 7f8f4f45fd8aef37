//! The numbered migrations that build the schema, oldest first.
//!
//! Migration `N` (1-based) takes a database from `user_version = N - 1` to `N`. Released
//! migrations are frozen: change the schema by appending a file, and add a frozen fixture of the
//! previous version under `core/tests/fixtures/` so the upgrade test covers it.

/// Marks a SQLite file as ours (`PRAGMA application_id`), so a foreign file at the store path is
/// recognised and refused instead of being migrated over. ASCII "Stch".
pub const APPLICATION_ID: i32 = 0x5374_6368;

/// Every migration, in order.
pub const MIGRATIONS: &[&str] = &[
    include_str!("migrations/0001_initial.sql"),
    include_str!("migrations/0002_learning.sql"),
    include_str!("migrations/0003_content.sql"),
    include_str!("migrations/0004_downloads.sql"),
    include_str!("migrations/0005_publisher.sql"),
    include_str!("migrations/0006_sync.sql"),
    include_str!("migrations/0007_patches_and_sharing.sql"),
];

/// The schema version this build writes and understands.
pub const LATEST_VERSION: u32 = MIGRATIONS.len() as u32;
