#ifndef DEPTHSCOPE_CNCURSES_SHIM_H
#define DEPTHSCOPE_CNCURSES_SHIM_H
#define _XOPEN_SOURCE_EXTENDED 1
#define NCURSES_WIDECHAR 1
#include <locale.h>
#include <langinfo.h>
#include <signal.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>
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

// Crash restore. Even if the process dies from a fault (a bug, never user input), the
// terminal must not be left in raw mode on the alternate screen. Before ncurses starts we
// save the terminal modes; afterwards we prepare the bytes that leave full-screen mode and
// install a handler for fatal signals that puts both back (only async-signal-safe calls),
// then hands the signal to whatever handled it before (e.g. Swift's backtracer).

struct ds_restore_state {
    struct termios modes;
    int modes_valid;
    char bytes[512];
    size_t length;
    struct sigaction previous[6];
};

// One instance, kept in a function so that it is emitted along with the functions that
// use it (a header-level static would not be, in a module imported by Swift).
static inline struct ds_restore_state *ds_restore(void) {
    static struct ds_restore_state state;
    return &state;
}

static inline int ds_fatal_signal(int i) {
    const int signals[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP, SIGABRT };
    return signals[i];
}

static inline void ds_append_restore(const char *bytes) {
    struct ds_restore_state *r = ds_restore();
    if (bytes == NULL || bytes == (char *)-1) return;
    size_t n = strlen(bytes);
    if (r->length + n >= sizeof r->bytes) return;
    memcpy(r->bytes + r->length, bytes, n);
    r->length += n;
}

static inline void ds_fatal_signal_handler(int signal_number, siginfo_t *info, void *context) {
    (void)context;
    struct ds_restore_state *r = ds_restore();
    if (r->modes_valid) tcsetattr(0, TCSANOW, &r->modes);
    if (r->length > 0) { ssize_t written = write(1, r->bytes, r->length); (void)written; }
    for (int i = 0; i < 6; i++) {
        if (ds_fatal_signal(i) == signal_number) sigaction(signal_number, &r->previous[i], NULL);
    }
    // A fault re-executes its instruction on return and reaches the previous handler; a
    // signal that was sent (kill, abort) is raised again for it.
    if (info == NULL || info->si_code <= 0 || signal_number == SIGABRT) raise(signal_number);
}

/// Call before ncurses takes the terminal.
static inline void ds_save_terminal_modes(void) {
    struct ds_restore_state *r = ds_restore();
    r->modes_valid = tcgetattr(0, &r->modes) == 0;
}

/// Call once ncurses runs (its terminal description is loaded).
static inline void ds_install_crash_restore(void) {
    struct ds_restore_state *r = ds_restore();
    r->length = 0;
    ds_append_restore(tigetstr("sgr0"));
    ds_append_restore(tigetstr("cnorm"));
    ds_append_restore("\033[?1000l\033[?1002l\033[?1003l\033[?1006l");
    ds_append_restore(tigetstr("rmcup"));
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_sigaction = ds_fatal_signal_handler;
    action.sa_flags = SA_SIGINFO;
    sigemptyset(&action.sa_mask);
    for (int i = 0; i < 6; i++) sigaction(ds_fatal_signal(i), &action, &r->previous[i]);
}

/// Call after the terminal was restored normally.
static inline void ds_remove_crash_restore(void) {
    struct ds_restore_state *r = ds_restore();
    for (int i = 0; i < 6; i++) sigaction(ds_fatal_signal(i), &r->previous[i], NULL);
}

#endif
