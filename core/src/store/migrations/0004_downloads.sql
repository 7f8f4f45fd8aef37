-- Schema version 4: the resumable, policy-aware download queue.

-- Why a download last failed or is waiting, and how many attempts in a row made no progress
-- (reset whenever bytes arrive), so backoff survives a restart.
ALTER TABLE download ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
CREATE INDEX download_by_state ON download(state, priority DESC, created_at_ms);

-- A blob being downloaded: its bytes so far are in `content/partial/<hash>.part`. The validator
-- is the strong ETag (or Last-Modified) those bytes came with; a resumed request sends it in
-- If-Range, so a changed file on the host restarts the blob instead of splicing two versions.
CREATE TABLE partial_blob (
    hash            TEXT PRIMARY KEY NOT NULL,
    validator       TEXT,
    verify_failures INTEGER NOT NULL DEFAULT 0,
    updated_at_ms   INTEGER NOT NULL
) WITHOUT ROWID;

-- Bytes received per calendar month (UTC, 'YYYY-MM') and kind of network, for the learner's
-- monthly cellular budget and the "data used" screen.
CREATE TABLE data_usage (
    month   TEXT NOT NULL,
    network TEXT NOT NULL CHECK (network IN ('metered', 'unmetered')),
    bytes   INTEGER NOT NULL DEFAULT 0 CHECK (bytes >= 0),
    PRIMARY KEY (month, network)
) WITHOUT ROWID;
