-- Schema version 3: content-addressed blobs. Each rendition lists its files; the content store
-- records which blobs are on the phone, verified.

-- Where a course was fetched from (its signed manifest and blobs live under this URL), and the
-- zstd dictionary its text blobs need (a blob itself, stored as JSON like the manifest entry).
ALTER TABLE course ADD COLUMN source_url TEXT;
ALTER TABLE course ADD COLUMN dictionary TEXT;
-- The lite text pack (manifest `text_pack`, JSON): all the course's lite text in one blob.
ALTER TABLE course ADD COLUMN text_pack TEXT;

CREATE TABLE rendition_blob (
    lesson_id   TEXT NOT NULL,
    rendition   TEXT NOT NULL,
    position    INTEGER NOT NULL,
    hash        TEXT NOT NULL,
    size        INTEGER NOT NULL CHECK (size >= 0),
    stored_size INTEGER NOT NULL CHECK (stored_size >= 0),
    media_type  TEXT NOT NULL,
    encoding    TEXT NOT NULL CHECK (encoding IN ('identity', 'zstd', 'zstd-dict')),
    role        TEXT NOT NULL,
    PRIMARY KEY (lesson_id, rendition, position),
    FOREIGN KEY (lesson_id, rendition) REFERENCES rendition(lesson_id, kind) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX rendition_blob_by_hash ON rendition_blob(hash);

-- Blobs present in the content directory, each verified against its hash before it was moved
-- into place. Learner data, not catalog: survives course updates, removed by eviction.
CREATE TABLE content_blob (
    hash         TEXT PRIMARY KEY NOT NULL,
    size         INTEGER NOT NULL CHECK (size >= 0),
    stored_at_ms INTEGER NOT NULL
) WITHOUT ROWID;
