import Dispatch
import Foundation
import Engine

/// Runs the workbench in the terminal: the UI loop on the calling thread, runs on their
/// own threads. Returns the process exit status.
public enum WorkbenchApp {
    /// Frames are drawn at most this often; tokens arriving in between are coalesced.
    static let frameInterval: UInt64 = 33_000_000  // ns, about 30 frames per second
    /// How long one wait for input may last, so new tokens are drawn promptly.
    static let inputWaitMs = 15

    public static func run(engine: any WorkbenchEngine, settings: RunSettings, options: WorkbenchOptions,
                           themes: ThemeLibrary = .standard()) throws -> Int32 {
        // Everything that can fail on user input fails here, before the screen changes.
        let theme = try themes.load(options.theme)
        let mailbox = EventMailbox()
        let signals = SignalWatch(mailbox: mailbox)
        let terminal = try NcursesTerminal(requestedColorMode: options.colorMode, mouse: options.mouse)
        defer { terminal.restore() }
        let size = terminal.size
        guard size.width >= Renderer.minimumSize.width, size.height >= Renderer.minimumSize.height else {
            terminal.restore()
            throw EngineError("terminal is \(size.width)x\(size.height); the workbench needs at least "
                + "\(Renderer.minimumSize.width)x\(Renderer.minimumSize.height)")
        }
        let palette = Palette(theme: theme, mode: terminal.colorMode, glyphs: terminal.glyphs)
        let workbench = Workbench(engine: engine, settings: settings, options: options, palette: palette,
                                  themes: themes, mailbox: mailbox)
        let outcome = loop(workbench, terminal: terminal, quitWhenFinished: options.quitWhenFinished)
        workbench.shutdown()
        terminal.restore()
        signals.cancel()
        if options.quitWhenFinished {
            for (i, run) in workbench.state.runs.enumerated() {
                var line = (workbench.state.isComparing ? (i == 0 ? "A " : "B ") : "") + run.status.label
                if case let .failed(message) = run.status { line += ": " + message }
                FileHandle.standardError.write(Data((line + "\n").utf8))
            }
        }
        return outcome
    }

    /// The UI loop: wait briefly for input, apply what the runs reported, and redraw when
    /// something changed and a frame is due. Returns the exit status.
    static func loop(_ workbench: Workbench, terminal: NcursesTerminal, quitWhenFinished: Bool = false) -> Int32 {
        workbench.start()
        var lastFrame: UInt64 = 0
        var dirty = true
        while true {
            if let signal = workbench.mailbox.quitRequest { return SignalWatch.exitStatus(for: signal) }
            if workbench.state.shouldQuit { return 0 }
            if quitWhenFinished, !dirty, workbench.state.runs.allSatisfy(\.status.isOver) { return 0 }
            if let event = terminal.readInput(timeoutMs: inputWaitMs) {
                workbench.handle(event)
                dirty = true
                // Take every key already typed before drawing again.
                var burst = 0
                while burst < 256, let more = terminal.readInput(timeoutMs: 0) {
                    workbench.handle(more)
                    burst += 1
                }
            }
            if workbench.pump() { dirty = true }
            let now = DispatchTime.now().uptimeNanoseconds
            if dirty && now &- lastFrame >= frameInterval {
                let size = terminal.size
                let surface = Surface(width: size.width, height: size.height)
                workbench.render(into: surface)
                terminal.present(surface)
                lastFrame = now
                dirty = false
            }
        }
    }
}

/// Turns SIGINT, SIGTERM and SIGHUP into a quit request the UI loop sees within one
/// input wait, so the terminal is restored before the process exits.
final class SignalWatch {
    static let watched: [(Int32, String)] = [(SIGINT, "SIGINT"), (SIGTERM, "SIGTERM"), (SIGHUP, "SIGHUP")]
    private var sources: [DispatchSourceSignal] = []

    init(mailbox: EventMailbox) {
        // A parent may have started us with signals blocked; resizing (SIGWINCH) and these
        // quit signals must reach us.
        var unblock = sigset_t()
        sigemptyset(&unblock)
        for signal in [SIGWINCH] + Self.watched.map(\.0) { sigaddset(&unblock, signal) }
        pthread_sigmask(SIG_UNBLOCK, &unblock, nil)
        for (number, name) in Self.watched {
            signal(number, SIG_IGN)  // the dispatch source gets it instead of the default action
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { mailbox.requestQuit(name) }
            source.resume()
            sources.append(source)
        }
        signal(SIGPIPE, SIG_IGN)
    }

    func cancel() {
        for source in sources { source.cancel() }
        sources.removeAll()
    }

    /// 128 + the signal number, as shells report a death by signal.
    static func exitStatus(for name: String) -> Int32 {
        128 + (watched.first(where: { $0.1 == name })?.0 ?? 15)
    }
}
