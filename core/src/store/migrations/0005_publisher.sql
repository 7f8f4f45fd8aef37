-- Schema version 5: every signed course keeps its publisher.

-- The publisher key (base64 ed25519) a course is pinned to: the key that first signed it, or the
-- one a signed key rotation handed it to. A manifest for the course signed by any other key is
-- refused, and a course with a pin is never replaced by an unsigned import. No foreign key to
-- `course`: the pin outlives the course's rows, so removing a course and fetching it again from
-- another publisher is refused too.
CREATE TABLE course_publisher (
    course_id    TEXT PRIMARY KEY NOT NULL,
    public_key   TEXT NOT NULL,
    pinned_at_ms INTEGER NOT NULL
) WITHOUT ROWID;
