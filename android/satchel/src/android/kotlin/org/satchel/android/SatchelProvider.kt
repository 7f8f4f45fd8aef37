package org.satchel.android

import org.satchel.core.Satchel

/**
 * Implemented by the app's `Application`: how the Workers reach the learner's open account.
 * Return the same instance the UI uses (`SatchelAccounts.open` on one directory returns one
 * instance per process), or null when nobody is signed in (the Worker then has nothing to do).
 */
interface SatchelProvider {
    suspend fun satchel(): Satchel?
}
