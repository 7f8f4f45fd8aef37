package org.satchel

import org.satchel.core.NetworkType

/**
 * The transports Android's `NetworkCapabilities` names (`TRANSPORT_*`), as plain values: the
 * adapter (`SatchelNetworkMonitor`, src/android/) translates the platform's ints, so the decision
 * below is plain Kotlin tested on the JVM.
 */
enum class Transport { WIFI, CELLULAR, ETHERNET, BLUETOOTH, VPN, WIFI_AWARE, LOWPAN, USB, THREAD, SATELLITE }

/**
 * What the platform says about the default network, one field per capability that matters.
 * The defaults are those of an ordinary home Wi-Fi.
 */
data class NetworkFacts(
    val transports: Set<Transport>,
    /** `NET_CAPABILITY_INTERNET`: the network is meant to reach the internet. */
    val internet: Boolean = true,
    /** `NET_CAPABILITY_VALIDATED`: the system's probe got through. */
    val validated: Boolean = true,
    /** `NET_CAPABILITY_CAPTIVE_PORTAL`: a sign-in page answers every request for now. */
    val captivePortal: Boolean = false,
    /** `NET_CAPABILITY_NOT_METERED` or `NET_CAPABILITY_TEMPORARILY_NOT_METERED`. */
    val notMetered: Boolean = false,
    /** `NET_CAPABILITY_NOT_ROAMING`. */
    val notRoaming: Boolean = true,
    /** `NET_CAPABILITY_NOT_SUSPENDED` is absent: data is suspended (a call on a 2G network). */
    val suspended: Boolean = false,
    /** Data Saver restricts this app (`RESTRICT_BACKGROUND_STATUS_ENABLED`). */
    val dataSaver: Boolean = false,
)

/** Network facts → the core's [NetworkType]: what `Satchel.setNetwork` is told. */
object NetworkTypes {
    /**
     * `null` (no default network) is [NetworkType.NONE]. Otherwise:
     * - NONE when the network cannot carry our requests now: no internet capability, data
     *   suspended, or a captive portal (every request would get its sign-in page). A network
     *   that is merely not validated still counts: the probe's host is blocked in some regions
     *   and on some employers' networks where everything else works, and a failing request is
     *   a retryable network error anyway.
     * - UNMETERED only when the system says so and nothing else costs the learner: not roaming,
     *   Data Saver off, not satellite (slow and billed by the byte even when "unmetered").
     *   Hotspots and tethering are metered because Android reports them so.
     * - METERED otherwise.
     */
    fun of(facts: NetworkFacts?): NetworkType {
        if (facts == null) return NetworkType.NONE
        if (!facts.internet || facts.suspended || facts.captivePortal) return NetworkType.NONE
        val free = facts.notMetered && facts.notRoaming && !facts.dataSaver &&
            Transport.SATELLITE !in facts.transports
        return if (free) NetworkType.UNMETERED else NetworkType.METERED
    }
}
