// org.satchel:satchel — the generated UniFFI bindings (package org.satchel.core), the native
// library for each Android ABI, the hand-written shell (package org.satchel: plain Kotlin, tested
// on the JVM by `cargo xtask test`) and its Android adapters (package org.satchel.android).
import org.gradle.api.tasks.Exec

plugins {
    id("com.android.library")
    id("org.jetbrains.kotlin.android")
}

val repoRoot = rootProject.projectDir.parentFile
val generatedKotlin = layout.buildDirectory.dir("generated/uniffi/kotlin")
val unstrippedLibs = layout.buildDirectory.dir("intermediates/satchel/unstripped")
val jniLibsOut = layout.buildDirectory.dir("generated/jniLibs")
val nativeSymbols = layout.buildDirectory.dir("outputs/native-debug-symbols")
val abis = listOf("arm64-v8a", "armeabi-v7a", "x86_64")

android {
    namespace = "org.satchel"
    compileSdk = 35
    defaultConfig {
        minSdk = 24
        consumerProguardFiles("consumer-rules.pro")
    }
    // src/main/kotlin is the plain shell the JVM tests compile; src/android/kotlin holds the
    // adapters that need android.jar and androidx, which only this build has (the reason is in
    // xtask/src/kotlin.rs, which leaves them out of the JVM run).
    sourceSets["main"].java.srcDirs(generatedKotlin, "src/android/kotlin")
    sourceSets["main"].jniLibs.srcDir(jniLibsOut)
    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }
    kotlinOptions { jvmTarget = "17" }
}

// Cross-compiles the core for every shipped ABI with cargo-ndk: the size-tuned release code, with
// line tables kept (profile release-symbols) so crashes can be symbolicated. `rustc --crate-type
// cdylib` builds the shared library alone: built beside the rlib the workspace also needs, cargo
// silently skips LTO (rust-lang/cargo#9672) and the library is about a quarter bigger.
val cargoBuild by tasks.registering(Exec::class) {
    workingDir = repoRoot
    commandLine(
        listOf("cargo", "ndk") + abis.flatMap { listOf("-t", it) } +
            listOf(
                "-o", unstrippedLibs.get().asFile.absolutePath,
                "rustc", "--profile", "release-symbols", "-p", "satchel-core", "--lib", "--crate-type", "cdylib",
            ),
    )
}

// The library that ships is stripped; its debug info goes to native-debug-symbols/<abi>/ (zip
// that folder for Play Console's "native debug symbols" upload). Both halves keep the build-id.
// The same script is checked by `cargo xtask test` (xtask/src/native_symbols.rs).
val splitDebugInfo by tasks.registering {
    dependsOn(cargoBuild)
    doLast {
        val objcopy = fileTree(android.ndkDirectory) { include("toolchains/llvm/prebuilt/*/bin/llvm-objcopy*") }
            .singleFile
        for (abi in abis) {
            exec {
                commandLine(
                    "sh", File(repoRoot, "android/split-debug-info.sh").absolutePath, objcopy.absolutePath,
                    unstrippedLibs.get().file("$abi/libsatchel_core.so").asFile.absolutePath,
                    jniLibsOut.get().file("$abi/libsatchel_core.so").asFile.absolutePath,
                    nativeSymbols.get().file("$abi/libsatchel_core.so.dbg").asFile.absolutePath,
                )
            }
        }
    }
}

// Bindings come from an unstripped host build: uniffi-bindgen reads metadata stripping removes.
// The host library's name is the JVM's own mapping: libsatchel_core.so on Linux, .dylib on
// macOS, satchel_core.dll on Windows.
val hostLibrary = File(repoRoot, "target/release-unstripped/" + System.mapLibraryName("satchel_core"))

val buildHostLibrary by tasks.registering(Exec::class) {
    workingDir = repoRoot
    commandLine("cargo", "build", "--profile", "release-unstripped", "-p", "satchel-core")
}

val generateBindings by tasks.registering(Exec::class) {
    dependsOn(buildHostLibrary)
    workingDir = repoRoot
    commandLine(
        "cargo", "run", "-p", "uniffi-bindgen", "--", "generate", "--library", hostLibrary.absolutePath,
        "--language", "kotlin", "--no-format", "--out-dir", generatedKotlin.get().asFile.absolutePath,
    )
}

tasks.named("preBuild") { dependsOn(splitDebugInfo, generateBindings) }

dependencies {
    // Both appear in the public API (JNA's Pointer and Structure in the generated bindings; Flow
    // and suspend functions in the shell), so apps compile against them: `api`, not `implementation`.
    api("net.java.dev.jna:jna:5.13.0@aar")
    api("org.jetbrains.kotlinx:kotlinx-coroutines-android:1.9.0")
    // The adapters: Workers, the foreground-service notification.
    implementation("androidx.work:work-runtime-ktx:2.10.0")
    implementation("androidx.core:core-ktx:1.15.0")
    testImplementation("junit:junit:4.13.2")
    testImplementation("org.jetbrains.kotlinx:kotlinx-coroutines-core:1.9.0")
}
