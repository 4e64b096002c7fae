import Testing
@testable import Engine

@Test func engineHasAVersion() {
    #expect(!EngineInfo.version.isEmpty)
}
