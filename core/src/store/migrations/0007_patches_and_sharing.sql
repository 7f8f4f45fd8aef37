-- Schema version 7: delta course updates and peer sharing.

-- The zstd patches a course's manifest lists (format 3): `result` (a text blob of the current
-- version) from `base` (a blob of an earlier version), `size` bytes on the host. Catalog data:
-- replaced with the course on every update.
CREATE TABLE blob_patch (
    course_id TEXT NOT NULL REFERENCES course(id) ON DELETE CASCADE,
    base      TEXT NOT NULL,
    result    TEXT NOT NULL,
    size      INTEGER NOT NULL CHECK (size > 0),
    PRIMARY KEY (course_id, result, base)
) WITHOUT ROWID;

-- Patches that did not give their result (fetch broke, truncated, for another base, wrong
-- result, decoded past the result's size): the whole blob was fetched instead. Kept so the
-- learner's app and the publisher can see what failed; `kind` is the typed error's name.
CREATE TABLE patch_failure (
    id        INTEGER PRIMARY KEY,
    base      TEXT NOT NULL,
    result    TEXT NOT NULL,
    kind      TEXT NOT NULL,
    detail    TEXT NOT NULL,
    at_ms     INTEGER NOT NULL
);

-- The signed manifest envelope the course was installed from, exactly as published (JSON), so
-- the course can be shared phone to phone with its publisher's signature. NULL for courses
-- imported unsigned or fetched before schema 7 (fetching the course again fills it).
ALTER TABLE course ADD COLUMN signed_manifest TEXT;
