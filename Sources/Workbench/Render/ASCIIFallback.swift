/// Where the terminal's character set is not UTF-8, every cell must be plain ASCII. The
/// panes already draw with `Glyphs.ascii`; this last pass replaces whatever else slipped
/// through (separators, arrows, text from the model) with ASCII look-alikes or `?`.
enum ASCIIFallback {
    static let table: [Character: Character] = [
        "·": ".", "▸": ">", "–": "-", "—": "-", "…": "~", "≥": ">", "≤": "<", "×": "x", "↵": "$",
        "→": ">", "←": "<", "↑": "^", "↓": "v", "●": "*", "◆": "x", "◦": "_", "│": "|", "─": "-",
        "╭": "+", "╮": "+", "╰": "+", "╯": "+", "█": "#", "▀": "#", "▄": "#", "“": "\"", "”": "\"",
        "‘": "'", "’": "'",
    ]

    static func apply(to surface: Surface) {
        for y in 0..<surface.height {
            for x in 0..<surface.width {
                var cell = surface[x, y]
                if cell.isContinuation {
                    cell.character = "?"
                } else if !cell.character.isASCII {
                    cell.character = table[cell.character] ?? "?"
                }
                surface[x, y] = cell
            }
        }
    }
}
