// What Swift cannot import from ncursesw by itself: macros (attributes, colour pairs, getmaxyx,
// key codes, mouse masks) become tiny inline functions. Nothing else lives here.
#ifndef WARDEN_CNCURSESW_H
#define WARDEN_CNCURSESW_H
#define NCURSES_WIDECHAR 1
#ifndef _XOPEN_SOURCE_EXTENDED
#define _XOPEN_SOURCE_EXTENDED 1
#endif
#include <locale.h>
#include <wchar.h>
#include <ncursesw/curses.h>

static inline WINDOW *warden_stdscr(void) { return stdscr; }
static inline int warden_rows(void) { int r, c; getmaxyx(stdscr, r, c); (void)c; return r; }
static inline int warden_cols(void) { int r, c; getmaxyx(stdscr, r, c); (void)r; return c; }
static inline int warden_attr_bold(void) { return (int)A_BOLD; }
static inline int warden_attr_reverse(void) { return (int)A_REVERSE; }
static inline int warden_attr_underline(void) { return (int)A_UNDERLINE; }
static inline int warden_attr_dim(void) { return (int)A_DIM; }
static inline int warden_color_pair(int n) { return (int)COLOR_PAIR(n); }
static inline int warden_attrset(int attrs) { return attrset(attrs); }
static inline int warden_colors(void) { return COLORS; }
static inline int warden_key_code_yes(void) { return KEY_CODE_YES; }
static inline int warden_key_resize(void) { return KEY_RESIZE; }
static inline int warden_key_up(void) { return KEY_UP; }
static inline int warden_key_down(void) { return KEY_DOWN; }
static inline int warden_key_left(void) { return KEY_LEFT; }
static inline int warden_key_right(void) { return KEY_RIGHT; }
static inline int warden_key_ppage(void) { return KEY_PPAGE; }
static inline int warden_key_npage(void) { return KEY_NPAGE; }
static inline int warden_key_home(void) { return KEY_HOME; }
static inline int warden_key_end(void) { return KEY_END; }
static inline int warden_key_enter(void) { return KEY_ENTER; }
static inline int warden_key_backspace(void) { return KEY_BACKSPACE; }
static inline int warden_key_mouse(void) { return KEY_MOUSE; }
static inline int warden_key_btab(void) { return KEY_BTAB; }
static inline unsigned long warden_mouse_all(void) { return (unsigned long)(ALL_MOUSE_EVENTS | REPORT_MOUSE_POSITION); }
static inline unsigned long warden_button1_pressed(void) { return (unsigned long)(BUTTON1_PRESSED | BUTTON1_CLICKED); }
static inline unsigned long warden_button4_pressed(void) { return (unsigned long)BUTTON4_PRESSED; }
static inline unsigned long warden_button5_pressed(void) {
#ifdef BUTTON5_PRESSED
    return (unsigned long)BUTTON5_PRESSED;
#else
    return 0;
#endif
}
/// Reads one mouse event: 1 and the cell and button state, or 0.
static inline int warden_get_mouse(int *y, int *x, unsigned long *state) {
    MEVENT e;
    if (getmouse(&e) != OK) return 0;
    *y = e.y; *x = e.x; *state = (unsigned long)e.bstate;
    return 1;
}
#endif
