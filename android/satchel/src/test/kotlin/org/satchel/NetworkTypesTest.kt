package org.satchel

import kotlinx.coroutines.runBlocking
import org.junit.Assert.assertEquals
import org.junit.Test
import org.satchel.core.DownloadState
import org.satchel.core.DownloadTarget
import org.satchel.core.NetworkType
import org.satchel.core.RenditionKind
import org.satchel.core.RunOutcome

/** Network capabilities → the core's network type, and what the core does with it. */
class NetworkTypesTest : ServedCourseFixture() {
    private val homeWifi = NetworkFacts(setOf(Transport.WIFI), notMetered = true)
    private val cellular = NetworkFacts(setOf(Transport.CELLULAR))

    @Test fun wifiAndEthernetAreUnmeteredCellularAndHotspotsAreMetered() {
        assertEquals(NetworkType.UNMETERED, NetworkTypes.of(homeWifi))
        assertEquals(NetworkType.UNMETERED, NetworkTypes.of(NetworkFacts(setOf(Transport.ETHERNET), notMetered = true)))
        assertEquals(NetworkType.METERED, NetworkTypes.of(cellular))
        // A phone's hotspot is Wi-Fi that Android reports as metered.
        assertEquals(NetworkType.METERED, NetworkTypes.of(NetworkFacts(setOf(Transport.WIFI), notMetered = false)))
        // A 5G plan the carrier marks unmetered for now (TEMPORARILY_NOT_METERED).
        assertEquals(NetworkType.UNMETERED, NetworkTypes.of(cellular.copy(notMetered = true)))
        // A VPN takes the metering of the network under it, which Android reports on the VPN.
        assertEquals(NetworkType.METERED, NetworkTypes.of(NetworkFacts(setOf(Transport.VPN, Transport.CELLULAR))))
    }

    @Test fun whatCostsTheLearnerIsMeteredEvenWhenTheSystemSaysUnmetered() {
        assertEquals(NetworkType.METERED, NetworkTypes.of(cellular.copy(notMetered = true, notRoaming = false)))
        assertEquals(NetworkType.METERED, NetworkTypes.of(homeWifi.copy(dataSaver = true)))
        assertEquals(NetworkType.METERED, NetworkTypes.of(NetworkFacts(setOf(Transport.SATELLITE), notMetered = true)))
    }

    @Test fun noNetworkAPortalOrSuspendedDataIsNone() {
        assertEquals(NetworkType.NONE, NetworkTypes.of(null))
        assertEquals(NetworkType.NONE, NetworkTypes.of(homeWifi.copy(internet = false)))
        assertEquals(NetworkType.NONE, NetworkTypes.of(homeWifi.copy(captivePortal = true, validated = false)))
        assertEquals(NetworkType.NONE, NetworkTypes.of(cellular.copy(suspended = true)))
        // Not validated but no portal: the probe may be what is blocked; requests are tried.
        assertEquals(NetworkType.UNMETERED, NetworkTypes.of(homeWifi.copy(validated = false)))
    }

    @Test fun theCoreHoldsWifiOnlyDownloadsOnTheMappedCellularAndRunsThemOnWifi() = runBlocking {
        val lesson = DownloadTarget.Lesson("web-basics.dns")
        val id = satchel.enqueueDownload(lesson, RenditionKind.LITE, 0).single().id
        satchel.setNetwork(NetworkTypes.of(cellular))
        assertEquals(RunOutcome.BLOCKED, satchel.runDownloads(10_000L).outcome)
        assertEquals(DownloadState.WAITING_FOR_NETWORK, satchel.listDownloads(null).single { it.id == id }.state)
        satchel.setNetwork(NetworkTypes.of(homeWifi.copy(captivePortal = true)))
        assertEquals(RunOutcome.BLOCKED, satchel.runDownloads(10_000L).outcome)

        satchel.setNetwork(NetworkTypes.of(homeWifi))
        assertEquals(RunOutcome.FINISHED, satchel.runDownloads(30_000L).outcome)
        assertEquals(DownloadState.DONE, satchel.listDownloads(null).single { it.id == id }.state)
    }
}
