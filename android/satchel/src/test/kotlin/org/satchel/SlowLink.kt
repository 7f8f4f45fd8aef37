package org.satchel

import java.io.InputStream
import java.io.OutputStream
import java.net.InetAddress
import java.net.ServerSocket
import java.net.Socket
import java.net.URI
import kotlin.concurrent.thread

/**
 * A TCP relay in front of [target] that sends replies at [bytesPerSecond]: a slow mobile link,
 * so a download is still going when a test cancels it. Requests pass at full speed; the rate
 * can be changed while it runs (`Long.MAX_VALUE`: as fast as loopback).
 */
class SlowLink(target: String, @Volatile var bytesPerSecond: Long) : AutoCloseable {
    private val upstream = URI(target)
    private val listener = ServerSocket(0, 50, InetAddress.getLoopbackAddress())
    private val sockets = java.util.Collections.synchronizedList(mutableListOf<Socket>())

    /** The target's base URL, through the slow link. */
    val url: String = "http://127.0.0.1:${listener.localPort}${upstream.rawPath ?: "/"}"

    init {
        thread(isDaemon = true, name = "slow-link-accept") {
            while (!listener.isClosed) {
                val client = try { listener.accept() } catch (e: java.io.IOException) { break }
                val server = Socket(upstream.host, upstream.port)
                sockets += client
                sockets += server
                thread(isDaemon = true) { pump(client.getInputStream(), server.getOutputStream()) { Long.MAX_VALUE } }
                thread(isDaemon = true) { pump(server.getInputStream(), client.getOutputStream()) { bytesPerSecond } }
            }
        }
    }

    private fun pump(from: InputStream, to: OutputStream, rate: () -> Long) {
        val chunk = ByteArray(8 * 1024)
        try {
            while (true) {
                val n = from.read(chunk)
                if (n < 0) break
                to.write(chunk, 0, n)
                to.flush()
                val pause = n * 1_000_000_000L / rate()
                if (pause > 0) Thread.sleep(pause / 1_000_000, (pause % 1_000_000).toInt())
            }
        } catch (e: java.io.IOException) {
            // The other side closed: the relay of this connection ends.
        } finally {
            runCatching { to.close() }
        }
    }

    override fun close() {
        listener.close()
        synchronized(sockets) { sockets.forEach { runCatching { it.close() } } }
    }
}
