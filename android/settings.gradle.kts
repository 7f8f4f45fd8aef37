// The Android library that wraps Satchel's Rust core. Built on a machine with the Android SDK
// and NDK; on CI its Kotlin sources and tests are compiled and run on the JVM by `cargo xtask test`.
pluginManagement {
    repositories {
        google()
        mavenCentral()
        gradlePluginPortal()
    }
}
dependencyResolutionManagement {
    repositories {
        google()
        mavenCentral()
    }
}
rootProject.name = "satchel-android"
include(":satchel")
