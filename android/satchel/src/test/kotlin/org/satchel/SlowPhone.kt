package org.satchel

import java.nio.file.Files
import kotlinx.coroutines.delay
import kotlinx.coroutines.withTimeout
import org.satchel.core.DownloadState
import org.satchel.core.NetworkType
import org.satchel.core.Satchel
import org.satchel.core.SatchelConfig

/**
 * Runs [block] with a phone on a slow link: a fresh account that fetched the sample course
 * through a [SlowLink] at [bytesPerSecond] and is on an unmetered network, so a transfer is still
 * going when a test stops it. The account is shut down and deleted afterwards.
 */
suspend fun <T> onSlowPhone(
    contentUrl: String,
    publisherKey: String,
    bytesPerSecond: Long,
    block: suspend (phone: Satchel, link: SlowLink) -> T,
): T = SlowLink(contentUrl, bytesPerSecond).use { link ->
    val dir = Files.createTempDirectory("satchel-kt-slow").toFile()
    val phone = SatchelAccounts.open(dir, SatchelConfig(trustedPublisherKeys = listOf(publisherKey)))
    try {
        phone.fetchCourse(link.url, "web-basics")
        phone.setNetwork(NetworkType.UNMETERED)
        block(phone, link)
    } finally {
        phone.shutdown()
        phone.close()
        dir.deleteRecursively()
    }
}

/** Waits (at most [timeoutMs]) until a download is moving bytes. */
suspend fun Satchel.awaitADownloadRunning(timeoutMs: Long = 10_000) = withTimeout(timeoutMs) {
    while (listDownloads(null).none { it.state == DownloadState.RUNNING }) delay(10)
}

/** Waits (at most [timeoutMs]) until no download is running: a stopped run reached its safe point. */
suspend fun Satchel.awaitNoDownloadRunning(timeoutMs: Long = 3_000) = withTimeout(timeoutMs) {
    while (listDownloads(null).any { it.state == DownloadState.RUNNING }) delay(20)
}
