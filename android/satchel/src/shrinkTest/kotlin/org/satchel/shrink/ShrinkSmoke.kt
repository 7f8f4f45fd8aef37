package org.satchel.shrink

import java.nio.file.Files
import kotlin.system.exitProcess
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import org.satchel.SatchelAccounts
import org.satchel.core.SatchelException
import org.satchel.syncEvents

/**
 * The app `cargo xtask test` shrinks and obfuscates with ProGuard and consumer-rules.pro, then
 * runs against the real library: each call below goes through a part of the bindings JNA finds
 * by reflection (the library interface's method names, `Structure` fields, callback methods and
 * vtables, the error converters). Prints `shrink smoke: ok` and exits 0 only if all work.
 */
fun main() {
    val dir = Files.createTempDirectory("satchel-shrink").toFile()
    val outcome = runCatching {
        runBlocking {
            // A constructor and an async call: the future's poll callback comes back through JNA.
            val satchel = SatchelAccounts.open(dir)
            // A record in, records out: RustBuffer fields read by reflection.
            satchel.importManifest(MANIFEST)
            check(satchel.listCourses().single().id == "shrink-course") { "the course did not come back" }
            // A typed error lifted from the library.
            val refused = runCatching { satchel.importManifest("{") }.exceptionOrNull()
            check(refused is SatchelException.InvalidInput) { "a bad manifest came back as $refused" }
            // A foreign listener: the core calls into Kotlin through a callback vtable.
            withTimeout(10_000) { satchel.syncEvents().first() }
            satchel.shutdown()
            satchel.close()
        }
    }
    dir.deleteRecursively()
    outcome.exceptionOrNull()?.let {
        System.err.println("shrink smoke: FAILED")
        it.printStackTrace()
        exitProcess(1)
    }
    println("shrink smoke: ok")
    // The core's threads must not keep a shrunk app alive either.
    exitProcess(0)
}

private val MANIFEST = """
    {
      "format": 1, "id": "shrink-course", "version": 1, "title": "Shrink test course",
      "modules": [
        { "id": "s.m1", "title": "Only module", "lessons": [
          { "id": "s.reading", "title": "A reading", "kind": "reading" }
        ] }
      ]
    }
""".trimIndent()
