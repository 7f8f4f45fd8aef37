package org.satchel

import kotlinx.coroutines.runBlocking
import org.junit.Assert.assertEquals
import org.junit.Assert.assertTrue
import org.junit.Assert.fail
import org.junit.Test
import org.satchel.core.DownloadTarget
import org.satchel.core.NetworkErrorKind
import org.satchel.core.NetworkType
import org.satchel.core.RenditionKind
import org.satchel.core.RunOutcome
import org.satchel.core.RunSummary
import org.satchel.core.SatchelException
import org.satchel.core.StorageErrorKind
import org.satchel.core.SyncOutcome
import org.satchel.core.SyncReport
import org.satchel.core.TokenProvider

/** A run's result, a sync's outcome or an error → what the Worker returns, on the real core. */
class WorkDecisionTest : ServedCourseFixture() {
    @Test fun aFinishedRunSucceedsAndARunWithNoNetworkRetries() = runBlocking {
        satchel.enqueueDownload(DownloadTarget.Lesson("web-basics.dns"), RenditionKind.LITE, 0)
        // No setNetwork yet: the core assumes no network, as a Worker started before its callback.
        val blocked = satchel.downloadWork(10_000L)
        assertEquals(blocked.reason, WorkResult.RETRY, blocked.result)
        satchel.setNetwork(NetworkType.UNMETERED)
        val done = satchel.downloadWork(30_000L)
        assertEquals(done.reason, WorkResult.SUCCESS, done.result)
        assertEquals("finished", done.reason)
    }

    @Test fun aDeadlineWithWorkLeftRetriesAndTheRetryFinishesIt() = runBlocking {
        onSlowPhone(contentUrl, publisherKey, bytesPerSecond = 200_000) { phone, link ->
            phone.enqueueDownload(DownloadTarget.Lesson("web-basics.what-happens"), RenditionKind.FULL, 0)
            val cut = phone.downloadWork(700L)
            assertEquals(cut.reason, WorkResult.RETRY, cut.result)
            assertEquals("deadline reached with 1 left", cut.reason)
            link.bytesPerSecond = Long.MAX_VALUE
            assertEquals(WorkResult.SUCCESS, phone.downloadWork(60_000L).result)
        }
    }

    @Test fun realNetworkErrorsRetryWhenTimeCanHelpAndFailWhenItCannot() = runBlocking {
        val unreachable = thrown { satchel.fetchCourse("http://127.0.0.1:9/", "web-basics") }
        assertEquals(NetworkErrorKind.UNREACHABLE, (unreachable as SatchelException.Network).kind)
        assertEquals(WorkResult.RETRY, WorkDecisions.forError(unreachable).result)

        val missing = thrown { satchel.fetchCourse(contentUrl, "no-such-course") }
        assertEquals(404, (missing as SatchelException.Network).httpStatus)
        assertEquals(WorkDecision(WorkResult.FAILURE, "HTTP 404"), WorkDecisions.forError(missing))

        // Sync never configured: the app must configure it, retrying cannot help.
        assertEquals(WorkResult.FAILURE, satchel.syncWork(5_000L).result)
        satchel.setNetwork(NetworkType.UNMETERED)
        satchel.configureSync(contentUrl, object : TokenProvider {
            override fun token(): String? = "not-a-token"
            override fun refresh(): String? = null
        })
        val refused = satchel.syncWork(10_000L)
        assertEquals(WorkDecision(WorkResult.FAILURE, "the learner must sign in"), refused)
    }

    @Test fun storageErrorsFailExceptPassingIoAndHttpWaitsKeepRetryAfter() {
        fun storage(kind: StorageErrorKind) = WorkDecisions.forError(SatchelException.Storage(kind, "")).result
        assertEquals(WorkResult.FAILURE, storage(StorageErrorKind.DISK_FULL))
        assertEquals(WorkResult.FAILURE, storage(StorageErrorKind.QUOTA_FULL))
        assertEquals(WorkResult.FAILURE, storage(StorageErrorKind.CORRUPT))
        assertEquals(WorkResult.RETRY, storage(StorageErrorKind.IO))
        assertEquals(WorkResult.RETRY, WorkDecisions.forError(SatchelException.Integrity("")).result)
        assertEquals(WorkResult.FAILURE, WorkDecisions.forError(SatchelException.Closed()).result)

        fun http(status: Int?, retryAfterMs: Long? = null) =
            WorkDecisions.forError(SatchelException.Network(NetworkErrorKind.HTTP_STATUS, status, retryAfterMs, ""))
        assertEquals(WorkDecision(WorkResult.RETRY, "HTTP 429", 30_000L), http(429, 30_000L))
        assertEquals(WorkDecision(WorkResult.RETRY, "HTTP 503", null), http(503))
        assertEquals(WorkResult.RETRY, http(408).result)
        assertEquals(WorkResult.FAILURE, http(410).result)
        assertEquals(WorkResult.FAILURE, http(403).result)
        assertEquals(WorkResult.RETRY, http(null).result)
        assertEquals(WorkResult.FAILURE, WorkDecisions.forNetwork(NetworkErrorKind.BUDGET_EXHAUSTED, null, null).result)
        assertEquals(WorkResult.RETRY, WorkDecisions.forNetwork(NetworkErrorKind.NOT_ALLOWED, null, null).result)
        assertEquals(WorkResult.RETRY, WorkDecisions.forNetwork(NetworkErrorKind.CERTIFICATE_REJECTED, null, null).result)
    }

    @Test fun outcomesWithNothingLeftSucceedAndOthersRetry() {
        fun run(outcome: RunOutcome, remaining: Int, failed: Int = 0) =
            WorkDecisions.forDownloads(RunSummary(outcome, completed = 1, failed = failed, remaining = remaining))
        assertEquals(WorkResult.SUCCESS, run(RunOutcome.DEADLINE_REACHED, remaining = 0).result)
        assertEquals(WorkResult.RETRY, run(RunOutcome.STOPPED, remaining = 2).result)
        assertEquals(WorkResult.SUCCESS, run(RunOutcome.STOPPED, remaining = 0).result)
        // Failed downloads wait for the learner's resume: retrying the Worker would not move them.
        val withFailures = run(RunOutcome.FINISHED, remaining = 0, failed = 2)
        assertEquals(WorkResult.SUCCESS, withFailures.result)
        assertTrue(withFailures.reason, withFailures.reason.contains("2 failed"))

        fun sync(outcome: SyncOutcome, remaining: Int) =
            WorkDecisions.forSync(SyncReport(outcome, pushed = 0, pulled = 0, rejected = 0, remaining = remaining)).result
        assertEquals(WorkResult.RETRY, sync(SyncOutcome.DeadlineReached, remaining = 3))
        assertEquals(WorkResult.SUCCESS, sync(SyncOutcome.DeadlineReached, remaining = 0))
        assertEquals(WorkResult.RETRY, sync(SyncOutcome.Blocked, remaining = 3))
        assertEquals(WorkResult.RETRY, sync(SyncOutcome.Failed(NetworkErrorKind.INTERRUPTED, null, ""), remaining = 3))
    }

    @Test fun downloadJobsWaitForWifiWhenTheSettingsWouldHoldThemOnCellular() = runBlocking {
        val defaults = satchel.downloadSettings()
        assertEquals(RequiredNetwork.UNMETERED, WorkConstraints.forDownloads(defaults))
        val cellular = defaults.copy(wifiOnly = false, monthlyCellularBudgetBytes = 50_000_000L)
        satchel.setDownloadSettings(cellular)
        assertEquals(RequiredNetwork.CONNECTED, WorkConstraints.forDownloads(satchel.downloadSettings()))
        assertEquals(RequiredNetwork.UNMETERED, WorkConstraints.forDownloads(cellular.copy(monthlyCellularBudgetBytes = 0L)))
        assertEquals(RequiredNetwork.CONNECTED, WorkConstraints.forDownloads(cellular.copy(monthlyCellularBudgetBytes = null)))
    }

    private suspend fun thrown(call: suspend () -> Unit): SatchelException {
        try {
            call()
        } catch (e: SatchelException) {
            return e
        }
        fail("expected a SatchelException")
        error("unreachable")
    }
}
