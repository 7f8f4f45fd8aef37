package org.satchel.android

import android.content.Context
import android.net.ConnectivityManager
import android.net.Network
import android.net.NetworkCapabilities
import android.os.Build
import org.satchel.NetworkFacts
import org.satchel.NetworkTypes
import org.satchel.Transport
import org.satchel.core.NetworkType
import org.satchel.core.Satchel

/**
 * Feeds the default network to the core: a `ConnectivityManager` default-network callback whose
 * every change becomes `setNetwork(NetworkTypes.of(facts))`. Start it when the account opens
 * (the app's `onCreate`) and stop it when the account closes. Callbacks arrive on the system's
 * connectivity thread; `setNetwork` only stores the value and wakes a waiting run, so it is safe
 * there. The decision itself is `NetworkTypes` (plain Kotlin, tested on the JVM).
 */
class SatchelNetworkMonitor(context: Context, private val satchel: Satchel) {
    private val connectivity = context.getSystemService(ConnectivityManager::class.java)

    private val callback = object : ConnectivityManager.NetworkCallback() {
        // Android 7 may not follow onAvailable with onCapabilitiesChanged: read them here too.
        override fun onAvailable(network: Network) = report(connectivity.getNetworkCapabilities(network), network)

        override fun onCapabilitiesChanged(network: Network, capabilities: NetworkCapabilities) =
            report(capabilities, network)

        override fun onLost(network: Network) = satchel.setNetwork(NetworkType.NONE)
    }

    fun start() {
        // The default network only: the one the core's sockets use.
        connectivity.registerDefaultNetworkCallback(callback)
    }

    fun stop() {
        connectivity.unregisterNetworkCallback(callback)
        satchel.setNetwork(NetworkType.NONE)
    }

    private fun report(capabilities: NetworkCapabilities?, network: Network) {
        satchel.setNetwork(NetworkTypes.of(capabilities?.let { facts(connectivity, network, it) }))
    }

    companion object {
        /** The network right now, for a Worker that runs before (or without) a monitor. */
        fun current(context: Context): NetworkType {
            val connectivity = context.getSystemService(ConnectivityManager::class.java)
            val network = connectivity.activeNetwork ?: return NetworkType.NONE
            val capabilities = connectivity.getNetworkCapabilities(network) ?: return NetworkType.NONE
            return NetworkTypes.of(facts(connectivity, network, capabilities))
        }

        private val TRANSPORTS = listOf(
            NetworkCapabilities.TRANSPORT_WIFI to Transport.WIFI,
            NetworkCapabilities.TRANSPORT_CELLULAR to Transport.CELLULAR,
            NetworkCapabilities.TRANSPORT_ETHERNET to Transport.ETHERNET,
            NetworkCapabilities.TRANSPORT_BLUETOOTH to Transport.BLUETOOTH,
            NetworkCapabilities.TRANSPORT_VPN to Transport.VPN,
            NetworkCapabilities.TRANSPORT_WIFI_AWARE to Transport.WIFI_AWARE,
            NetworkCapabilities.TRANSPORT_LOWPAN to Transport.LOWPAN,
            NetworkCapabilities.TRANSPORT_USB to Transport.USB,
            NetworkCapabilities.TRANSPORT_THREAD to Transport.THREAD,
            NetworkCapabilities.TRANSPORT_SATELLITE to Transport.SATELLITE,
        )

        @Suppress("DEPRECATION") // NetworkInfo.isRoaming is the only roaming signal before Android 9.
        private fun facts(connectivity: ConnectivityManager, network: Network, c: NetworkCapabilities): NetworkFacts {
            val sdk = Build.VERSION.SDK_INT
            return NetworkFacts(
                transports = TRANSPORTS.filter { c.hasTransport(it.first) }.map { it.second }.toSet(),
                internet = c.hasCapability(NetworkCapabilities.NET_CAPABILITY_INTERNET),
                validated = c.hasCapability(NetworkCapabilities.NET_CAPABILITY_VALIDATED),
                captivePortal = c.hasCapability(NetworkCapabilities.NET_CAPABILITY_CAPTIVE_PORTAL),
                notMetered = c.hasCapability(NetworkCapabilities.NET_CAPABILITY_NOT_METERED) ||
                    (sdk >= 30 && c.hasCapability(NetworkCapabilities.NET_CAPABILITY_TEMPORARILY_NOT_METERED)),
                notRoaming = if (sdk >= 28) {
                    c.hasCapability(NetworkCapabilities.NET_CAPABILITY_NOT_ROAMING)
                } else {
                    connectivity.getNetworkInfo(network)?.isRoaming != true
                },
                suspended = sdk >= 28 && !c.hasCapability(NetworkCapabilities.NET_CAPABILITY_NOT_SUSPENDED),
                dataSaver = connectivity.restrictBackgroundStatus ==
                    ConnectivityManager.RESTRICT_BACKGROUND_STATUS_ENABLED,
            )
        }
    }
}
