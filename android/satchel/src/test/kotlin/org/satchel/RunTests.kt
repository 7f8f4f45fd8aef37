package org.satchel

import kotlin.system.exitProcess
import org.junit.runner.JUnitCore
import org.junit.runner.notification.Failure

/**
 * Runs the given JUnit classes and ends with the line CI reads: `N passed, N failed`.
 * Usage: `java ... org.satchel.RunTestsKt org.satchel.CatalogTest ...`
 */
fun main(args: Array<String>) {
    val classes = args.map { Class.forName(it) }
    if (classes.isEmpty()) {
        System.err.println("no test classes given")
        exitProcess(2)
    }
    val result = JUnitCore.runClasses(*classes.toTypedArray())
    result.failures.forEach { failure: Failure ->
        println("FAILED ${failure.testHeader}: ${failure.message}")
        println(failure.trace)
    }
    val failed = result.failureCount
    val passed = result.runCount - failed
    println("kotlin: $passed passed, $failed failed")
    exitProcess(if (failed == 0 && result.runCount > 0) 0 else 1)
}
