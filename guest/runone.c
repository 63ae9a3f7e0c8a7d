// SPDX-License-Identifier: GPL-2.0
/*
 * runone: run one test program in the guest and frame its output.
 *
 *   runone NAME SECONDS PROGRAM [ARGS...]
 *
 * Prints "### BEGIN NAME", then every line the program writes to stdout
 * or stderr with "| " in front, then "### END NAME rc=N secs=S" on a line
 * of its own.  Because the program's lines are all prefixed, nothing it
 * prints (an unterminated last line, say, or a line that looks like a
 * marker) can merge with or fake the framing that scripts/report.py reads.
 *
 * The program runs in a session of its own.  When it exits, or when its
 * time is up, every process left in that session is killed, so that no
 * child of one test lives on into the next.  On a timeout the blocked
 * tasks are dumped to the console first (sysrq-w), and rc is 137.  A
 * program that cannot be killed (stuck in the kernel) is given up on 30 s
 * later, so that the remaining programs still run.
 *
 * Exits 0 when the program exited 0 or 4 (KSFT_SKIP), 1 otherwise, so that
 * run-tests.sh can rerun a "retry=1" program.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int at_line_start = 1;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void put(const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(STDOUT_FILENO, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		buf += n;
		len -= n;
	}
}

/* Copy program output, "| " at the start of every line. */
static void forward(const char *buf, size_t len)
{
	while (len) {
		const char *nl = memchr(buf, '\n', len);
		size_t chunk = nl ? (size_t)(nl - buf) + 1 : len;

		if (at_line_start)
			put("| ", 2);
		put(buf, chunk);
		at_line_start = nl != NULL;
		buf += chunk;
		len -= chunk;
	}
}

/* Kill every process of session @sid once; returns how many were signalled. */
static int kill_session_once(pid_t sid)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d))) {
		char path[64], buf[512], *p;
		int pid = atoi(e->d_name), fd, i;
		ssize_t len;
		long s;

		if (pid <= 1 || pid == getpid())
			continue;
		snprintf(path, sizeof(path), "/proc/%d/stat", pid);
		fd = open(path, O_RDONLY);
		if (fd < 0)
			continue;
		len = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (len <= 0)
			continue;
		buf[len] = 0;
		/* pid (comm) state ppid pgrp session: skip past the comm. */
		p = strrchr(buf, ')');
		if (!p)
			continue;
		for (i = 0; i < 4 && p; i++)
			p = strchr(p + 1, ' ');
		if (!p)
			continue;
		s = strtol(p + 1, NULL, 10);
		if (s == sid && kill(pid, SIGKILL) == 0)
			n++;
	}
	closedir(d);
	return n;
}

/*
 * Kill the session until nothing is left in it: a process that forks while
 * /proc is scanned would otherwise leave children behind.  Bounded, since
 * a process stuck in the kernel never goes away.  (A child that made a
 * session of its own is out of reach.)
 */
static void kill_session(pid_t sid)
{
	for (int i = 0; i < 50 && kill_session_once(sid); i++)
		usleep(20000);
}

static void sysrq(char c)
{
	int fd = open("/proc/sysrq-trigger", O_WRONLY);

	if (fd >= 0) {
		if (write(fd, &c, 1) != 1)
			perror("runone: sysrq");
		close(fd);
	}
}

int main(int argc, char **argv)
{
	double start, deadline, drain_until = 0;
	int pfd[2], status = 0, rc = -1, timed_out = 0;
	char buf[4096], line[256];
	const char *name;
	pid_t child;

	if (argc < 4) {
		fprintf(stderr, "usage: runone NAME SECONDS PROGRAM [ARGS...]\n");
		return 2;
	}
	name = argv[1];
	snprintf(line, sizeof(line), "### BEGIN %s\n", name);
	put(line, strlen(line));
	start = now();
	deadline = start + atof(argv[2]);
	if (pipe2(pfd, O_CLOEXEC)) {
		perror("runone: pipe");
		return 2;
	}
	child = fork();
	if (child < 0) {
		perror("runone: fork");
		return 2;
	}
	if (child == 0) {
		int null = open("/dev/null", O_RDONLY);

		setsid();
		dup2(null, STDIN_FILENO);
		dup2(pfd[1], STDOUT_FILENO);
		dup2(pfd[1], STDERR_FILENO);
		execv(argv[3], argv + 3);
		dprintf(STDERR_FILENO, "runone: exec %s: %s\n", argv[3],
			strerror(errno));
		_exit(127);
	}
	close(pfd[1]);

	for (;;) {
		struct pollfd p = { .fd = pfd[0], .events = POLLIN };
		double t = now();
		int ready;

		if (rc < 0 && waitpid(child, &status, WNOHANG) == child) {
			rc = WIFEXITED(status) ? WEXITSTATUS(status) :
			     128 + WTERMSIG(status);
			/* Leftover children may hold the pipe open. */
			kill_session(child);
			drain_until = t + 2;
		}
		if (rc < 0 && t >= deadline && !timed_out) {
			timed_out = 1;
			snprintf(line, sizeof(line),
				 "%s### TIMEOUT %s after %.0f s: sysrq-w lists any blocked tasks on the console\n",
				 at_line_start ? "" : "\n", name, t - start);
			put(line, strlen(line));
			at_line_start = 1;
			sysrq('w');
			kill_session(child);
		}
		if (drain_until && t >= drain_until)
			break;
		if (rc < 0 && timed_out && t >= deadline + 30) {
			snprintf(line, sizeof(line),
				 "%s### TIMEOUT %s: the program did not die; going on without it\n",
				 at_line_start ? "" : "\n", name);
			put(line, strlen(line));
			at_line_start = 1;
			rc = 137;
			break;
		}
		ready = poll(&p, 1, 200);
		if (ready > 0) {
			ssize_t n = read(pfd[0], buf, sizeof(buf));

			if (n > 0)
				forward(buf, n);
			else if (n == 0 && rc >= 0)
				break;
			else if (n == 0)
				usleep(100000);	/* EOF, child not reaped yet */
		}
	}
	if (!at_line_start)
		put("\n", 1);
	snprintf(line, sizeof(line), "### END %s rc=%d secs=%.0f\n", name, rc,
		 now() - start);
	put(line, strlen(line));
	return rc == 0 || rc == 4 ? 0 : 1;
}
