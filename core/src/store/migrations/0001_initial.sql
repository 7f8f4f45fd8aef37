-- Schema version 1: the course catalog, plus the learner-data tables that downloads, progress,
-- notes and sync fill. Never edit a migration once released: add the next numbered file instead
-- (and a frozen fixture of the old version for the upgrade test).

-- Key/value facts about this store: device id, device name.
CREATE TABLE meta (
    key   TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
) WITHOUT ROWID;

-- ---------------------------------------------------------------- catalog (published content)
-- Ids come from the publisher's manifest and are unique across every course a learner holds.

CREATE TABLE course (
    id                 TEXT PRIMARY KEY NOT NULL,
    version            INTEGER NOT NULL CHECK (version >= 0),
    title              TEXT NOT NULL,
    description        TEXT NOT NULL DEFAULT '',
    language           TEXT NOT NULL DEFAULT '',
    imported_at_ms     INTEGER NOT NULL,
    last_studied_at_ms INTEGER
);

CREATE TABLE module (
    id        TEXT PRIMARY KEY NOT NULL,
    course_id TEXT NOT NULL REFERENCES course(id) ON DELETE CASCADE,
    position  INTEGER NOT NULL,
    title     TEXT NOT NULL,
    UNIQUE (course_id, position)
);

CREATE TABLE lesson (
    id          TEXT PRIMARY KEY NOT NULL,
    course_id   TEXT NOT NULL REFERENCES course(id) ON DELETE CASCADE,
    module_id   TEXT NOT NULL REFERENCES module(id) ON DELETE CASCADE,
    position    INTEGER NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('video', 'reading', 'quiz')),
    title       TEXT NOT NULL,
    duration_ms INTEGER CHECK (duration_ms IS NULL OR duration_ms >= 0),
    UNIQUE (module_id, position)
);
CREATE INDEX lesson_by_course ON lesson(course_id);

-- What each rendition of a lesson costs to download, so the UI can say "Lite: 2.1 MB" up front.
CREATE TABLE rendition (
    lesson_id TEXT NOT NULL REFERENCES lesson(id) ON DELETE CASCADE,
    kind      TEXT NOT NULL CHECK (kind IN ('full', 'lite', 'text')),
    bytes     INTEGER NOT NULL CHECK (bytes >= 0),
    PRIMARY KEY (lesson_id, kind)
) WITHOUT ROWID;

-- "Linked lectures": ordered links from a lesson to related lessons.
CREATE TABLE lesson_link (
    lesson_id        TEXT NOT NULL REFERENCES lesson(id) ON DELETE CASCADE,
    position         INTEGER NOT NULL,
    linked_lesson_id TEXT NOT NULL REFERENCES lesson(id) ON DELETE CASCADE,
    PRIMARY KEY (lesson_id, position)
) WITHOUT ROWID;
CREATE INDEX lesson_link_by_target ON lesson_link(linked_lesson_id);

-- ---------------------------------------------------------------- learner data
-- Deliberately no foreign keys to `lesson`: a course update that drops or renames a lesson must
-- never cascade away a learner's downloads bookkeeping, progress or notes.

CREATE TABLE download (
    id            INTEGER PRIMARY KEY,
    lesson_id     TEXT NOT NULL,
    rendition     TEXT NOT NULL CHECK (rendition IN ('full', 'lite', 'text')),
    state         TEXT NOT NULL CHECK (state IN ('queued', 'running', 'paused', 'waiting_network',
                                                  'waiting_budget', 'failed', 'done')),
    priority      INTEGER NOT NULL DEFAULT 0,
    bytes_total   INTEGER NOT NULL DEFAULT 0,
    bytes_done    INTEGER NOT NULL DEFAULT 0,
    failure       TEXT,
    created_at_ms INTEGER NOT NULL,
    updated_at_ms INTEGER NOT NULL,
    UNIQUE (lesson_id, rendition)
);

CREATE TABLE progress (
    lesson_id       TEXT PRIMARY KEY NOT NULL,
    course_id       TEXT NOT NULL,
    position_ms     INTEGER NOT NULL DEFAULT 0,
    furthest_ms     INTEGER NOT NULL DEFAULT 0,
    completed_at_ms INTEGER,
    time_spent_ms   INTEGER NOT NULL DEFAULT 0,
    updated_at_ms   INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE note (
    id            TEXT PRIMARY KEY NOT NULL,
    lesson_id     TEXT NOT NULL,
    course_id     TEXT NOT NULL,
    kind          TEXT NOT NULL CHECK (kind IN ('note', 'highlight')),
    body          TEXT NOT NULL DEFAULT '',
    anchor        TEXT NOT NULL,
    color         TEXT,
    created_at_ms INTEGER NOT NULL,
    updated_at_ms INTEGER NOT NULL,
    deleted       INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1))
);
CREATE INDEX note_by_lesson ON note(lesson_id);

-- The durable sync outbox: every local change is appended here in the same transaction as the
-- change itself, and removed only once the server has acknowledged it.
CREATE TABLE outbox (
    seq                INTEGER PRIMARY KEY AUTOINCREMENT,
    op_id              TEXT NOT NULL UNIQUE,
    entity_kind        TEXT NOT NULL,
    entity_id          TEXT NOT NULL,
    change             TEXT NOT NULL,
    hlc                TEXT NOT NULL,
    created_at_ms      INTEGER NOT NULL,
    attempts           INTEGER NOT NULL DEFAULT 0,
    next_attempt_at_ms INTEGER,
    last_error         TEXT
);
