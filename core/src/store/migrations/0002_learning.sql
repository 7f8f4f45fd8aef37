-- Schema version 2: learning offline — quizzes and attempts, watched ranges and reading progress,
-- enrolment, study time, note tags and full-text search.

-- Quiz content from the manifest. `questions` is the JSON list of questions with their choices;
-- answer keys are present only for practice quizzes (graded ones are graded by the server).
CREATE TABLE quiz (
    lesson_id    TEXT PRIMARY KEY NOT NULL REFERENCES lesson(id) ON DELETE CASCADE,
    mode         TEXT NOT NULL CHECK (mode IN ('practice', 'graded')),
    pass_percent INTEGER NOT NULL CHECK (pass_percent BETWEEN 0 AND 100),
    questions    TEXT NOT NULL
) WITHOUT ROWID;

-- A learner's attempt at a quiz. Learner data: no foreign key to the catalog.
CREATE TABLE quiz_attempt (
    id              TEXT PRIMARY KEY NOT NULL,
    lesson_id       TEXT NOT NULL,
    course_id       TEXT NOT NULL,
    mode            TEXT NOT NULL CHECK (mode IN ('practice', 'graded')),
    state           TEXT NOT NULL CHECK (state IN ('in_progress', 'submitted_pending', 'graded')),
    answers         TEXT NOT NULL DEFAULT '{}',
    started_at_ms   INTEGER NOT NULL,
    submitted_at_ms INTEGER,
    score_percent   INTEGER,
    passed          INTEGER CHECK (passed IN (0, 1))
) WITHOUT ROWID;
CREATE INDEX quiz_attempt_by_lesson ON quiz_attempt(lesson_id);

-- Video: the ranges actually played (JSON [[start, end], ...]) and their total, so seeking to
-- the end is not mistaken for watching. Reading: how far the learner scrolled (0..1).
ALTER TABLE progress ADD COLUMN watched TEXT NOT NULL DEFAULT '[]';
ALTER TABLE progress ADD COLUMN watched_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE progress ADD COLUMN scroll_fraction REAL NOT NULL DEFAULT 0;
CREATE INDEX progress_by_course ON progress(course_id);

CREATE TABLE enrollment (
    course_id      TEXT PRIMARY KEY NOT NULL,
    enrolled_at_ms INTEGER NOT NULL
) WITHOUT ROWID;

-- Learning time in 15-minute wall-clock buckets (bucket = utc_ms / 900000). Fine enough to
-- assign time to local days in any time zone, including half- and quarter-hour offsets.
CREATE TABLE study_time (
    bucket INTEGER PRIMARY KEY NOT NULL,
    ms     INTEGER NOT NULL CHECK (ms >= 0)
);

-- Notes: tags (JSON list), whether a text anchor lost its passage, and the change clock.
ALTER TABLE note ADD COLUMN tags TEXT NOT NULL DEFAULT '[]';
ALTER TABLE note ADD COLUMN orphaned INTEGER NOT NULL DEFAULT 0 CHECK (orphaned IN (0, 1));
CREATE INDEX note_by_course ON note(course_id);

-- Full-text search over live notes. Trigram tokens give substring matches in every script,
-- including those written without spaces.
CREATE VIRTUAL TABLE note_fts USING fts5(
    body, quote, tags, course_id UNINDEXED,
    tokenize = 'trigram remove_diacritics 1'
);

CREATE TRIGGER note_fts_insert AFTER INSERT ON note WHEN new.deleted = 0 BEGIN
    INSERT INTO note_fts (rowid, body, quote, tags, course_id)
    VALUES (new.rowid, new.body, coalesce(json_extract(new.anchor, '$.quote'), ''), new.tags, new.course_id);
END;

CREATE TRIGGER note_fts_update AFTER UPDATE ON note BEGIN
    DELETE FROM note_fts WHERE rowid = old.rowid;
    INSERT INTO note_fts (rowid, body, quote, tags, course_id)
    SELECT new.rowid, new.body, coalesce(json_extract(new.anchor, '$.quote'), ''), new.tags, new.course_id
    WHERE new.deleted = 0;
END;

CREATE TRIGGER note_fts_delete AFTER DELETE ON note BEGIN
    DELETE FROM note_fts WHERE rowid = old.rowid;
END;
