package org.satchel.android

import android.content.Context
import android.util.Log
import androidx.work.CoroutineWorker
import androidx.work.ExistingWorkPolicy
import androidx.work.WorkerParameters
import org.satchel.syncWork

/**
 * Pushes the outbox and pulls the learner's changes in the background. No notification: a sync
 * takes seconds. `syncWork` stops the sync when WorkManager cancels this coroutine and turns its
 * outcome into the result (a refused token fails: the app asks the learner to sign in).
 */
class SyncWorker(context: Context, params: WorkerParameters) : CoroutineWorker(context, params) {
    override suspend fun doWork(): Result {
        val satchel = (applicationContext as SatchelProvider).satchel() ?: return Result.success()
        satchel.setNetwork(SatchelNetworkMonitor.current(applicationContext))
        val decision = satchel.syncWork(SatchelWork.MAX_RUN_MS)
        Log.i("Satchel/worker", "sync: ${decision.result}, ${decision.reason}")
        return SatchelWork.result(decision) { delayMs ->
            SatchelWork.enqueueSync(applicationContext, delayMs, ExistingWorkPolicy.APPEND_OR_REPLACE)
        }
    }
}
