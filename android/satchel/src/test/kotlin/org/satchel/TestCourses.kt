package org.satchel

/** Small manifests for the JVM tests. */
object TestCourses {
    val SMALL = """
        {
          "format": 1, "id": "kt-course", "version": 1, "title": "Kotlin test course",
          "modules": [
            { "id": "kt.m1", "title": "Only module", "lessons": [
              { "id": "kt.video", "title": "A lecture", "kind": "video", "duration_ms": 300000,
                "renditions": [ { "kind": "full", "bytes": 40000000 }, { "kind": "lite", "bytes": 1200000 } ],
                "linked": ["kt.reading"] },
              { "id": "kt.reading", "title": "A reading", "kind": "reading" }
            ] }
          ]
        }
    """.trimIndent()
}
