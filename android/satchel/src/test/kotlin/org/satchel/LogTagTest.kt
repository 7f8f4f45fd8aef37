package org.satchel

import org.junit.Assert.assertEquals
import org.junit.Assert.assertTrue
import org.junit.Test

/** Core log targets → logcat tags (the os_log categories on iOS). */
class LogTagTest {
    @Test fun coreLinesAreGroupedByTheirTopModule() {
        assertEquals("downloads", LogTags.category("satchel_core::downloads::runner"))
        assertEquals("sync", LogTags.category("satchel_core::sync"))
        assertEquals("core", LogTags.category("satchel_core"))
        assertEquals("Satchel/downloads", LogTags.tag("satchel_core::downloads::runner"))
    }

    @Test fun libraryLinesGoUnderTheLibraryAndOddTargetsStillGetATag() {
        assertEquals("hyper_util", LogTags.category("hyper_util::client::legacy"))
        assertEquals("rustls", LogTags.category("rustls"))
        assertEquals("core", LogTags.category(""))
        assertEquals("core", LogTags.category("::"))
    }

    @Test fun tagsFitLogcatsLimitOnOldAndroid() {
        val tag = LogTags.tag("satchel_core::a_module_with_a_very_long_name::inner")
        assertEquals(LogTags.MAX_TAG_LENGTH, tag.length)
        assertTrue(tag, tag.startsWith("Satchel/a_module"))
    }
}
