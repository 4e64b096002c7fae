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

    static func draw(scroll: Int, palette p: Palette, in root: Region) {
        let all = lines(palette: p)
        let width = min(root.width - 2, 110)
        let twoColumns = width >= 74
        let inner = Renderer.overlayBox(root, width: width, height: root.height - 2,
                                        title: "help · j/k scroll · any other key closes", palette: p)
        guard inner.height > 0 else { return }
        let columnWidth = twoColumns ? (inner.width - 1) / 2 : inner.width
        let perColumn = twoColumns ? (all.count + 1) / 2 : all.count
        let maxScroll = max(0, perColumn - inner.height)
        let start = min(scroll, maxScroll)
        for column in 0..<(twoColumns ? 2 : 1) {
            let region = inner.sub(Rect(x: column * (columnWidth + 1), y: 0, width: columnWidth, height: inner.height))
            var writer = LineWriter(region)
            let slice = all.dropFirst(column * perColumn).prefix(perColumn).dropFirst(start)
            for line in slice where writer.hasRoom { writer.line(line) }
        }
    }

    private static func pad(_ s: String, _ width: Int) -> String {
        s + String(repeating: " ", count: max(1, width - DisplayWidth.of(s)))
    }
}
