/// The `?` overlay: every key from `KeyBindings` (the same table the keys go through),
/// the mouse, and the palette commands.
enum HelpOverlay {
    static func lines(palette p: Palette) -> [[(String, Style)]] {
        var out: [[(String, Style)]] = []
        var group = ""
        for binding in KeyBindings.all {
            if binding.group != group {
                group = binding.group
                out.append([(group, p.title)])
            }
            out.append([("  " + pad(binding.keyLabel, 10), p.hotkey), (binding.help, p.text(.mainForeground))])
        }
        out.append([("mouse (off with --no-mouse)", p.title)])
        for (what, help) in KeyBindings.mouseHelp {
            out.append([("  " + pad(what, 10), p.hotkey), (help, p.text(.mainForeground))])
        }
        out.append([(": commands", p.title)])
        for command in PaletteCommand.reference {
            out.append([("  :" + pad(command.name + " " + command.argument, 16), p.hotkey), (command.help, p.graphText)])
        }
        return out
    }

    /// Lines flow down the columns of a page (two columns when there is room); `j`/`k`
    /// turn pages. At 80x24 every key fits on the first page.
    static func pageCount(width: Int, height: Int, palette p: Palette) -> Int {
        let perPage = max(1, height - 4) * (min(width, 110) >= 74 ? 2 : 1)
        return max(1, (lines(palette: p).count + perPage - 1) / perPage)
    }

    static func draw(page requested: Int, palette p: Palette, in root: Region) {
        let all = lines(palette: p)
        let width = min(root.width, 110)
        let columns = width >= 74 ? 2 : 1
        let height = root.height - 2
        let rows = max(1, height - 2)
        let perPage = rows * columns
        let pages = max(1, (all.count + perPage - 1) / perPage)
        let page = min(requested, pages - 1)
        let title = "help · page \(page + 1)/\(pages) · j/k pages · any other key closes"
        let inner = Renderer.overlayBox(root, width: width, height: height, title: title, palette: p)
        guard inner.height > 0 else { return }
        let columnWidth = (inner.width - (columns - 1)) / columns
        for column in 0..<columns {
            let region = inner.sub(Rect(x: column * (columnWidth + 1), y: 0, width: columnWidth, height: inner.height))
            var writer = LineWriter(region)
            for line in all.dropFirst(page * perPage + column * inner.height).prefix(inner.height) { writer.line(line) }
        }
    }

    private static func pad(_ s: String, _ width: Int) -> String {
        s + String(repeating: " ", count: max(1, width - DisplayWidth.of(s)))
    }
}
