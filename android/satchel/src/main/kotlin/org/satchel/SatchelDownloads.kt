package org.satchel

import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.channels.awaitClose
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.buffer
import kotlinx.coroutines.flow.callbackFlow
import org.satchel.core.DownloadEvent
import org.satchel.core.DownloadListener
import org.satchel.core.Satchel

/**
 * Download events as a cold [Flow]: collecting subscribes, cancelling the collector unsubscribes.
 *
 * First the current state of every download, then live events. State changes are never dropped
 * (few, and a list must not miss "done"); progress events come at most a few times a second per
 * download. Events are delivered on a core thread of their own (never one that moves bytes):
 * collect on the dispatcher your UI needs.
 */
fun Satchel.downloadEvents(): Flow<DownloadEvent> = callbackFlow {
    val subscription = subscribeDownloads(object : DownloadListener {
        override fun onEvent(event: DownloadEvent) {
            trySend(event)
        }
    })
    awaitClose {
        subscription.cancel()
        subscription.close()
    }
}.buffer(Channel.UNLIMITED)
