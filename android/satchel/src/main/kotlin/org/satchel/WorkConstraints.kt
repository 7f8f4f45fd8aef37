package org.satchel

import org.satchel.core.DownloadSettings

/** The network a background job waits for; WorkManager's `NetworkType.CONNECTED` / `UNMETERED`. */
enum class RequiredNetwork { CONNECTED, UNMETERED }

object WorkConstraints {
    /**
     * Downloads wait for Wi-Fi when the learner's settings would hold them on cellular anyway
     * (Wi-Fi only, or a zero budget): a job woken on cellular would only report BLOCKED and burn
     * a retry. Otherwise any network; the core applies the budget byte by byte.
     */
    fun forDownloads(settings: DownloadSettings): RequiredNetwork =
        if (settings.wifiOnly || settings.monthlyCellularBudgetBytes == 0L) RequiredNetwork.UNMETERED
        else RequiredNetwork.CONNECTED

    /** Sync is small and the core meters it against the same budget: any network. */
    fun forSync(): RequiredNetwork = RequiredNetwork.CONNECTED
}
