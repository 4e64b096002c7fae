#ifndef DEPTHSCOPE_CNCURSES_SHIM_H
#define DEPTHSCOPE_CNCURSES_SHIM_H
#define _XOPEN_SOURCE_EXTENDED 1
#define NCURSES_WIDECHAR 1
#include <locale.h>
#include <langinfo.h>
#include <wchar.h>
#include <ncursesw/curses.h>
#include <ncursesw/term.h>

// Swift cannot import function-like macros or read C globals safely under strict
// concurrency, so every one the workbench needs gets a tiny inline accessor here.
// All of them must be called from the single UI thread (ncurses is not thread-safe).

static inline WINDOW *ds_stdscr(void) { return stdscr; }
/// newterm on the process's own stdout and stdin; NULL on failure.
static inline SCREEN *ds_newterm(const char *name) { return newterm(name, stdout, stdin); }
static inline int ds_lines(void) { return LINES; }
static inline int ds_cols(void) { return COLS; }
static inline int ds_colors(void) { return COLORS; }
static inline int ds_color_pairs(void) { return COLOR_PAIRS; }

static inline attr_t ds_attr_normal(void) { return A_NORMAL; }
static inline attr_t ds_attr_bold(void) { return A_BOLD; }
static inline attr_t ds_attr_dim(void) { return A_DIM; }
static inline attr_t ds_attr_underline(void) { return A_UNDERLINE; }
static inline attr_t ds_attr_reverse(void) { return A_REVERSE; }
static inline attr_t ds_attr_italic(void) { return A_ITALIC; }

static inline mmask_t ds_mouse_all(void) { return ALL_MOUSE_EVENTS; }
static inline mmask_t ds_button1_pressed(void) { return BUTTON1_PRESSED; }
static inline mmask_t ds_button1_clicked(void) { return BUTTON1_CLICKED; }
static inline mmask_t ds_button1_released(void) { return BUTTON1_RELEASED; }
static inline mmask_t ds_button4_pressed(void) { return BUTTON4_PRESSED; }
static inline mmask_t ds_button5_pressed(void) { return BUTTON5_PRESSED; }

static inline int ds_key_f(int n) { return KEY_F(n); }

/// Whether the terminal description says it takes 24-bit colour values directly
/// (terminfo `RGB` flag, as in xterm-direct / tmux-direct), which is what ncurses needs
/// to send truecolor escapes.
static inline int ds_has_direct_color(void) {
    return tigetflag("RGB") > 0 || COLORS >= 0x1000000;
}

/// Whether a terminfo entry of this name exists (quietly: no message, no exit).
static inline int ds_terminfo_exists(const char *name) {
    int err = 0;
    TERMINAL *saved = cur_term;
    if (setupterm(name, 1, &err) != OK) { set_curterm(saved); return 0; }
    TERMINAL *probe = cur_term;
    set_curterm(saved);
    del_curterm(probe);
    return 1;
}

/// The character set the C library uses after setlocale; "UTF-8" when Unicode box
/// drawing, blocks and braille can be printed.
static inline const char *ds_codeset(void) { return nl_langinfo(CODESET); }

#endif
