package org.satchel

import java.io.File
import java.nio.file.Files
import kotlinx.coroutines.runBlocking
import org.junit.After
import org.junit.Before
import org.satchel.core.Satchel

/** Base for tests that need an open account with the small test course imported. */
abstract class AccountFixture {
    protected lateinit var dir: File
    protected lateinit var satchel: Satchel

    @Before fun openAccount() = runBlocking {
        dir = Files.createTempDirectory("satchel-kt").toFile()
        satchel = SatchelAccounts.open(dir)
        satchel.importManifest(TestCourses.SMALL)
        Unit
    }

    @After fun closeAccount() {
        runBlocking { satchel.shutdown() }
        satchel.close()
        dir.deleteRecursively()
    }
}
