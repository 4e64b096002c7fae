import Foundation
import Engine

/// The workbench's brain: owns the state, turns keys, mouse and commands into state
/// changes and engine calls, applies run events, and draws frames. It never touches the
/// terminal itself (the loop does), so tests drive it with keys and read a `Surface`.
/// Use it from one thread only.
public final class Workbench {
    public private(set) var state: WorkbenchState
    public let engine: any WorkbenchEngine
    public let mailbox: EventMailbox
    public private(set) var palette: Palette
    private let themes: ThemeLibrary
    private var controls: [RunSlot: any EngineRun] = [:]
    private var frameMap = FrameMap()
    private let layouts = LayoutCache()
    private var runSerial = 0
    /// Size of the last frame drawn (the help overlay pages by it).
    private var lastSize = (width: 80, height: 24)

    public init(engine: any WorkbenchEngine, settings: RunSettings, options: WorkbenchOptions,
                palette: Palette, themes: ThemeLibrary, mailbox: EventMailbox = EventMailbox()) {
        self.engine = engine
        self.mailbox = mailbox
        self.palette = palette
        self.themes = themes
        state = WorkbenchState(settings: settings, capabilities: engine.capabilities, options: options,
                               themeName: palette.theme.name)
        if let spec = options.compareArchitecture {
            var b = settings
            b.architecture = spec
            state.runs.append(RunView(settings: b))
        }
    }

    /// Starts the run(s). Call once.
    public func start() {
        for slot in RunSlot.allCases where slot.rawValue < state.runs.count { startRun(slot) }
    }

    /// Stops every run (their threads finish on their own).
    public func shutdown() {
        for (slot, control) in controls {
            control.stop()
            mailbox.retire(slot)
        }
        controls.removeAll()
    }

    // MARK: Engine events

    /// Applies everything the runs reported since the last call. Returns whether anything
    /// changed (so the loop knows a redraw is due).
    @discardableResult
    public func pump() -> Bool {
        let events = mailbox.drain()
        for (slot, event) in events where slot.rawValue < state.runs.count {
            apply(event, to: slot.rawValue)
        }
        return !events.isEmpty
    }

    private func apply(_ event: RunEvent, to i: Int) {
        switch event {
        case let .started(info):
            state.runs[i].info = info
            state.runs[i].status = state.paused ? .paused : .running
        case let .token(trace):
            state.runs[i].append(trace)
            if state.runs[i].status == .loading { state.runs[i].status = state.paused ? .paused : .running }
        case .retracted:
            state.runs[i].retract()
            if case .finished = state.runs[i].status { state.runs[i].status = .paused }
            if i == 0, let cursor = state.cursor, cursor >= state.runs[0].tokens.count {
                state.cursor = state.runs[0].tokens.isEmpty ? nil : state.runs[0].tokens.count - 1
            }
        case let .finished(why):
            state.runs[i].status = .finished(why)
        case let .failed(error):
            state.runs[i].status = .failed(error.message)
            state.message = StatusMessage((state.isComparing ? "\(RunSlot(rawValue: i)?.label ?? ""): " : "") + error.message,
                                          isError: true)
        }
    }

    // MARK: Runs

    private func startRun(_ slot: RunSlot) {
        controls[slot]?.stop()
        let sink = mailbox.makeSink(for: slot)
        let i = slot.rawValue
        runSerial += 1
        state.runs[i] = RunView(settings: state.runs[i].settings, serial: runSerial)
        controls[slot] = engine.startRun(state.runs[i].settings, paused: state.paused, sink: sink)
    }

    private func stopCompare() {
        guard state.isComparing else { return }
        controls[.b]?.stop()
        controls[.b] = nil
        mailbox.retire(.b)
        state.runs.removeLast()
    }

    /// Changes the settings of every run and restarts them (same prompt and seed for both).
    private func changeAllRuns(_ change: (inout RunSettings) -> Void) {
        for i in state.runs.indices { change(&state.runs[i].settings) }
        state.cursor = nil
        for slot in RunSlot.allCases where slot.rawValue < state.runs.count { startRun(slot) }
    }

    // MARK: Input

    public func handle(_ event: InputEvent) {
        switch event {
        case .resize:
            break
        case let .mouse(mouse):
            handleMouse(mouse)
        case let .key(key):
            if state.overlay != nil {
                handleOverlayKey(key)
            } else if let action = KeyBindings.action(for: key) {
                perform(action)
            } else if case .escape = key {
                state.message = nil
            } else {
                state.message = StatusMessage("\(key.label): no such key (? lists them)")
            }
        }
    }

    public func perform(_ action: Action) {
        state.message = nil
        switch action {
        case .quit: state.shouldQuit = true
        case .help: state.overlay = .help(page: 0)
        case .commandPalette: state.overlay = .palette(TextField())
        case .togglePause: setPaused(!state.paused)
        case .stepForward:
            setPaused(true)
            for control in controls.values { control.stepForward() }
        case .stepBack:
            guard state.capabilities.contains(.stepBack) else {
                state.message = StatusMessage("step back works in replay; a live run can restart (r)")
                return
            }
            setPaused(true)
            for control in controls.values { control.stepBack() }
        case .restart:
            state.cursor = nil
            for slot in RunSlot.allCases where slot.rawValue < state.runs.count { startRun(slot) }
            state.message = StatusMessage("restarted (seed \(state.runs[0].settings.sampler.seed))")
        case .editPrompt:
            guard require(.editPrompt, "the prompt of a recorded trace is fixed") else { return }
            state.overlay = .promptEditor(TextField(state.runs[0].settings.prompt), chat: state.runs[0].settings.chat)
        case .samplingSettings:
            guard require(.sampling, "sampling of a recorded trace is fixed") else { return }
            state.overlay = .palette(TextField(SamplerChange.describe(state.runs[0].settings)))
        case .pickModel:
            let models = engine.models()
            guard require(.switchModel, "this engine has no other models"), !models.isEmpty else {
                if state.message == nil { state.message = StatusMessage("no models to choose from") }
                return
            }
            state.overlay = .picker(Picker(kind: .model, items: models, selected: state.runs[0].settings.model))
        case .pickArchitecture:
            let choices = engine.architectures()
            guard !choices.isEmpty else { state.message = StatusMessage("no architectures to choose from"); return }
            let current = (try? ArchitectureSpec.parse(state.runs[0].settings.architecture))?.name
            let details = choices.map { choice in
                ([choice.summary] + choice.options.map { "\($0.key)=\($0.value)" }).joined(separator: " ")
            }
            state.overlay = .picker(Picker(kind: .architecture, items: choices.map(\.name), details: details,
                                           selected: current))
        case .toggleCompare:
            if state.isComparing {
                stopCompare()
                state.message = StatusMessage("compare off")
            } else {
                let spec = state.runs[0].info?.architectureSpec ?? state.runs[0].settings.architecture
                state.overlay = .palette(TextField("compare " + spec))
                state.message = StatusMessage("edit the B architecture (e.g. another threshold), Enter starts A/B")
            }
        case .nextTheme:
            let names = themes.names()
            let next = names[((names.firstIndex(of: state.themeName) ?? -1) + 1) % names.count]
            setTheme(next)
        case let .togglePane(pane):
            if state.visible.contains(pane) {
                guard state.visible.count > 1 else { state.message = StatusMessage("one pane stays visible"); return }
                state.visible.remove(pane)
                if state.focus == pane { state.focus = state.visiblePanes.first ?? .stream }
            } else {
                state.visible.insert(pane)
                state.focus = pane
            }
            state.expanded = false
        case .nextPreset: setPreset((state.preset + 1) % Layouts.presets.count)
        case .previousPreset: setPreset((state.preset + Layouts.presets.count - 1) % Layouts.presets.count)
        case .expand: state.expanded.toggle()
        case .focusNext: moveFocus(1)
        case .focusPrevious: moveFocus(-1)
        case .cursorLeft:
            if let s = state.selected { state.cursor = max(0, s - 1) }
        case .cursorRight:
            if let s = state.selected { state.cursor = s + 1 >= state.runs[0].tokens.count ? nil : s + 1 }
        case .cursorUp: moveCursorLine(-1)
        case .cursorDown: moveCursorLine(1)
        case .cursorFirst: if !state.runs[0].tokens.isEmpty { state.cursor = 0 }
        case .followNewest: state.cursor = nil
        case .attentionStepPrevious: moveAttentionStep(-1)
        case .attentionStepNext: moveAttentionStep(1)
        case .attentionHeadPrevious: moveAttentionHead(-1)
        case .attentionHeadNext: moveAttentionHead(1)
        case .attentionMatrix: state.attention.matrix.toggle()
        }
    }

    private func require(_ capability: EngineCapabilities, _ why: String) -> Bool {
        if state.capabilities.contains(capability) { return true }
        state.message = StatusMessage(why)
        return false
    }

    private func setPaused(_ paused: Bool) {
        guard paused != state.paused else { return }
        state.paused = paused
        for (slot, control) in controls {
            paused ? control.pause() : control.resume()
            let i = slot.rawValue
            guard i < state.runs.count else { continue }
            if state.runs[i].status == .running && paused { state.runs[i].status = .paused }
            if state.runs[i].status == .paused && !paused { state.runs[i].status = .running }
        }
    }

    private func setPreset(_ preset: Int) {
        state.preset = preset
        state.visible = Layouts.presets[preset].visible
        state.expanded = false
        if !state.visible.contains(state.focus) { state.focus = state.visiblePanes.first ?? .stream }
        state.message = StatusMessage("layout: \(Layouts.presets[preset].name)")
    }

    private func moveFocus(_ delta: Int) {
        let panes = state.visiblePanes
        guard !panes.isEmpty else { return }
        let i = panes.firstIndex(of: state.focus) ?? 0
        state.focus = panes[(i + delta + panes.count) % panes.count]
    }

    private func moveCursorLine(_ delta: Int) {
        guard let s = state.selected, let layout = frameMap.stream, s < layout.count else { return }
        let here = layout.slot(s)
        guard let target = layout.nearest(line: here.line + delta, column: here.column) else {
            state.cursor = delta > 0 ? nil : 0
            return
        }
        state.cursor = target >= state.runs[0].tokens.count - 1 ? nil : target
    }

    private func moveAttentionStep(_ delta: Int) {
        let maxDepth = state.runs[0].maxDepth
        let token = state.selected.map { state.runs[0].tokens[$0] }
        let current = state.attention.step ?? token?.steps.last?.step ?? 0
        state.attention.step = min(max(current + delta, 0), maxDepth - 1)
    }

    private func moveAttentionHead(_ delta: Int) {
        let heads = state.selected.flatMap { state.runs[0].tokens[$0].steps.last?.attention?.count } ?? 1
        state.attention.head = (state.attention.head + delta + max(heads, 1)) % max(heads, 1)
    }

    private func setTheme(_ name: String) {
        do {
            let theme = try themes.load(name)
            palette = Palette(theme: theme, mode: palette.mode, glyphs: palette.glyphs)
            state.themeName = theme.name
            state.message = StatusMessage("theme: \(theme.name)")
        } catch let error as EngineError {
            state.message = StatusMessage(error.message, isError: true)
        } catch {
            state.message = StatusMessage("theme \(name): \(error)", isError: true)
        }
    }

    // MARK: Overlays

    private func handleOverlayKey(_ key: Key) {
        guard let overlay = state.overlay else { return }
        if key == .control("c") { state.shouldQuit = true; return }
        switch overlay {
        case let .help(page):
            let pages = HelpOverlay.pageCount(width: lastSize.width, height: lastSize.height, palette: palette)
            switch key {
            case .down, .char("j"), .pageDown, .char(" "): state.overlay = .help(page: min(page + 1, pages - 1))
            case .up, .char("k"), .pageUp: state.overlay = .help(page: max(0, page - 1))
            default: state.overlay = nil
            }
        case var .palette(field):
            switch key {
            case .escape: state.overlay = nil
            case .enter:
                state.overlay = nil
                execute(field.text)
            case .tab:
                if let completed = PaletteCommand.complete(field.text) { field = TextField(completed) }
                state.overlay = .palette(field)
            case .backspace where field.text.isEmpty: state.overlay = nil
            default:
                _ = field.edit(key)
                state.overlay = .palette(field)
            }
        case .promptEditor(var field, let chat):
            switch key {
            case .escape: state.overlay = nil
            case .enter:
                state.overlay = nil
                changeAllRuns {
                    $0.prompt = field.text
                    $0.chat = chat
                }
                state.message = StatusMessage(chat ? "new chat message; restarted" : "new prompt; restarted")
            case .control("t"):
                state.overlay = .promptEditor(field, chat: !chat)
            default:
                _ = field.edit(key, allowNewline: true)
                state.overlay = .promptEditor(field, chat: chat)
            }
        case var .picker(picker):
            switch key {
            case .escape, .char("q"): state.overlay = nil
            case .up, .char("k"): picker.index = max(0, picker.index - 1); state.overlay = .picker(picker)
            case .down, .char("j"): picker.index = min(picker.items.count - 1, picker.index + 1); state.overlay = .picker(picker)
            case .enter:
                state.overlay = nil
                guard let choice = picker.selection else { return }
                switch picker.kind {
                case .model: run(.model(choice))
                case .architecture:
                    // The same architecture keeps its options, unless they are what failed.
                    let current = try? ArchitectureSpec.parse(state.runs[0].settings.architecture)
                    var failed = false
                    if case .failed = state.runs[0].status { failed = true }
                    let keep = current?.name == choice && !failed
                    run(.architecture(keep ? state.runs[0].settings.architecture : choice))
                case .theme: setTheme(choice)
                }
            default: break
            }
        }
    }

    /// Runs a palette command line (the text after `:`).
    public func execute(_ commandLine: String) {
        do {
            run(try PaletteCommand.parse(commandLine))
        } catch let error as EngineError {
            state.message = StatusMessage(error.message, isError: true)
        } catch {
            state.message = StatusMessage("\(error)", isError: true)
        }
    }

    private func run(_ command: PaletteCommand) {
        switch command {
        case let .architecture(spec):
            state.runs[0].settings.architecture = spec
            state.cursor = nil
            startRun(.a)
            state.message = StatusMessage("architecture: \(spec) (same prompt, seed \(state.runs[0].settings.sampler.seed))")
        case let .model(name):
            guard require(.switchModel, "this engine cannot switch models") else { return }
            // A new model starts on its own (the checkpoint's) architecture: the current one
            // may not run on it (mor on a vanilla checkpoint). `:arch ...` afterwards picks another.
            changeAllRuns { $0.model = name; $0.architecture = "" }
            state.message = StatusMessage("model: \(name) on its own architecture (same prompt, seed \(state.runs[0].settings.sampler.seed))")
        case let .theme(name): setTheme(name)
        case let .save(path): save(to: path)
        case .compare(nil):
            stopCompare()
            state.message = StatusMessage("compare off")
        case let .compare(spec?):
            var b = state.runs[0].settings
            b.architecture = spec
            if state.isComparing { state.runs[1].settings = b } else { state.runs.append(RunView(settings: b)) }
            startRun(.b)
            state.message = StatusMessage("A/B: \(state.runs[0].settings.architecture)  vs  \(spec)")
        case let .prompt(text):
            guard require(.editPrompt, "the prompt of a recorded trace is fixed") else { return }
            changeAllRuns { $0.prompt = text }
        case let .sample(changes):
            guard require(.sampling, "sampling of a recorded trace is fixed") else { return }
            changeAllRuns { settings in for c in changes { c.apply(to: &settings) } }
            state.message = StatusMessage(SamplerChange.describe(state.runs[0].settings).replacingOccurrences(of: "sample ", with: ""))
        case let .preset(n): setPreset(n)
        case let .sparkline(style): state.sparkline = style
        case .restart: perform(.restart)
        case .pause: setPaused(true)
        case .resume: setPaused(false)
        case .step: perform(.stepForward)
        case .back: perform(.stepBack)
        case .help: perform(.help)
        case .quit: perform(.quit)
        }
    }

    private func save(to path: String) {
        do {
            try TraceFile.write(state.runs[0].tokens, to: path)
            var note = "saved \(state.runs[0].tokens.count) tokens to \(path)"
            if state.isComparing {
                let bPath = (path.hasSuffix(".jsonl") ? String(path.dropLast(6)) : path) + ".b.jsonl"
                try TraceFile.write(state.runs[1].tokens, to: bPath)
                note += " (B: \(bPath))"
            }
            state.message = StatusMessage(note)
        } catch let error as EngineError {
            state.message = StatusMessage(error.message, isError: true)
        } catch {
            state.message = StatusMessage("\(path): \(error)", isError: true)
        }
    }

    // MARK: Mouse

    private func handleMouse(_ mouse: MouseEvent) {
        guard state.mouse else { return }
        if state.overlay != nil {
            if mouse.kind == .press { state.overlay = nil }
            return
        }
        switch mouse.kind {
        case .wheelUp: perform(.cursorUp)
        case .wheelDown: perform(.cursorDown)
        case .press:
            let pane = frameMap.panes.first(where: { $0.rect.contains(x: mouse.x, y: mouse.y) })
            if let pane { state.focus = pane.pane }
            if let hit = frameMap.tokens.first(where: { $0.rect.contains(x: mouse.x, y: mouse.y) }) {
                state.cursor = hit.index >= state.runs[0].tokens.count - 1 ? nil : hit.index
            }
        }
    }

    // MARK: Drawing

    /// Draws the whole screen into `surface` and remembers where things went (mouse).
    public func render(into surface: Surface) {
        lastSize = (surface.width, surface.height)
        frameMap = Renderer(state: state, palette: palette, layouts: layouts).render(into: surface)
        layouts.endFrame()
    }
}
