// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * tnpu-top: every client of every tnpu device, refreshed live.
 *
 * Everything comes from the DRM fdinfo of the clients' files
 * (Documentation/gpu/drm-usage-stats.rst, and tnpu's drm-tnpu-* keys): the
 * processes holding a /dev/accel/accel* file of a tnpu device are found in
 * /proc/<pid>/fd, and each file's /proc/<pid>/fdinfo/<fd> says its NPU time,
 * memory, queues and job counts. Busy and jobs/s are differences between two
 * samples, an interval apart. No ioctl: opening the device would make
 * tnpu-top a client itself.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include <ctype.h>
#include <curses.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define ACCEL_PREFIX	"/dev/accel/accel"
#define MAX_DEVICES	64

struct client {
	int minor;		/* accel<minor> */
	uint64_t id;		/* drm-client-id: one per open file of the device */
	int pid;		/* lowest pid holding it */
	int procs;		/* processes holding it (fork, fd passing) */
	int last_pid;		/* the last of them seen */
	char comm[32];
	uint64_t engine_ns;	/* drm-engine-npu */
	uint64_t mem_total;	/* drm-total-memory, bytes */
	uint64_t mem_resident;	/* drm-resident-memory, bytes */
	char queues[64];	/* priorities of its queues, in queue order */
	uint64_t submitted, completed, failed, resets;
	int banned;
	uint64_t t_ns;		/* CLOCK_MONOTONIC when its fdinfo was read */
	/* From the previous sample, when the client was in it. */
	int has_prev;
	double busy_pct, jobs_s;
};

struct sample {
	struct client *c;
	size_t n, cap;
	int minors[MAX_DEVICES];	/* tnpu devices present */
	int n_minors;
	int unreadable;			/* processes whose fds could not be read */
};

static volatile sig_atomic_t stop;
/* Prefix of /proc and /sys: TNPU_TOP_ROOT, for tests on a made-up tree. */
static const char *root = "";

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Whether /sys/class/accel/accel<minor> is driven by tnpu.ko. */
static int is_tnpu_minor(int minor)
{
	char path[PATH_MAX], target[PATH_MAX];
	const char *base;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/sys/class/accel/accel%d/device/driver", root, minor);
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return 0;
	target[n] = 0;
	base = strrchr(target, '/');
	return !strcmp(base ? base + 1 : target, "tnpu");
}

static int cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

static void find_devices(struct sample *s)
{
	char path[PATH_MAX];
	struct dirent *e;
	DIR *d;

	s->n_minors = 0;
	snprintf(path, sizeof(path), "%s/sys/class/accel", root);
	d = opendir(path);
	if (!d)
		return;
	while ((e = readdir(d)) && s->n_minors < MAX_DEVICES) {
		int minor;
		char end;

		if (sscanf(e->d_name, "accel%d%c", &minor, &end) != 1)
			continue;
		if (is_tnpu_minor(minor))
			s->minors[s->n_minors++] = minor;
	}
	closedir(d);
	qsort(s->minors, s->n_minors, sizeof(int), cmp_int);
}

static int has_minor(const struct sample *s, int minor)
{
	for (int i = 0; i < s->n_minors; i++)
		if (s->minors[i] == minor)
			return 1;
	return 0;
}

/* "123 KiB" and the like, in bytes. */
static uint64_t parse_bytes(const char *v)
{
	char *end;
	uint64_t n = strtoull(v, &end, 10);

	while (*end == ' ' || *end == '\t')
		end++;
	if (!strncmp(end, "KiB", 3))
		n <<= 10;
	else if (!strncmp(end, "MiB", 3))
		n <<= 20;
	return n;
}

static void append_queue(struct client *c, const char *prio)
{
	size_t len = strlen(c->queues);

	snprintf(c->queues + len, sizeof(c->queues) - len, "%s%s", len ? "," : "", prio);
}

/*
 * Parse the fdinfo at @path into @c; returns 1 when it is a tnpu client.
 * Unknown keys are skipped: the driver may add some.
 */
static int read_fdinfo(const char *path, struct client *c)
{
	char line[256];
	int tnpu = 0, has_id = 0;
	FILE *f;

	f = fopen(path, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':'), *v;

		if (!colon)
			continue;
		*colon = 0;
		v = colon + 1;
		while (*v == ' ' || *v == '\t')
			v++;
		v[strcspn(v, "\n")] = 0;
		if (!strcmp(line, "drm-driver"))
			tnpu = !strcmp(v, "tnpu");
		else if (!strcmp(line, "drm-client-id"))
			has_id = 1, c->id = strtoull(v, NULL, 10);
		else if (!strcmp(line, "drm-engine-npu"))
			c->engine_ns = strtoull(v, NULL, 10);
		else if (!strcmp(line, "drm-total-memory"))
			c->mem_total = parse_bytes(v);
		else if (!strcmp(line, "drm-resident-memory"))
			c->mem_resident = parse_bytes(v);
		else if (!strncmp(line, "drm-tnpu-queue-", 15) && strstr(line, "-priority"))
			append_queue(c, v);
		else if (!strcmp(line, "drm-tnpu-jobs-submitted"))
			c->submitted = strtoull(v, NULL, 10);
		else if (!strcmp(line, "drm-tnpu-jobs-completed"))
			c->completed = strtoull(v, NULL, 10);
		else if (!strcmp(line, "drm-tnpu-jobs-failed"))
			c->failed = strtoull(v, NULL, 10);
		else if (!strcmp(line, "drm-tnpu-resets"))
			c->resets = strtoull(v, NULL, 10);
		else if (!strcmp(line, "drm-tnpu-banned"))
			c->banned = atoi(v);
	}
	fclose(f);
	return tnpu && has_id;
}

static struct client *find_client(struct sample *s, int minor, uint64_t id)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->c[i].minor == minor && s->c[i].id == id)
			return &s->c[i];
	return NULL;
}

static int add_client(struct sample *s, const struct client *c)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		struct client *n = realloc(s->c, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		s->c = n;
		s->cap = cap;
	}
	s->c[s->n++] = *c;
	return 0;
}

static void read_comm(int pid, char *comm, size_t size)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(comm, size, "?");
	snprintf(path, sizeof(path), "%s/proc/%d/comm", root, pid);
	f = fopen(path, "r");
	if (!f)
		return;
	if (fgets(comm, (int)size, f))
		comm[strcspn(comm, "\n")] = 0;
	fclose(f);
}

/* The tnpu clients among @pid's open files. */
static int scan_pid(struct sample *s, int pid)
{
	char path[PATH_MAX], link[PATH_MAX], info[PATH_MAX];
	struct dirent *e;
	DIR *d;

	snprintf(path, sizeof(path), "%s/proc/%d/fd", root, pid);
	d = opendir(path);
	if (!d) {
		/* Gone meanwhile, or another user's (not root). */
		if (errno == EACCES)
			s->unreadable++;
		return 0;
	}
	while ((e = readdir(d))) {
		struct client c = { 0 }, *old;
		int minor, fd;
		ssize_t n;
		char end;

		if (sscanf(e->d_name, "%d%c", &fd, &end) != 1)
			continue;
		n = readlinkat(dirfd(d), e->d_name, link, sizeof(link) - 1);
		if (n < 0)
			continue;
		link[n] = 0;
		if (strncmp(link, ACCEL_PREFIX, strlen(ACCEL_PREFIX)) ||
		    sscanf(link + strlen(ACCEL_PREFIX), "%d%c", &minor, &end) != 1 ||
		    !has_minor(s, minor))
			continue;
		snprintf(info, sizeof(info), "%s/proc/%d/fdinfo/%d", root, pid, fd);
		if (!read_fdinfo(info, &c))
			continue;
		/*
		 * Rates divide by the time between two reads of this file: a scan
		 * of /proc takes long enough (many processes, a slow machine) for
		 * the sample's start to be a poor stand-in.
		 */
		c.t_ns = now_ns();
		/* A file shared by fds or processes is one client: count it once. */
		old = find_client(s, minor, c.id);
		if (old) {
			if (old->last_pid != pid)
				old->procs++;
			old->last_pid = pid;
			continue;
		}
		c.minor = minor;
		c.pid = pid;
		c.last_pid = pid;
		c.procs = 1;
		read_comm(pid, c.comm, sizeof(c.comm));
		if (add_client(s, &c)) {
			closedir(d);
			return -ENOMEM;
		}
	}
	closedir(d);
	return 0;
}

static int take_sample(struct sample *s)
{
	char path[PATH_MAX];
	struct dirent *e;
	DIR *d;
	int ret = 0;

	s->n = 0;
	s->unreadable = 0;
	find_devices(s);
	if (!s->n_minors)
		return 0;
	snprintf(path, sizeof(path), "%s/proc", root);
	d = opendir(path);
	if (!d)
		return -errno;
	while (!ret && (e = readdir(d))) {
		int pid;
		char end;

		if (sscanf(e->d_name, "%d%c", &pid, &end) == 1)
			ret = scan_pid(s, pid);
	}
	closedir(d);
	return ret;
}

/* Rates of @cur's clients against @prev, taken before. */
static void compute_rates(struct sample *cur, const struct sample *prev)
{
	for (size_t i = 0; i < cur->n; i++) {
		struct client *c = &cur->c[i];
		const struct client *p = NULL;
		double dt;

		for (size_t j = 0; j < prev->n; j++)
			if (prev->c[j].minor == c->minor && prev->c[j].id == c->id)
				p = &prev->c[j];
		dt = p ? (double)(c->t_ns - p->t_ns) : 0;
		c->has_prev = dt > 0;
		if (!c->has_prev)
			continue;
		c->busy_pct = c->engine_ns >= p->engine_ns ?
			100.0 * (double)(c->engine_ns - p->engine_ns) / dt : 0;
		c->jobs_s = 1e9 * (double)(c->completed + c->failed - p->completed - p->failed) / dt;
	}
}

static int cmp_client(const void *a, const void *b)
{
	const struct client *x = a, *y = b;

	if (x->minor != y->minor)
		return x->minor - y->minor;
	if (x->busy_pct != y->busy_pct)
		return x->busy_pct < y->busy_pct ? 1 : -1;
	return x->pid - y->pid;
}

/* ---- output: the same lines on a screen or on stdout --------------------- */

struct out {
	int curses;
	int row, rows, cols;
};

static void out_line(struct out *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void out_line(struct out *o, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (!o->curses) {
		puts(buf);
		return;
	}
	if (o->row >= o->rows)
		return;
	mvaddnstr(o->row++, 0, buf, o->cols);
	clrtoeol();
}

static double mib(uint64_t bytes)
{
	return (double)bytes / 1048576.0;
}

static void show(struct out *o, const struct sample *s, double interval)
{
	char clock[16];
	time_t t = time(NULL);
	struct tm tm;

	localtime_r(&t, &tm);
	strftime(clock, sizeof(clock), "%H:%M:%S", &tm);
	out_line(o, "tnpu-top %s, every %.1f s: %d device%s, %zu client%s%s", clock, interval,
		 s->n_minors, s->n_minors == 1 ? "" : "s", s->n, s->n == 1 ? "" : "s",
		 s->unreadable ? " (some processes unreadable: run as root to see all)" : "");
	for (int i = 0; i < s->n_minors; i++) {
		double busy = 0, jobs = 0;
		uint64_t mem = 0, resets = 0;
		int clients = 0;

		for (size_t j = 0; j < s->n; j++) {
			const struct client *c = &s->c[j];

			if (c->minor != s->minors[i])
				continue;
			clients++;
			busy += c->busy_pct;
			jobs += c->jobs_s;
			mem += c->mem_total;
			resets = c->resets > resets ? c->resets : resets;
		}
		out_line(o, "accel%d (tnpu): %d client%s, NPU busy %5.1f%%, memory %.1f MiB, "
			 "%.1f jobs/s", s->minors[i], clients, clients == 1 ? "" : "s", busy,
			 mib(mem), jobs);
	}
	out_line(o, "%s", "");
	out_line(o, "%7s %-15s %-7s %6s %-16s %6s %9s %9s %8s %8s %6s %6s", "PID", "COMMAND",
		 "DEVICE", "CLIENT", "QUEUES", "BUSY%", "MEM_MIB", "RES_MIB", "JOBS/S", "JOBS",
		 "FAILED", "RESETS");
	for (size_t j = 0; j < s->n; j++) {
		const struct client *c = &s->c[j];
		char dev[16], busy[16], jobs[16];

		snprintf(dev, sizeof(dev), "accel%d", c->minor);
		if (c->has_prev) {
			snprintf(busy, sizeof(busy), "%.1f", c->busy_pct);
			snprintf(jobs, sizeof(jobs), "%.1f", c->jobs_s);
		} else {
			snprintf(busy, sizeof(busy), "-");
			snprintf(jobs, sizeof(jobs), "-");
		}
		out_line(o, "%7d %-15.15s %-7s %6" PRIu64 " %-16.16s %6s %9.1f %9.1f %8s %8" PRIu64
			 " %6" PRIu64 " %6" PRIu64 "%s%s", c->pid, c->comm, dev, c->id,
			 c->queues[0] ? c->queues : "-", busy, mib(c->mem_total),
			 mib(c->mem_resident), jobs, c->completed, c->failed, c->resets,
			 c->banned ? " banned" : "",
			 c->procs > 1 ? " (shared)" : "");
	}
	if (!s->n)
		out_line(o, "(no clients: no process has a tnpu device open)");
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: tnpu-top [-b] [-d SECONDS] [-n ITERATIONS]\n"
		"Shows every client of every tnpu device (kernel driver; the in-process\n"
		"backend has no fdinfo): process, queue priorities, NPU busy %% over the\n"
		"interval, memory, jobs/s, failures and resets, from /proc/*/fdinfo.\n"
		"  -d SECONDS     refresh interval (default 2; 0.1 to 3600)\n"
		"  -n ITERATIONS  stop after that many refreshes (default: until q or ^C)\n"
		"  -b             batch mode: plain text on stdout, no screen handling\n"
		"  -h             this text\n"
		"Keys on the screen: q quits.\n");
}

/* Sleep @ns, or until q on the screen; returns 1 when asked to quit. */
static int wait_interval(int curses, uint64_t ns)
{
	uint64_t end = now_ns() + ns;

	while (!stop) {
		uint64_t t = now_ns();

		if (t >= end)
			return 0;
		if (curses) {
			int ms = (int)((end - t) / 1000000) + 1, ch;

			timeout(ms > 200 ? 200 : ms);
			ch = getch();
			if (ch == 'q' || ch == 'Q')
				return 1;
		} else {
			struct timespec ts = { .tv_sec = (time_t)((end - t) / 1000000000ull),
					       .tv_nsec = (long)((end - t) % 1000000000ull) };

			nanosleep(&ts, NULL);
		}
	}
	return 1;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "batch", no_argument, NULL, 'b' },
		{ "delay", required_argument, NULL, 'd' },
		{ "iterations", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct sample samples[2] = { 0 };
	struct sample *prev = &samples[0], *cur = &samples[1];
	double interval = 2;
	long iterations = -1;
	int batch = 0, opt, ret = 0;
	struct sigaction sa = { 0 };
	struct out o = { 0 };
	char *end;

	if (getenv("TNPU_TOP_ROOT"))
		root = getenv("TNPU_TOP_ROOT");
	while ((opt = getopt_long(argc, argv, "bd:n:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'b':
			batch = 1;
			break;
		case 'd':
			errno = 0;
			interval = strtod(optarg, &end);
			if (errno || end == optarg || *end || !(interval >= 0.1 && interval <= 3600)) {
				fprintf(stderr, "tnpu-top: -d needs seconds from 0.1 to 3600, not '%s'\n",
					optarg);
				return 2;
			}
			break;
		case 'n':
			errno = 0;
			iterations = strtol(optarg, &end, 10);
			if (errno || end == optarg || *end || iterations < 1) {
				fprintf(stderr, "tnpu-top: -n needs a positive number of iterations, "
					"not '%s'\n", optarg);
				return 2;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "tnpu-top: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}

	/* No SA_RESTART: a signal also ends a read that blocks. */
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	ret = take_sample(prev);
	if (ret) {
		fprintf(stderr, "tnpu-top: cannot read /proc: %s\n", strerror(-ret));
		return 1;
	}
	if (!prev->n_minors) {
		fprintf(stderr, "tnpu-top: no tnpu device (no /sys/class/accel/accel* bound to "
			"the tnpu driver: is tnpu.ko loaded?)\n");
		return 1;
	}

	if (!batch) {
		if (!isatty(STDOUT_FILENO)) {
			fprintf(stderr, "tnpu-top: stdout is not a terminal: use -b for text\n");
			return 2;
		}
		initscr();
		cbreak();
		noecho();
		curs_set(0);
		keypad(stdscr, TRUE);
		o.curses = 1;
	}

	for (long i = 0; iterations < 0 || i < iterations; i++) {
		struct sample *t;

		if (wait_interval(o.curses, (uint64_t)(interval * 1e9)))
			break;
		if (take_sample(cur)) {
			ret = 1;
			break;
		}
		compute_rates(cur, prev);
		qsort(cur->c, cur->n, sizeof(*cur->c), cmp_client);
		if (o.curses) {
			getmaxyx(stdscr, o.rows, o.cols);
			o.row = 0;
			erase();
		} else if (i) {
			putchar('\n');
		}
		show(&o, cur, interval);
		if (o.curses)
			refresh();
		else
			fflush(stdout);
		t = prev;
		prev = cur;
		cur = t;
	}
	if (o.curses)
		endwin();
	if (ret)
		fprintf(stderr, "tnpu-top: out of memory\n");
	free(samples[0].c);
	free(samples[1].c);
	return ret;
}
