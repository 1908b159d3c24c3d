/*
 * prompt.c - a password asked for on the terminal (declared in prompt.h).
 *
 * The terminal is /dev/tty, not stdin or stderr: those may be redirected
 * while a person still sits at the terminal, and the prompt must not end
 * up in a log. Echo is off while the line is typed; the line editing
 * keys (erase, kill) and the signal keys keep working. A signal that
 * kills popfetch meanwhile would leave the shell without echo, so the
 * fatal ones are caught: the handler restores the settings and raises
 * the signal again with its default action.
 */
#include "autoconf.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "prompt.h"

#define LINE_MAX_BYTES	4096

static const int fatal_sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
#define NFATAL (sizeof(fatal_sigs) / sizeof(fatal_sigs[0]))

/* The terminal being read and its settings before: for the handler. */
static volatile sig_atomic_t tty_fd = -1;
static struct termios tty_saved;

/* Async-signal-safe calls only. */
static void
on_signal(int sig)
{
	int fd = (int)tty_fd;

	if (fd >= 0) {
		tcsetattr(fd, TCSAFLUSH, &tty_saved);
		(void)!write(fd, "\n", 1);
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

bool
prompt_possible(void)
{
	int fd;

	if (!isatty(STDIN_FILENO))
		return false;
	if ((fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0)
		return false;
	close(fd);
	return true;
}

int
prompt_password(const char *prompt, char **out, struct err *e)
{
	struct sigaction sa, old[NFATAL];
	struct termios quiet;
	char *buf = NULL;
	size_t len = 0;
	bool nl = false, too_long = false, set = false;
	int fd, rc;
	ssize_t n;
	char c;

	*out = NULL;
	if ((fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0)
		return err_sys(e, EX_IOERR, errno, "cannot open /dev/tty");
	if (tcgetattr(fd, &tty_saved) != 0) {
		rc = err_sys(e, EX_IOERR, errno, "/dev/tty");
		close(fd);
		return rc;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < NFATAL; i++) {
		sigaction(fatal_sigs[i], NULL, &old[i]);
		if (old[i].sa_handler != SIG_IGN)
			sigaction(fatal_sigs[i], &sa, NULL);
	}
	quiet = tty_saved;
	quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHOE | ECHOK | ECHONL);
	quiet.c_lflag |= ICANON;
	tty_fd = fd;
	if (tcsetattr(fd, TCSAFLUSH, &quiet) != 0) {
		rc = err_sys(e, EX_IOERR, errno, "/dev/tty: cannot turn echo "
		    "off");
		goto out;
	}
	set = true;
	if (write(fd, prompt, strlen(prompt)) < 0) {
		rc = err_sys(e, EX_IOERR, errno, "/dev/tty");
		goto out;
	}
	buf = xmalloc(LINE_MAX_BYTES + 1);
	while ((n = read(fd, &c, 1)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = err_sys(e, EX_IOERR, errno, "/dev/tty");
			goto out;
		}
		if (c == '\n') {
			nl = true;
			break;
		}
		if (len < LINE_MAX_BYTES)
			buf[len++] = c;
		else
			too_long = true;
	}
	c = 0;
	if (len > 0 && buf[len - 1] == '\r')
		len--;
	if (too_long)
		rc = err_set(e, EX_CONFIG, "the password typed is longer than "
		    "%d bytes", LINE_MAX_BYTES);
	else if (len == 0)
		rc = err_set(e, EX_CONFIG, "no password typed%s", nl ? "" :
		    " (end of input)");
	else if (memchr(buf, '\0', len) != NULL)
		rc = err_set(e, EX_CONFIG, "the password typed holds a NUL "
		    "byte");
	else {
		*out = xstrndup(buf, len);
		rc = 0;
	}
out:
	if (set) {
		tcsetattr(fd, TCSAFLUSH, &tty_saved);
		(void)!write(fd, "\n", 1);
	}
	tty_fd = -1;
	for (size_t i = 0; i < NFATAL; i++)
		if (old[i].sa_handler != SIG_IGN)
			sigaction(fatal_sigs[i], &old[i], NULL);
	if (buf != NULL) {
		util_wipe(buf, LINE_MAX_BYTES + 1);
		free(buf);
	}
	close(fd);
	return rc;
}
