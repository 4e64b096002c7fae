import Foundation
import Testing
@testable import Workbench

/// The real `depthscope` binary in a real terminal: tmux runs it, the test types keys with
/// send-keys and reads the screen with capture-pane, and tmux's own view of the terminal
/// modes (alternate screen, cursor, mouse) tells whether the terminal was restored.
/// Skipped only when tmux is not installed (`.ci/run` installs it).
@Suite(.serialized, .enabled(if: Tmux.available, "tmux is not installed"))
struct EndToEndTests {
    static let traces = [RecordedTraceTests.path("shakespeare-mor"), RecordedTraceTests.path("shakespeare-vanilla")]

    func replay(_ tmux: Tmux, term: String = "xterm-256color", width: Int = 80, height: Int = 24,
                extra: String = "") throws {
        let args = Self.traces.map { Tmux.quote($0) }.joined(separator: " ")
        // No interactive crash report: the crash test wants the plain exit.
        try tmux.start(
            "TERM=\(term) LANG=C.UTF-8 SWIFT_BACKTRACE=enable=no \(Tmux.quote(Tmux.binary)) replay \(args) --speed 200 \(extra); "
                + "echo EXIT=$?; sleep 600",
            width: width, height: height)
    }

    @Test func swapArchitectureAndQuitCleanly() async throws {
        let tmux = Tmux("main")
        defer { tmux.kill() }
        try replay(tmux)
        #expect(await tmux.waitFor("the workbench to draw") { $0.contains("1 stream") && $0.contains("shakespeare-mor") })
        #expect(await tmux.waitFor("the replay to finish") { $0.contains("finished") })
        #expect(tmux.format("#{alternate_on}") == "1")

        // Pick the other recording from the architecture list.
        tmux.send("a")
        #expect(await tmux.waitFor("the architecture picker") { $0.contains("choose an architecture") })
        tmux.send("j", "Enter")
        #expect(await tmux.waitFor("the switch to shakespeare-vanilla") { firstLine($0).contains("shakespeare-vanilla") })
        #expect(await tmux.waitFor("vanilla to finish") { firstLine($0).contains("finished") })

        // And back through the command palette.
        tmux.send(":")
        tmux.sendLiteral("arch shakespeare-mor")
        tmux.send("Enter")
        #expect(await tmux.waitFor("the switch back") { firstLine($0).contains("│ shakespeare-mor │") })

        // An engine error is shown in the UI, and the workbench carries on.
        tmux.send(":")
        tmux.sendLiteral("arch shakespeare-mor threshold=0.6")
        tmux.send("Enter")
        #expect(await tmux.waitFor("the error in the UI") { $0.contains("cannot change its options") && $0.contains("● error") })
        tmux.send("a", "Enter")
        #expect(await tmux.waitFor("a good run again") { firstLine($0).contains("finished") })

        tmux.send("?")
        #expect(await tmux.waitFor("help") { $0.contains("help · page") })
        tmux.send("Escape")
        #expect(await tmux.waitFor("help to close") { !$0.contains("help · page") })

        tmux.send("q")
        #expect(await tmux.waitFor("a clean exit") { $0.contains("EXIT=0") })
        tmux.expectRestored()
    }

    /// `depthscope` with no arguments: the live engine on the shipped default model
    /// (shakespeare-mor, prompt "ROMEO:\n", seed 42, temperature 0.8).
    @Test func liveDefaultModelGeneratesSwapsArchitectureAndQuits() async throws {
        // The same settings through `generate` give the text the workbench must show.
        let generated = Tmux.spawn([Tmux.binary, "generate", "--model", "shakespeare-mor", "--prompt", "ROMEO:\n",
                                    "--seed", "42", "--temperature", "0.8", "-n", "40"], capture: true)
        #expect(generated.status == 0)
        let firstLine = try #require(generated.output.split(separator: "\n").first.map(String.init))
        #expect(firstLine.count >= 3, "generate printed \(generated.output)")

        let tmux = Tmux("live")
        defer { tmux.kill() }
        try tmux.start("TERM=xterm-256color LANG=C.UTF-8 \(Tmux.quote(Tmux.binary)); echo EXIT=$?; sleep 600",
                       width: 100, height: 30)
        #expect(await tmux.waitFor("generated text") { $0.contains("ROMEO:↵") && $0.contains(firstLine + "↵") })
        #expect(await tmux.waitFor("the default architecture") { self.firstLine($0).contains("mor threshold=0.5") })
        #expect(tmux.format("#{alternate_on}") == "1")

        // Swap the architecture through the palette: the run restarts under it.
        tmux.send(":")
        tmux.sendLiteral("arch mor threshold=0.7")
        tmux.send("Enter")
        #expect(await tmux.waitFor("the switch to threshold 0.7") {
            self.firstLine($0).contains("mor threshold=0.7") && $0.contains("threshold 0.7")
        })
        #expect(await tmux.waitFor("text under the new architecture") { $0.contains("ROMEO:↵") && self.firstLine($0).contains("finished") })

        // A bad option is an error in the UI; the workbench carries on.
        tmux.send(":")
        tmux.sendLiteral("arch mor threshold=2")
        tmux.send("Enter")
        #expect(await tmux.waitFor("the error in the UI") { $0.contains("out of range") && $0.contains("● error") })
        tmux.send(":")
        tmux.sendLiteral("arch vanilla")
        tmux.send("Enter")
        #expect(await tmux.waitFor("vanilla") { self.firstLine($0).contains("vanilla") && self.firstLine($0).contains("finished") })

        tmux.send("q")
        #expect(await tmux.waitFor("a clean exit") { $0.contains("EXIT=0") })
        tmux.expectRestored()
    }

    /// The command-line settings reach the run: another model, architecture, prompt, seed,
    /// temperature and token budget give what `generate` gives for them.
    @Test func liveCommandLineSettings() async throws {
        let generated = Tmux.spawn([Tmux.binary, "generate", "--model", "shakespeare-vanilla", "--arch", "early-exit",
                                    "--arch-option", "threshold=0.8", "--prompt", "JULIET:\n", "--seed", "7",
                                    "--temperature", "0.5", "-n", "30"], capture: true)
        #expect(generated.status == 0)
        let firstLine = try #require(generated.output.split(separator: "\n").first.map(String.init))

        let tmux = Tmux("liveargs")
        defer { tmux.kill() }
        try tmux.start("TERM=xterm-256color LANG=C.UTF-8 \(Tmux.quote(Tmux.binary)) --model shakespeare-vanilla "
                           + "--arch 'early-exit threshold=0.8' --prompt 'JULIET:\\n' --seed 7 --temperature 0.5 "
                           + "--max-tokens 30; echo EXIT=$?; sleep 600",
                       width: 120, height: 30)
        #expect(await tmux.waitFor("the run to finish") { self.firstLine($0).contains("finished: 30 tokens") })
        let screen = tmux.capture()
        // The stream pane: the prompt's line, then generate's first line.
        let lines = screen.split(separator: "\n").map(String.init)
        let promptLine = try #require(lines.firstIndex { $0.hasPrefix("│JULIET:↵") }, "no prompt in:\n\(screen)")
        #expect(lines[promptLine + 1].hasPrefix("│" + firstLine + "↵"), "expected \(firstLine) after the prompt:\n\(screen)")
        #expect(screen.contains("arch   early-exit") && screen.contains("threshold=0.8"))
        #expect(screen.contains("model  shakespeare-vanilla") && screen.contains("seed 7"))
        tmux.send("q")
        #expect(await tmux.waitFor("a clean exit") { $0.contains("EXIT=0") })
        tmux.expectRestored()
    }

    @Test func signalsAndCtrlCRestoreTheTerminal() async throws {
        // SIGSEGV stands for a crash: even then the terminal comes back.
        for (signal, number, status) in [("TERM", SIGTERM, 143), ("HUP", SIGHUP, 129), ("INT", SIGINT, 130),
                                         ("SEGV", SIGSEGV, 139)] {
            let tmux = Tmux("sig\(signal)")
            defer { tmux.kill() }
            try replay(tmux)
            #expect(await tmux.waitFor("the workbench") { $0.contains("1 stream") })
            let pid = try #require(tmux.programPid(), "no depthscope process")
            kill(pid, number)
            #expect(await tmux.waitFor("exit on SIG\(signal)") { $0.contains("EXIT=\(status)") })
            tmux.expectRestored()
        }
        let tmux = Tmux("ctrlc")
        defer { tmux.kill() }
        try replay(tmux)
        #expect(await tmux.waitFor("the workbench") { $0.contains("1 stream") })
        tmux.send("C-c")
        #expect(await tmux.waitFor("exit on Ctrl-C") { $0.contains("EXIT=0") })
        tmux.expectRestored()
    }

    @Test func worksWithOtherTerminalTypes() async throws {
        for term in ["screen-256color", "linux", "vt100"] {
            let tmux = Tmux(term)
            defer { tmux.kill() }
            try replay(tmux, term: term)
            #expect(await tmux.waitFor("drawing with TERM=\(term)") { $0.contains("stream") && $0.contains("inspector") })
            tmux.send("q")
            #expect(await tmux.waitFor("exit with TERM=\(term)") { $0.contains("EXIT=0") })
        }
    }

    @Test func resizingBelowTheMinimumSaysSoAndRecovers() async throws {
        let tmux = Tmux("resize")
        defer { tmux.kill() }
        try replay(tmux)
        #expect(await tmux.waitFor("the workbench") { $0.contains("1 stream") })
        tmux.resize(width: 40, height: 12)
        #expect(await tmux.waitFor("the too-small notice") { $0.contains("terminal too small: 40x12") })
        tmux.resize(width: 120, height: 35)
        #expect(await tmux.waitFor("the panes again") { $0.contains("1 stream") && $0.contains("6 model") })
        tmux.send("q")
        #expect(await tmux.waitFor("a clean exit") { $0.contains("EXIT=0") })
        tmux.expectRestored()
    }

    @Test func startingTooSmallIsOneLineOnStderr() async throws {
        let tmux = Tmux("small")
        defer { tmux.kill() }
        try replay(tmux, width: 40, height: 12)
        #expect(await tmux.waitFor("the error") { $0.contains("EXIT=1") })
        let text = tmux.capture().replacingOccurrences(of: "\n", with: "")  // the line wraps at 40 columns
        #expect(text.contains("depthscope: terminal is 40x12; the workbench needs at least 56x16EXIT=1"))
        tmux.expectRestored()
    }

    private func firstLine(_ screen: String) -> String {
        String(screen.split(separator: "\n", omittingEmptySubsequences: false).first ?? "")
    }
}

/// Bad input on the command line: one line on stderr, non-zero status, no trap.
@Suite struct CommandLineErrorTests {
    func run(_ arguments: [String]) -> (status: Int32, stderr: String) {
        let result = Tmux.spawn([Tmux.binary] + arguments, capture: true, captureStandardError: true)
        return (result.status, result.output)
    }

    @Test func badInputGivesOneLine() {
        let trace = RecordedTraceTests.path("shakespeare-mor")
        let cases: [([String], String)] = [
            (["replay", "/nonexistent.jsonl"], "depthscope: /nonexistent.jsonl: no such trace file\n"),
            (["replay", trace, "--theme", "nope"], "depthscope: theme \"nope\": not found"),
            (["replay", trace, "--color", "neon"], "depthscope: --color neon: expected auto, truecolor, 256, 16 or mono\n"),
            (["replay", trace, "--compare", "zzz"], "depthscope: --compare zzz: no such recording (have: shakespeare-mor)\n"),
            (["replay", trace], "depthscope: the workbench needs a terminal: standard input and output must be a tty\n"),
            // The live workbench checks its settings before it needs the terminal.
            (["--model", "nope"], "depthscope: model 'nope' not found: not a folder, and not a model name (available: "),
            (["--arch", "mor threshold=3"], "depthscope: arch mor: option threshold=3: out of range [0, 1]\n"),
            (["--compare", "warp"], "depthscope: --compare: unknown architecture 'warp' (known: vanilla, "),
            (["--prompt", "é"], "depthscope: prompt: character 'é' (U+00E9) is not in the character vocabulary\n"),
            (["--speed", "0"], "depthscope: --speed 0.0: expected a positive number of tokens per second\n"),
            ([], "depthscope: the workbench needs a terminal: standard input and output must be a tty\n"),
        ]
        for (arguments, expected) in cases {
            let (status, stderr) = run(arguments)
            #expect(status == 1, "\(arguments)")
            #expect(stderr.hasPrefix(expected), "\(arguments): \(stderr)")
            #expect(stderr.filter { $0 == "\n" }.count == 1, "one line: \(stderr)")
        }
    }
}

/// A private tmux server for one test.
final class Tmux {
    static var available: Bool { executable != nil }

    static let executable: String? = ["/usr/bin/tmux", "/usr/local/bin/tmux", "/opt/homebrew/bin/tmux"]
        .first { FileManager.default.isExecutableFile(atPath: $0) }

    /// The depthscope binary built next to this test bundle.
    static let binary: String = {
        let besideTests = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
            .deletingLastPathComponent().appendingPathComponent("depthscope").path
        if FileManager.default.isExecutableFile(atPath: besideTests) { return besideTests }
        return Harness.repositoryRoot.appendingPathComponent(".build/debug/depthscope").path
    }()

    let socket: String

    init(_ name: String) {
        socket = "depthscope-e2e-\(getpid())-\(name)"
    }

    static func quote(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'" }

    /// Runs tmux and returns its output. Spawned directly rather than with Foundation's
    /// Process, which learns of a child's exit through a descriptor the tmux server would
    /// inherit and keep open; the server likewise gets /dev/null, not our pipe, as stdout.
    @discardableResult
    func tmux(_ arguments: [String], capture: Bool = true) -> String {
        guard let executable = Self.executable else { return "" }
        return Self.spawn([executable, "-L", socket, "-f", "/dev/null"] + arguments, capture: capture).output
    }

    /// Runs a program with a clean signal mask; returns its exit status and its standard
    /// output (or standard error) when captured.
    @discardableResult
    static func spawn(_ argv: [String], capture: Bool, captureStandardError: Bool = false) -> (status: Int32, output: String) {
        var fds: [Int32] = [-1, -1]
        if capture { guard pipe(&fds) == 0 else { return (-1, "") } }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        let target: Int32 = captureStandardError ? 2 : 1
        for fd: Int32 in [1, 2] where !(capture && fd == target) {
            posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", O_WRONLY, 0)
        }
        if capture {
            posix_spawn_file_actions_adddup2(&actions, fds[1], target)
            posix_spawn_file_actions_addclose(&actions, fds[0])
            posix_spawn_file_actions_addclose(&actions, fds[1])
        }
        // Not inside the caller's tmux, and with colours (test runners set NO_COLOR).
        let environment = ProcessInfo.processInfo.environment.filter { $0.key != "TMUX" && $0.key != "NO_COLOR" }
            .map { "\($0.key)=\($0.value)" }
        var cArgs = argv.map { strdup($0) } + [nil]
        var cEnv = environment.map { strdup($0) } + [nil]
        defer {
            for p in cArgs { free(p) }
            for p in cEnv { free(p) }
        }
        // Test runner threads block signals; a terminal program must start with a clean slate.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGINT, SIGTERM, SIGHUP, SIGWINCH, SIGPIPE, SIGCHLD] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, argv[0], &actions, &attributes, &cArgs, &cEnv)
        if capture { close(fds[1]) }
        var output = Data()
        if capture {
            var buffer = [UInt8](repeating: 0, count: 4096)
            while spawned == 0 {
                let n = read(fds[0], &buffer, buffer.count)
                if n <= 0 { break }
                output.append(contentsOf: buffer[0..<n])
            }
            close(fds[0])
        }
        var status: Int32 = -1
        if spawned == 0 {
            var raw: Int32 = 0
            if waitpid(pid, &raw, 0) == pid { status = (raw & 0x7f) == 0 ? (raw >> 8) & 0xff : 128 + (raw & 0x7f) }
        }
        return (status, String(decoding: output, as: UTF8.self))
    }

    func start(_ command: String, width: Int, height: Int) throws {
        guard FileManager.default.isExecutableFile(atPath: Self.binary) else {
            throw EndToEndError("no depthscope binary at \(Self.binary); build it first")
        }
        tmux(["new-session", "-d", "-s", "e2e", "-x", String(width), "-y", String(height), command], capture: false)
    }

    func capture() -> String { tmux(["capture-pane", "-p", "-t", "e2e"]) }

    func format(_ f: String) -> String {
        tmux(["display-message", "-p", "-t", "e2e", f]).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func send(_ keys: String...) { tmux(["send-keys", "-t", "e2e"] + keys) }

    func sendLiteral(_ text: String) { tmux(["send-keys", "-t", "e2e", "-l", text]) }

    func resize(width: Int, height: Int) {
        tmux(["resize-window", "-t", "e2e", "-x", String(width), "-y", String(height)])
    }

    /// The depthscope process: the child of the pane's shell.
    func programPid() -> pid_t? {
        let shell = format("#{pane_pid}")
        let out = Self.spawn(["/usr/bin/pgrep", "-P", shell, "depthscope"], capture: true).output
        return out.split(separator: "\n").first.flatMap { pid_t($0) }
    }

    /// Polls the screen until `condition` holds (a hang guard, not a timing assertion);
    /// on failure records the last screen.
    func waitFor(_ what: String, within seconds: Double = 20, _ condition: (String) -> Bool) async -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        var screen = ""
        while Date() < deadline {
            screen = capture()
            if condition(screen) { return true }
            try? await Task.sleep(nanoseconds: 50_000_000)
        }
        Issue.record("timed out waiting for \(what); screen:\n\(screen)")
        return false
    }

    /// After the program exits: normal screen, visible cursor, no mouse reporting.
    func expectRestored(sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(format("#{alternate_on}") == "0", "still on the alternate screen", sourceLocation: sourceLocation)
        #expect(format("#{cursor_flag}") == "1", "cursor still hidden", sourceLocation: sourceLocation)
        #expect(format("#{mouse_any_flag}") == "0", "mouse reporting still on", sourceLocation: sourceLocation)
    }

    /// Ends the server, and the pane's shell by its pid in case it outlives the server.
    func kill() {
        let shell = pid_t(format("#{pane_pid}"))
        tmux(["kill-server"])
        if let shell, shell > 1 { Glibc.kill(shell, SIGKILL) }
    }
}

struct EndToEndError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
