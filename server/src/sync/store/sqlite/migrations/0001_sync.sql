-- The sync server's state: the server epoch, learners with their commit-order cursor and
-- tombstone horizon, registered devices with their last applied seq and pulled-through cursor,
-- the merged records, and the identity of every op applied.

CREATE TABLE server_meta (
    id     INTEGER PRIMARY KEY CHECK (id = 1),
    -- Random, renewed by `satchel-server sync-new-epoch` after a backup is restored.
    epoch  TEXT NOT NULL
);

CREATE TABLE learner (
    learner_id  TEXT PRIMARY KEY,
    -- The last cursor given to a change of this learner's records (0: none yet).
    cursor      INTEGER NOT NULL DEFAULT 0,
    -- Tombstones at or below this cursor may have been purged: a pull from below it resets.
    horizon     INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

CREATE TABLE device (
    learner_id        TEXT NOT NULL REFERENCES learner (learner_id),
    device_id         TEXT NOT NULL,
    name              TEXT NOT NULL,
    -- Every seq up to this one is applied (or rejected, or a duplicate); 0: none yet.
    last_seq          INTEGER NOT NULL DEFAULT 0,
    -- The cursor of the device's latest pull: it holds every change up to it.
    pulled_through    INTEGER NOT NULL DEFAULT 0,
    registered_at_ms  INTEGER NOT NULL,
    last_seen_ms      INTEGER NOT NULL,
    PRIMARY KEY (learner_id, device_id)
) WITHOUT ROWID;

CREATE TABLE record (
    learner_id  TEXT NOT NULL REFERENCES learner (learner_id),
    kind        TEXT NOT NULL,
    entity_id   TEXT NOT NULL,
    -- The learner cursor of this record's last change.
    cursor      INTEGER NOT NULL,
    tombstone   INTEGER NOT NULL CHECK (tombstone IN (0, 1)),
    -- The merged record as protocol JSON.
    body        TEXT NOT NULL,
    PRIMARY KEY (learner_id, kind, entity_id)
) WITHOUT ROWID;

CREATE UNIQUE INDEX record_by_cursor ON record (learner_id, cursor);
CREATE INDEX tombstone_by_cursor ON record (learner_id, cursor) WHERE tombstone = 1;

-- One row per op the server has taken (applied or rejected): the op id is its identity, so the
-- same op sent again under another seq (after a reset) is recognised as a duplicate.
CREATE TABLE op (
    learner_id  TEXT NOT NULL REFERENCES learner (learner_id),
    op_id       TEXT NOT NULL,
    device_id   TEXT NOT NULL,
    seq         INTEGER NOT NULL,
    -- 'applied' or 'rejected'.
    outcome     TEXT NOT NULL,
    reason      TEXT,
    PRIMARY KEY (learner_id, op_id)
) WITHOUT ROWID;
