// org.satchel:satchel — the generated UniFFI bindings (package org.satchel.core), the native
// library for each Android ABI, and the hand-written shell (package org.satchel).
import org.gradle.api.tasks.Exec

plugins {
    id("com.android.library")
    id("org.jetbrains.kotlin.android")
}

val repoRoot = rootProject.projectDir.parentFile
val generatedKotlin = layout.buildDirectory.dir("generated/uniffi/kotlin")
val jniLibsOut = layout.buildDirectory.dir("generated/jniLibs")

android {
    namespace = "org.satchel"
    compileSdk = 35
    defaultConfig {
        minSdk = 24
        consumerProguardFiles("consumer-rules.pro")
    }
    sourceSets["main"].java.srcDir(generatedKotlin)
    sourceSets["main"].jniLibs.srcDir(jniLibsOut)
    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }
    kotlinOptions { jvmTarget = "17" }
}

// Cross-compiles the core for every shipped ABI with cargo-ndk (size-tuned release profile).
val cargoBuild by tasks.registering(Exec::class) {
    workingDir = repoRoot
    commandLine(
        "cargo", "ndk",
        "-t", "arm64-v8a", "-t", "armeabi-v7a", "-t", "x86_64",
        "-o", jniLibsOut.get().asFile.absolutePath,
        "build", "--release", "-p", "satchel-core",
    )
}

// Bindings come from an unstripped host build: uniffi-bindgen reads metadata stripping removes.
val generateBindings by tasks.registering(Exec::class) {
    workingDir = repoRoot
    val hostLib = File(repoRoot, "target/release-unstripped/libsatchel_core.so")
    commandLine(
        "sh", "-c",
        "cargo build --profile release-unstripped -p satchel-core && " +
            "cargo run -p uniffi-bindgen -- generate --library ${hostLib.absolutePath} " +
            "--language kotlin --no-format --out-dir ${generatedKotlin.get().asFile.absolutePath}",
    )
}

tasks.named("preBuild") { dependsOn(cargoBuild, generateBindings) }

dependencies {
    implementation("net.java.dev.jna:jna:5.13.0@aar")
    implementation("org.jetbrains.kotlinx:kotlinx-coroutines-android:1.9.0")
    testImplementation("junit:junit:4.13.2")
    testImplementation("org.jetbrains.kotlinx:kotlinx-coroutines-core:1.9.0")
}
