import Testing
@testable import Workbench

@Test func workbenchHasAName() {
    #expect(WorkbenchInfo.name.contains("depthscope"))
}
