package org.satchel

import kotlinx.coroutines.runBlocking
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertNull
import org.junit.Assert.assertTrue
import org.junit.Assert.fail
import org.junit.Test
import org.satchel.core.AttemptState
import org.satchel.core.SatchelException

/** Progress, roll-ups, goals and quizzes through the generated bindings. */
class LearningTest : AccountFixture() {

    @Test fun playbackReportsRecordProgressAndReachingTheEndCompletes() = runBlocking {
        val first = satchel.recordPlayback("kt.video", 10_000)
        assertEquals(10_000L, first.positionMs)
        assertFalse(first.completed)
        val done = satchel.recordPlayback("kt.video", 300_000)
        assertTrue(done.completed)
        // Sticky.
        assertTrue(satchel.recordPlayback("kt.video", 0).completed)
        satchel.endStudySession()
        assertTrue(satchel.lessonProgress("kt.video").completed)

        val course = satchel.courseProgress("kt-course")
        assertEquals(1, course.completedLessons)
        assertEquals(3, course.totalLessons)
        assertEquals(33, course.percentComplete)
        assertEquals("kt.reading", course.nextLessonId)
        assertTrue(satchel.pendingChanges() >= 1)
    }

    @Test fun readingCompletesWhenScrolledToTheEnd() = runBlocking {
        assertFalse(satchel.recordReading("kt.reading", 0.4).completed)
        assertTrue(satchel.recordReading("kt.reading", 1.0).completed)
    }

    @Test fun badReportsAreTypedExceptions() = runBlocking {
        for (bad in listOf(-1L, 10_000_000L)) {
            try {
                satchel.recordPlayback("kt.video", bad)
                fail("position $bad must be refused")
            } catch (e: SatchelException.InvalidInput) {
                assertTrue(e.reason, e.reason.contains("position"))
            }
        }
        try {
            satchel.recordPlayback("missing", 0)
            fail("expected NotFound")
        } catch (e: SatchelException.NotFound) {
            // expected
        }
        assertEquals(0, satchel.pendingChanges())
    }

    @Test fun aPracticeQuizIsGradedOnThePhone() = runBlocking {
        val quiz = satchel.quiz("kt.quiz")
        assertEquals(2, quiz.questions.size)
        assertTrue(quiz.questions[1].multipleAnswers)

        val attempt = satchel.startQuizAttempt("kt.quiz")
        assertEquals(AttemptState.IN_PROGRESS, attempt.state)
        satchel.answerQuestion(attempt.id, "q1", listOf("a"))
        satchel.answerQuestion(attempt.id, "q2", listOf("e", "a"))
        val graded = satchel.submitQuizAttempt(attempt.id)
        assertEquals(AttemptState.GRADED, graded.state)
        assertEquals(100, graded.scorePercent)
        assertEquals(true, graded.passed)
        assertEquals(listOf("a", "e"), graded.results[1].correctChoiceIds)
        assertTrue(satchel.lessonProgress("kt.quiz").completed)
        assertEquals(1, satchel.quizAttempts("kt.quiz").size)

        try {
            satchel.answerQuestion(attempt.id, "q1", listOf("b"))
            fail("a submitted attempt takes no more answers")
        } catch (e: SatchelException.InvalidInput) {
            // expected
        }
    }

    @Test fun enrolmentGoalAndSummary() = runBlocking {
        val enrolled = satchel.enroll("kt-course")
        assertEquals(listOf(enrolled), satchel.enrollments())
        satchel.setWeeklyGoal(4)
        val summary = satchel.learningSummary(180)
        assertEquals(4, summary.weeklyGoalDays)
        assertEquals(0, summary.currentStreakDays)
        try {
            satchel.setWeeklyGoal(9)
            fail("expected InvalidInput")
        } catch (e: SatchelException.InvalidInput) {
            assertNull(null)
        }
    }
}
