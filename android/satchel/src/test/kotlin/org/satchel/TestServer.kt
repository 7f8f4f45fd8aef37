package org.satchel

/**
 * What `cargo xtask test` tells the JVM tests, as system properties, about the loopback reference
 * server it runs: the content URL, the publisher key the sample is signed with, and sync tokens.
 * Read on first use, so a test run outside the test command fails naming the missing property.
 */
object TestServer {
    val contentUrl: String by lazy { property("satchel.contentUrl") }
    val publisherKey: String by lazy { property("satchel.publisherKey") }
    val syncToken: String by lazy { property("satchel.syncToken") }
    val otherSyncToken: String by lazy { property("satchel.otherSyncToken") }
    val loggingSyncToken: String by lazy { property("satchel.loggingSyncToken") }

    private fun property(name: String): String =
        System.getProperty(name) ?: error("$name is not set: run these tests through cargo xtask test")
}
