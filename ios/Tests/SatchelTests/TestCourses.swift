/// Small manifests for the tests; the mirror of android/.../TestCourses.kt.
enum TestCourses {
    static let small = """
    {
      "format": 1, "id": "kt-course", "version": 1, "title": "Kotlin test course",
      "modules": [
        { "id": "kt.m1", "title": "Only module", "lessons": [
          { "id": "kt.video", "title": "A lecture", "kind": "video", "duration_ms": 300000,
            "renditions": [ { "kind": "full", "bytes": 40000000 }, { "kind": "lite", "bytes": 1200000 } ],
            "linked": ["kt.reading"] },
          { "id": "kt.reading", "title": "A reading", "kind": "reading" },
          { "id": "kt.quiz", "title": "A practice quiz", "kind": "quiz", "quiz": { "mode": "practice", "pass_percent": 50, "questions": [
            { "id": "q1", "prompt": "Two plus two?", "choices": [ { "id": "a", "text": "4" }, { "id": "b", "text": "5" } ], "correct": ["a"] },
            { "id": "q2", "prompt": "Pick the vowels", "multiple": true, "choices": [ { "id": "a", "text": "a" }, { "id": "b", "text": "b" }, { "id": "e", "text": "e" } ], "correct": ["a", "e"] }
          ] } }
        ] }
      ]
    }
    """
}
