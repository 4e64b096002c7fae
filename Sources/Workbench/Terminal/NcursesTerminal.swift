import CNcurses
import Foundation
import Engine

/// The ncurses backend: copies `Surface`s to the terminal and reads keys, mouse and
/// resizes. Every ncurses call happens on the thread that created it (the UI thread).
public final class NcursesTerminal {
    public let colorMode: ColorMode
    public let glyphs: Glyphs
    private let colorCount: Int
    private var previous: [Cell] = []
    private var previousSize = (width: 0, height: 0)
    private var pairs: [UInt64: Int32] = [:]
    private var active = true

    /// Opens the terminal in full-screen mode. Throws a one-line error when there is no
    /// terminal, or TERM names no known terminal.
    public init(requestedColorMode: ColorMode?, mouse: Bool,
                environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        setlocale(LC_ALL, "")
        let codeset = String(cString: ds_codeset()).uppercased()
        glyphs = (codeset == "UTF-8" || codeset == "UTF8") ? .unicodeSet : .ascii

        guard isatty(0) == 1, isatty(1) == 1 else {
            throw EngineError("the workbench needs a terminal: standard input and output must be a tty")
        }
        guard let term = environment["TERM"], !term.isEmpty else {
            throw EngineError("TERM is not set; the workbench needs to know the terminal type (e.g. TERM=xterm-256color)")
        }
        guard ds_terminfo_exists(term) == 1 else {
            throw EngineError("TERM=\(term): no terminfo entry for this terminal type (try TERM=xterm-256color)")
        }
        // Truecolor needs a terminal description that sends 24-bit colours (e.g. xterm-direct).
        var name = term
        let colorterm = environment["COLORTERM"]?.lowercased() ?? ""
        let wantsTruecolor = requestedColorMode == .truecolor
            || (requestedColorMode == nil && (colorterm == "truecolor" || colorterm == "24bit"))
        if wantsTruecolor, !term.hasSuffix("-direct") {
            let family = term.split(separator: "-").first.map(String.init) ?? term
            for candidate in [family + "-direct", "xterm-direct"] where ["xterm", "tmux"].contains(family) {
                if ds_terminfo_exists(candidate) == 1 { name = candidate; break }
            }
        }
        ds_save_terminal_modes()
        guard ds_newterm(name) != nil else {
            throw EngineError("TERM=\(name): ncurses could not open the terminal")
        }
        ds_install_crash_restore()
        raw()
        noecho()
        nonl()
        keypad(ds_stdscr(), true)
        curs_set(0)
        set_escdelay(25)
        var colors = 0
        if has_colors() {
            start_color()
            use_default_colors()
            colors = Int(ds_colors())
        }
        colorCount = colors
        var mode = ColorMode.detect(requested: requestedColorMode, environment: environment, terminalColors: colors,
                                    directColorAvailable: ds_has_direct_color() != 0)
        // Never claim more than the terminal description can send.
        if mode == .truecolor && ds_has_direct_color() == 0 { mode = colors >= 256 ? .palette256 : .palette16 }
        if mode == .palette256 && colors < 256 { mode = colors >= 8 ? .palette16 : .monochrome }
        if mode == .palette16 && colors < 8 { mode = .monochrome }
        colorMode = mode
        if mouse {
            mousemask(ds_mouse_all(), nil)
            mouseinterval(0)
        }
    }

    public var size: (width: Int, height: Int) {
        (Int(ds_cols()), Int(ds_lines()))
    }

    /// Leaves full-screen mode and gives the terminal back as it was. Safe to call twice.
    public func restore() {
        guard active else { return }
        active = false
        mousemask(0, nil)
        curs_set(1)
        endwin()
        ds_remove_crash_restore()
    }

    deinit { restore() }

    // MARK: Output

    /// Draws the cells that changed since the last frame, then updates the terminal once.
    public func present(_ surface: Surface) {
        let full = surface.width != previousSize.width || surface.height != previousSize.height
        if full {
            clearok(ds_stdscr(), true)
            previous = []
            previousSize = (surface.width, surface.height)
        }
        var cell = cchar_t()
        var wide: [wchar_t] = [0, 0, 0, 0, 0, 0]
        for y in 0..<surface.height {
            for x in 0..<surface.width {
                let i = y * surface.width + x
                let c = surface.cells[i]
                if !full, i < previous.count, previous[i] == c { continue }
                if c.isContinuation { continue }
                var n = 0
                for scalar in c.character.unicodeScalars where n < 5 {
                    wide[n] = wchar_t(bitPattern: scalar.value)
                    n += 1
                }
                wide[n] = 0
                let (attributes, pair) = attributesAndPair(c.style)
                var extendedPair = pair
                setcchar(&cell, wide, attributes, Int16(truncatingIfNeeded: min(pair, 32767)), &extendedPair)
                mvwadd_wch(ds_stdscr(), Int32(y), Int32(x), &cell)
            }
        }
        previous = surface.cells
        wnoutrefresh(ds_stdscr())
        doupdate()
    }

    /// ncurses attributes and colour pair for a style in this terminal's colour mode.
    private func attributesAndPair(_ style: Style) -> (attr_t, Int32) {
        var attributes = ds_attr_normal()
        let a = style.attributes
        if a.contains(.bold) { attributes |= ds_attr_bold() }
        if a.contains(.dim) { attributes |= ds_attr_dim() }
        if a.contains(.underline) { attributes |= ds_attr_underline() }
        if a.contains(.reverse) { attributes |= ds_attr_reverse() }
        if a.contains(.italic) { attributes |= ds_attr_italic() }
        guard colorMode != .monochrome else { return (attributes, 0) }
        var fg = colorIndex(style.foreground)
        var bg = colorIndex(style.background)
        // Eight-colour terminals (the Linux console) show bright foregrounds as bold.
        if colorMode == .palette16 && colorCount < 16 {
            if fg >= 8 { fg -= 8; attributes |= ds_attr_bold() }
            if bg >= 8 { bg -= 8 }
        }
        let key = UInt64(UInt32(bitPattern: fg)) << 32 | UInt64(UInt32(bitPattern: bg))
        if let pair = pairs[key] { return (attributes, pair) }
        let pair = alloc_pair(fg, bg)
        if pair < 0 { return (attributes, 0) }
        pairs[key] = pair
        return (attributes, pair)
    }

    private func colorIndex(_ color: TerminalColor) -> Int32 {
        guard case let .rgb(r, g, b) = color else { return -1 }
        switch colorMode {
        case .truecolor: return Int32(r) << 16 | Int32(g) << 8 | Int32(b)
        case .palette256: return Int32(ColorQuantizer.xterm256(r, g, b))
        case .palette16: return Int32(ColorQuantizer.ansi16Index(r, g, b))
        case .monochrome: return -1
        }
    }

    // MARK: Input

    /// The next input event, waiting at most `timeoutMs` milliseconds (0: do not wait).
    public func readInput(timeoutMs: Int) -> InputEvent? {
        wtimeout(ds_stdscr(), Int32(timeoutMs))
        var ch: wint_t = 0
        let result = wget_wch(ds_stdscr(), &ch)
        if result == ERR { return nil }
        if result == KEY_CODE_YES { return keyCode(Int32(ch)) }
        switch ch {
        case 3: return .key(.control("c"))
        case 9: return .key(.tab)
        case 10: return .key(.control("j"))
        case 13: return .key(.enter)
        case 27: return .key(.escape)
        case 8, 127: return .key(.backspace)
        case 1...26: return .key(.control(Character(Unicode.Scalar(UInt8(96 + ch)))))
        default:
            guard let scalar = Unicode.Scalar(UInt32(ch)) else { return nil }
            return .key(.char(Character(scalar)))
        }
    }

    private func keyCode(_ code: Int32) -> InputEvent? {
        switch code {
        case KEY_UP: return .key(.up)
        case KEY_DOWN: return .key(.down)
        case KEY_LEFT: return .key(.left)
        case KEY_RIGHT: return .key(.right)
        case KEY_HOME: return .key(.home)
        case KEY_END: return .key(.end)
        case KEY_PPAGE: return .key(.pageUp)
        case KEY_NPAGE: return .key(.pageDown)
        case KEY_BTAB: return .key(.backTab)
        case KEY_BACKSPACE: return .key(.backspace)
        case KEY_DC: return .key(.delete)
        case KEY_ENTER: return .key(.enter)
        case KEY_RESIZE:
            let s = size
            return .resize(width: s.width, height: s.height)
        case KEY_MOUSE:
            var event = MEVENT()
            guard getmouse(&event) == OK else { return nil }
            let x = Int(event.x), y = Int(event.y)
            if event.bstate & ds_button4_pressed() != 0 { return .mouse(MouseEvent(.wheelUp, x: x, y: y)) }
            if event.bstate & ds_button5_pressed() != 0 { return .mouse(MouseEvent(.wheelDown, x: x, y: y)) }
            if event.bstate & (ds_button1_pressed() | ds_button1_clicked()) != 0 {
                return .mouse(MouseEvent(.press, x: x, y: y))
            }
            return nil
        default:
            for n in 1...12 where code == ds_key_f(Int32(n)) { return .key(.function(n)) }
            return nil
        }
    }
}
