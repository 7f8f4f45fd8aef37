-- The sync server's state in PostgreSQL, the same model as the SQLite backend's migrations 1-2:
-- the server epoch, learners with their commit-order cursor and tombstone horizon, registered
-- devices with their last applied seq and pulled-through cursor, the merged records, and the
-- identity and answer of every op taken. Cursors and seqs are BIGINT (the protocol's u64 values
-- stay below 2^63).

CREATE TABLE server_meta (
    id     INTEGER PRIMARY KEY CHECK (id = 1),
    -- Random, renewed by `satchel-server sync-new-epoch` after a backup is restored.
    epoch  TEXT NOT NULL
);

CREATE TABLE learner (
    learner_id  TEXT PRIMARY KEY,
    -- The last cursor given to a change of this learner's records (0: none yet). Every write of
    -- the learner's records locks this row first (SELECT ... FOR NO KEY UPDATE) and raises it in
    -- the same transaction, so cursors commit in the order they are given.
    cursor      BIGINT NOT NULL DEFAULT 0,
    -- Tombstones at or below this cursor may have been purged: a pull from below it resets.
    horizon     BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE device (
    learner_id        TEXT NOT NULL REFERENCES learner (learner_id),
    device_id         TEXT NOT NULL,
    name              TEXT NOT NULL,
    -- Every seq up to this one is applied (or rejected, or a duplicate); 0: none yet.
    last_seq          BIGINT NOT NULL DEFAULT 0,
    -- The cursor of the device's latest pull: it holds every change up to it.
    pulled_through    BIGINT NOT NULL DEFAULT 0,
    registered_at_ms  BIGINT NOT NULL,
    last_seen_ms      BIGINT NOT NULL,
    PRIMARY KEY (learner_id, device_id)
);

CREATE TABLE record (
    learner_id  TEXT NOT NULL REFERENCES learner (learner_id),
    kind        TEXT NOT NULL,
    entity_id   TEXT NOT NULL,
    -- The learner cursor of this record's last change.
    cursor      BIGINT NOT NULL,
    tombstone   BOOLEAN NOT NULL,
    -- The merged record as protocol JSON (text, not jsonb: pages are sized by these bytes).
    body        TEXT NOT NULL,
    PRIMARY KEY (learner_id, kind, entity_id)
);

CREATE UNIQUE INDEX record_by_cursor ON record (learner_id, cursor);
CREATE INDEX tombstone_by_cursor ON record (learner_id, cursor) WHERE tombstone;
-- Attempts waiting for an answer key are looked up at start-up across every learner.
CREATE INDEX attempt_by_learner ON record (learner_id, cursor) WHERE kind = 'quiz_attempt';

-- One row per op the server has taken (applied or rejected): the op id is its identity, so the
-- same op sent again under another seq (after a reset) is recognised as a duplicate, and gets
-- the same answer (its clamp, or its rejection).
CREATE TABLE op (
    learner_id   TEXT NOT NULL REFERENCES learner (learner_id),
    op_id        TEXT NOT NULL,
    device_id    TEXT NOT NULL,
    seq          BIGINT NOT NULL,
    -- 'applied' or 'rejected'.
    outcome      TEXT NOT NULL,
    reason       TEXT,
    reject_code  TEXT,
    clamped_to   BIGINT,
    PRIMARY KEY (learner_id, op_id)
);
