-- Schema version 6: the sync engine. (Numbered after 0005, which another change adds.)

-- An outbox entry is *frozen* when a push takes it: it gets the next gap-free per-device
-- sequence number in that same transaction and is never coalesced or rewritten again, so the
-- server's "last applied seq" always means the same changes. `priority` orders what is frozen
-- first on a metered link: 0 quiz attempts and completions, 1 notes, enrolment and settings,
-- 2 bulk progress (frozen only on an unmetered network).
ALTER TABLE outbox ADD COLUMN device_seq INTEGER;
ALTER TABLE outbox ADD COLUMN priority INTEGER NOT NULL DEFAULT 2 CHECK (priority BETWEEN 0 AND 2);
CREATE UNIQUE INDEX outbox_by_device_seq ON outbox(device_seq) WHERE device_seq IS NOT NULL;
CREATE INDEX outbox_by_entity ON outbox(entity_kind, entity_id);

-- Each synced entity's protocol record (JSON): the join of every local change and every state
-- pulled from the server. Local writes merge into it; the domain tables are what it materialises
-- to, plus device-local fields (a note's `orphaned`, re-anchored offsets) that never travel.
CREATE TABLE sync_record (
    kind      TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    record    TEXT NOT NULL,
    PRIMARY KEY (kind, entity_id)
) WITHOUT ROWID;

-- Operations the server refused for good (they advanced the sequence, so the queue moved on).
-- Kept for the app to show until the learner dismisses them.
CREATE TABLE sync_rejected (
    op_id          TEXT PRIMARY KEY NOT NULL,
    device_seq     INTEGER NOT NULL,
    entity_kind    TEXT NOT NULL,
    entity_id      TEXT NOT NULL,
    change         TEXT NOT NULL,
    code           TEXT NOT NULL,
    reason         TEXT NOT NULL,
    rejected_at_ms INTEGER NOT NULL
) WITHOUT ROWID;

-- Where this device stands with the sync server (one row). `epoch` and `cursor` are the server
-- database's identity and how far this device has pulled; `last_seq` the last sequence number
-- frozen; `registered_device` the device id the server knows (NULL: register first);
-- `reset_pending` that the server asked for a reset and the next registration decides which
-- kind (see core/src/sync/reset.rs); `needs_backfill` that records of data written before sync
-- existed are still to be built.
CREATE TABLE sync_state (
    id                INTEGER PRIMARY KEY CHECK (id = 1),
    epoch             TEXT,
    cursor            INTEGER NOT NULL DEFAULT 0 CHECK (cursor >= 0),
    last_seq          INTEGER NOT NULL DEFAULT 0 CHECK (last_seq >= 0),
    registered_device TEXT,
    last_synced_at_ms INTEGER,
    reset_pending     INTEGER NOT NULL DEFAULT 0 CHECK (reset_pending IN (0, 1)),
    needs_backfill    INTEGER NOT NULL DEFAULT 1 CHECK (needs_backfill IN (0, 1))
);
INSERT INTO sync_state (id) VALUES (1);
