package org.satchel

import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.channels.awaitClose
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.buffer
import kotlinx.coroutines.flow.callbackFlow
import org.satchel.core.Satchel
import org.satchel.core.SyncEvent
import org.satchel.core.SyncListener

/**
 * Sync status as a cold [Flow]: the current status at once, then every change (idle, syncing
 * with counts, offline, error with a reason; last-synced time and refused operations on each).
 * Collecting subscribes, cancelling the collector unsubscribes. Events arrive on a core thread.
 */
fun Satchel.syncEvents(): Flow<SyncEvent> = callbackFlow {
    val subscription = subscribeSync(object : SyncListener {
        override fun onEvent(event: SyncEvent) {
            trySend(event)
        }
    })
    awaitClose {
        subscription.cancel()
        subscription.close()
    }
}.buffer(Channel.UNLIMITED)
