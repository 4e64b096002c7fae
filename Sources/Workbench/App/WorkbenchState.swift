/// How the Throughput pane draws its sparkline.
public enum SparklineStyle: String, CaseIterable, Sendable {
    case braille, block, ascii
}

/// Start-up options of the workbench (the command line sets them).
public struct WorkbenchOptions: Sendable {
    public var theme: String = "default"
    /// nil: detect from the terminal.
    public var colorMode: ColorMode?
    public var mouse: Bool = true
    public var sparkline: SparklineStyle = .braille
    public var startPaused: Bool = false
    /// Index into `Layouts.presets`.
    public var preset: Int = 0
    /// A/B compare from the start: the B run's architecture spec.
    public var compareArchitecture: String?
    /// Quit once every run has finished or failed, and print each run's final status to
    /// stderr (`--exit-when-finished`: scripted demos and measuring generation speed).
    public var quitWhenFinished: Bool = false

    public init() {}
}

/// Which attention map the Attention pane shows.
public struct AttentionSelection: Equatable, Sendable {
    /// Schedule step (`StepTrace.step`); nil means the selected token's deepest step.
    public var step: Int?
    public var head: Int = 0
    /// false: the selected token's row over the context; true: the query x key matrix.
    public var matrix: Bool = false

    public init() {}
}

/// Everything the screen shows, as plain values: the renderer draws it, key handling
/// changes it, tests inspect it.
public struct WorkbenchState: Sendable {
    /// Run A, and run B while comparing.
    public var runs: [RunView]
    public var capabilities: EngineCapabilities
    /// The user's intent: new runs start paused when true.
    public var paused: Bool
    public var preset: Int
    public var visible: Set<PaneID>
    public var focus: PaneID
    public var expanded = false
    /// Selected token position in run A; nil follows the newest token.
    public var cursor: Int?
    public var attention = AttentionSelection()
    public var overlay: Overlay?
    public var message: StatusMessage?
    public var sparkline: SparklineStyle
    public var themeName: String
    public var mouse: Bool
    public var shouldQuit = false

    public init(settings: RunSettings, capabilities: EngineCapabilities, options: WorkbenchOptions, themeName: String) {
        runs = [RunView(settings: settings)]
        self.capabilities = capabilities
        paused = options.startPaused
        preset = min(max(options.preset, 0), Layouts.presets.count - 1)
        visible = Layouts.presets[preset].visible
        focus = .stream
        sparkline = options.sparkline
        self.themeName = themeName
        mouse = options.mouse
    }

    public var isComparing: Bool { runs.count > 1 }

    /// The token the panes describe: the cursor, or the newest token of run A.
    public var selected: Int? {
        let count = runs[0].tokens.count
        guard count > 0 else { return nil }
        if let cursor { return min(max(cursor, 0), count - 1) }
        return count - 1
    }

    /// Visible panes in key order.
    public var visiblePanes: [PaneID] { PaneID.allCases.filter { visible.contains($0) } }
}
