import Testing

@testable import Engine

@Suite struct StopStringFilterTests {
    @Test func holdsBackAPossibleStopAcrossPieces() {
        var filter = StopStringFilter(stopStrings: ["\n\n"])
        #expect(filter.push("Hello") == "Hello")
        #expect(filter.push(" world\n") == " world")  // "\n" might start the stop string
        #expect(filter.push("x") == "\nx")  // it did not
        #expect(filter.push("\n") == "")
        #expect(filter.push("\nmore") == "")
        #expect(filter.stopped)
        #expect(filter.push("after") == "")
    }

    @Test func cutsAtTheEarliestStopString() {
        var filter = StopStringFilter(stopStrings: ["END", "ND!"])
        #expect(filter.push("the END!") == "the ")
        #expect(filter.stopped)
    }

    @Test func flushReleasesAnUnfinishedPrefix() {
        var filter = StopStringFilter(stopStrings: ["STOP"])
        #expect(filter.push("ab ST") == "ab ")
        #expect(filter.flush() == "ST")
    }

    @Test func worksOnMultibyteText() {
        var filter = StopStringFilter(stopStrings: ["🙂🙃"])
        #expect(filter.push("é🙂") == "é")
        #expect(filter.push("🙃x") == "")
        #expect(filter.stopped)
    }

    @Test func noStopStringsPassesEverything() {
        var filter = StopStringFilter(stopStrings: [])
        #expect(filter.push("a\n\nb") == "a\n\nb")
        #expect(filter.flush() == "")
    }
}
