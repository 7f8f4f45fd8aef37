import Foundation
import SatchelFFI
import XCTest
@testable import Satchel

/// The mirror of android/satchel/src/test/kotlin/org/satchel/LearningTest.kt.
final class LearningTests: AccountFixture {

    func testPlaybackReportsRecordProgressAndReachingTheEndCompletes() async throws {
        let first = try await satchel.recordPlayback(lessonId: "kt.video", positionMs: 10_000)
        XCTAssertEqual(first.positionMs, 10_000)
        XCTAssertFalse(first.completed)
        let done = try await satchel.recordPlayback(lessonId: "kt.video", positionMs: 300_000)
        XCTAssertTrue(done.completed)
        let again = try await satchel.recordPlayback(lessonId: "kt.video", positionMs: 0)
        XCTAssertTrue(again.completed)
        satchel.endStudySession()

        let course = try await satchel.courseProgress(courseId: "kt-course")
        XCTAssertEqual(course.completedLessons, 1)
        XCTAssertEqual(course.totalLessons, 3)
        XCTAssertEqual(course.percentComplete, 33)
        XCTAssertEqual(course.nextLessonId, "kt.reading")
        let pending = try await satchel.pendingChanges()
        XCTAssertGreaterThanOrEqual(pending, 1)
    }

    func testReadingCompletesWhenScrolledToTheEnd() async throws {
        let half = try await satchel.recordReading(lessonId: "kt.reading", scrollFraction: 0.4)
        XCTAssertFalse(half.completed)
        let end = try await satchel.recordReading(lessonId: "kt.reading", scrollFraction: 1.0)
        XCTAssertTrue(end.completed)
    }

    func testBadReportsAreTypedErrors() async throws {
        for bad: Int64 in [-1, 10_000_000] {
            do {
                _ = try await satchel.recordPlayback(lessonId: "kt.video", positionMs: bad)
                XCTFail("position \(bad) must be refused")
            } catch SatchelError.InvalidInput(let reason) {
                XCTAssertTrue(reason.contains("position"), reason)
            }
        }
        do {
            _ = try await satchel.recordPlayback(lessonId: "missing", positionMs: 0)
            XCTFail("expected NotFound")
        } catch SatchelError.NotFound {}
        let pending = try await satchel.pendingChanges()
        XCTAssertEqual(pending, 0)
    }

    func testAPracticeQuizIsGradedOnThePhone() async throws {
        let quiz = try await satchel.quiz(lessonId: "kt.quiz")
        XCTAssertEqual(quiz.questions.count, 2)
        XCTAssertTrue(quiz.questions[1].multipleAnswers)
        let attempt = try await satchel.startQuizAttempt(lessonId: "kt.quiz")
        XCTAssertEqual(attempt.state, .inProgress)
        _ = try await satchel.answerQuestion(attemptId: attempt.id, questionId: "q1", choiceIds: ["a"])
        _ = try await satchel.answerQuestion(attemptId: attempt.id, questionId: "q2", choiceIds: ["e", "a"])
        let graded = try await satchel.submitQuizAttempt(attemptId: attempt.id)
        XCTAssertEqual(graded.state, .graded)
        XCTAssertEqual(graded.scorePercent, 100)
        XCTAssertEqual(graded.passed, true)
        XCTAssertEqual(graded.results[1].correctChoiceIds, ["a", "e"])
        let progress = try await satchel.lessonProgress(lessonId: "kt.quiz")
        XCTAssertTrue(progress.completed)
        do {
            _ = try await satchel.answerQuestion(attemptId: attempt.id, questionId: "q1", choiceIds: ["b"])
            XCTFail("a submitted attempt takes no more answers")
        } catch SatchelError.InvalidInput {}
    }

    func testEnrolmentGoalAndSummary() async throws {
        let enrolled = try await satchel.enroll(courseId: "kt-course")
        let all = try await satchel.enrollments()
        XCTAssertEqual(all, [enrolled])
        try await satchel.setWeeklyGoal(daysPerWeek: 4)
        let summary = try await satchel.learningSummary(utcOffsetMinutes: 180)
        XCTAssertEqual(summary.weeklyGoalDays, 4)
        XCTAssertEqual(summary.currentStreakDays, 0)
        do {
            try await satchel.setWeeklyGoal(daysPerWeek: 9)
            XCTFail("expected InvalidInput")
        } catch SatchelError.InvalidInput {}
    }
}
