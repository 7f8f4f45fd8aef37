package org.satchel

import java.io.File
import java.nio.file.Files
import kotlinx.coroutines.runBlocking
import org.junit.After
import org.junit.Before
import org.satchel.core.Satchel
import org.satchel.core.SatchelConfig

/**
 * Base for tests that need an account which fetched the sample course from the reference
 * server `cargo xtask test` runs on loopback (its URL and publisher key come as system properties).
 */
abstract class ServedCourseFixture {
    protected lateinit var dir: File
    protected lateinit var satchel: Satchel
    protected val contentUrl: String = TestServer.contentUrl
    protected val publisherKey: String = TestServer.publisherKey

    @Before fun openAccount() = runBlocking {
        dir = Files.createTempDirectory("satchel-kt").toFile()
        satchel = SatchelAccounts.open(dir, SatchelConfig(trustedPublisherKeys = listOf(publisherKey)))
        satchel.fetchCourse(contentUrl, "web-basics")
        Unit
    }

    @After fun closeAccount() {
        runBlocking { satchel.shutdown() }
        satchel.close()
        dir.deleteRecursively()
    }
}
