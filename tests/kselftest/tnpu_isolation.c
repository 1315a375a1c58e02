// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * kselftest for isolation between open files and processes: handles, mmap
 * offsets and NPU addresses of one file mean nothing to another, and the
 * NPU's MMU keeps each context's jobs inside its own buffers.
 *
 * Copyright (C) 2026 The tnpu authors
 */
#include <pthread.h>
#include <stdatomic.h>
#include <sys/wait.h>

#include "tnpu_ksft.h"

#define PAGE 4096ULL
#define SECRET 0x5ec2e7u

FIXTURE(iso) {
	struct ks_ctx owner;
	struct drm_tnpu_bo_create secret;
	uint32_t *secret_cpu;
};

FIXTURE_SETUP(iso)
{
	char why[512];

	ASSERT_EQ(0, ks_ctx_open(&self->owner, DRM_TNPU_PRIORITY_NORMAL, why, sizeof(why)))
		TH_LOG("%s", why);
	ASSERT_EQ(0, tnpu_bo_new(self->owner.fd, 4 * PAGE, 0, &self->secret));
	self->secret_cpu = tnpu_bo_mmap(self->owner.fd, &self->secret);
	ASSERT_NE(MAP_FAILED, self->secret_cpu);
	for (size_t i = 0; i < 4 * PAGE / 4; i++)
		self->secret_cpu[i] = SECRET;
}

FIXTURE_TEARDOWN(iso)
{
	if (self->secret_cpu && self->secret_cpu != MAP_FAILED)
		munmap(self->secret_cpu, self->secret.size);
	ks_ctx_close(&self->owner);
}

/*
 * Everything another file may try with the owner's buffer; returns a bit
 * mask of what unexpectedly worked, so it can run in a child process.
 */
#define LEAK_INFO	(1 << 0)
#define LEAK_MMAP	(1 << 1)
#define LEAK_SUBMIT	(1 << 2)
#define LEAK_NPU_READ	(1 << 3)
#define LEAK_CLOSE	(1 << 5)
#define SETUP_FAILED	(1 << 6)

static int try_everything(const struct drm_tnpu_bo_create *victim)
{
	struct drm_tnpu_bo_info info = { .handle = victim->handle };
	struct drm_tnpu_bo_create mine;
	uint32_t handles[2];
	struct ks_ctx c;
	uint32_t *cpu;
	char why[256];
	int leaks = 0;
	void *map;

	if (ks_ctx_open(&c, DRM_TNPU_PRIORITY_NORMAL, why, sizeof(why)))
		return SETUP_FAILED;
	/* The first handle of this file is its command buffer; make the
	 * victim's handle number unused here too. */
	if (c.cmd.handle != victim->handle) {
		info.handle = victim->handle;
		if (tnpu_ioctl(c.fd, DRM_IOCTL_TNPU_BO_INFO, &info) != -ENOENT)
			leaks |= LEAK_INFO;
		handles[0] = c.cmd.handle;
		handles[1] = victim->handle;
		ks_emit_op(&c, TNPU_OP_NOP);
		if (ks_submit(&c, handles, 2, NULL) != -ENOENT)
			leaks |= LEAK_SUBMIT;
		c.len = 0;
		if (tnpu_gem_close(c.fd, victim->handle) != -EINVAL)
			leaks |= LEAK_CLOSE;
	}
	/* The owner's mmap offset is not this file's to map. */
	map = mmap(NULL, victim->size, PROT_READ, MAP_SHARED, c.fd, (off_t)victim->mmap_offset);
	if (map != MAP_FAILED) {
		leaks |= LEAK_MMAP;
		munmap(map, victim->size);
	}

	/* A job in this context using the owner's NPU addresses faults. */
	if (tnpu_bo_new(c.fd, 4 * PAGE, 0, &mine))
		return leaks | SETUP_FAILED;
	cpu = tnpu_bo_mmap(c.fd, &mine);
	if (cpu == MAP_FAILED)
		return leaks | SETUP_FAILED;
	handles[0] = c.cmd.handle;
	handles[1] = mine.handle;
	if (mine.npu_va != victim->npu_va) {
		ks_emit_copy(&c, mine.npu_va, victim->npu_va, PAGE);
		if (ks_submit(&c, handles, 2, NULL) ||
		    ks_wait(c.fd, c.sync, c.point, 10000))
			return leaks | SETUP_FAILED;
		if (cpu[0] == SECRET)
			leaks |= LEAK_NPU_READ;
		ks_emit_fill(&c, victim->npu_va, PAGE, 0xbad);
		if (ks_submit(&c, handles, 2, NULL) ||
		    ks_wait(c.fd, c.sync, c.point, 10000))
			return leaks | SETUP_FAILED;
	}
	munmap(cpu, mine.size);
	ks_ctx_close(&c);
	return leaks;
}

static void check_leaks(struct __test_metadata *_metadata, int leaks)
{
	EXPECT_EQ(0, leaks & SETUP_FAILED) TH_LOG("could not set up the second context");
	EXPECT_EQ(0, leaks & LEAK_INFO) TH_LOG("BO_INFO worked on a foreign handle");
	EXPECT_EQ(0, leaks & LEAK_SUBMIT) TH_LOG("SUBMIT accepted a foreign handle");
	EXPECT_EQ(0, leaks & LEAK_CLOSE) TH_LOG("GEM_CLOSE accepted a foreign handle");
	EXPECT_EQ(0, leaks & LEAK_MMAP) TH_LOG("mmap of a foreign offset worked");
	EXPECT_EQ(0, leaks & LEAK_NPU_READ) TH_LOG("a job read another context's memory");
}

static void check_secret_intact(struct __test_metadata *_metadata, const uint32_t *w)
{
	for (size_t i = 0; i < 4 * PAGE / 4; i++) {
		if (w[i] != SECRET) {
			EXPECT_EQ(SECRET, w[i]) TH_LOG("word %zu of the owner's buffer changed", i);
			return;
		}
	}
}

TEST_F(iso, second_file_in_same_process)
{
	check_leaks(_metadata, try_everything(&self->secret));
	check_secret_intact(_metadata, self->secret_cpu);
}

TEST_F(iso, forked_child_with_its_own_file)
{
	int status;
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		/* The inherited fd is the owner's file: leave it alone. */
		_exit(try_everything(&self->secret));
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	check_leaks(_metadata, WEXITSTATUS(status));
	check_secret_intact(_metadata, self->secret_cpu);
}

TEST_F(iso, memory_accounting_is_per_file)
{
	struct drm_tnpu_memory_info mine, other;
	char why[256];
	int fd2;

	fd2 = tnpu_ksft_open(why, sizeof(why));
	ASSERT_LE(0, fd2) TH_LOG("%s", why);
	ASSERT_EQ(0, tnpu_query(self->owner.fd, DRM_TNPU_QUERY_MEMORY, &mine, sizeof(mine)));
	ASSERT_EQ(0, tnpu_query(fd2, DRM_TNPU_QUERY_MEMORY, &other, sizeof(other)));
	EXPECT_EQ(self->owner.cmd.size + self->secret.size, mine.allocated);
	EXPECT_EQ(2ULL, mine.bo_count);
	EXPECT_EQ(0ULL, other.allocated);
	EXPECT_EQ(0ULL, other.bo_count);
	close(fd2);
}

TEST_F(iso, queues_are_per_file)
{
	struct drm_tnpu_queue_destroy d = { .queue_id = self->owner.queue };
	struct drm_tnpu_job_status st;
	char why[256];
	int fd2;

	fd2 = tnpu_ksft_open(why, sizeof(why));
	ASSERT_LE(0, fd2) TH_LOG("%s", why);
	EXPECT_EQ(-ENOENT, tnpu_ioctl(fd2, DRM_IOCTL_TNPU_QUEUE_DESTROY, &d));
	EXPECT_EQ(-ENOENT, ks_job_status(fd2, self->owner.queue, 1, &st));
	close(fd2);
}

/*
 * GEM_OPEN of a foreign object: the DRM core lets the opening file map the
 * object before tnpu refuses it (EALREADY). An mmap() of the owner's offset
 * landing in that window must still fail.
 */
#define RACE_SECONDS 3

struct race {
	int fd;
	uint32_t name;
	atomic_int stop;
	unsigned long opens, already, other_errors;
};

static void *race_gem_open(void *arg)
{
	struct race *r = arg;

	while (!atomic_load(&r->stop)) {
		struct drm_gem_open req = { .name = r->name };
		int ret = tnpu_ioctl(r->fd, DRM_IOCTL_GEM_OPEN, &req);

		r->opens++;
		if (ret == -EALREADY)
			r->already++;
		else if (ret)
			r->other_errors++;
		else
			tnpu_gem_close(r->fd, req.handle);
	}
	return NULL;
}

#define RACE_LEAK_MAP	(1 << 0)
#define RACE_LEAK_READ	(1 << 1)
#define RACE_OPENED	(1 << 2)
#define RACE_NO_RACE	(1 << 3)
#define RACE_SETUP	(1 << 4)

static int race_mmap_against_open(uint32_t name, const struct drm_tnpu_bo_create *victim)
{
	struct race r = { .name = name };
	unsigned long maps = 0;
	pthread_t thread;
	char why[256];
	uint64_t end;
	int leaks = 0;

	r.fd = tnpu_ksft_open(why, sizeof(why));
	if (r.fd < 0)
		return RACE_SETUP;
	if (pthread_create(&thread, NULL, race_gem_open, &r))
		return RACE_SETUP;
	end = ks_now_ns() + RACE_SECONDS * 1000000000ULL;
	while (ks_now_ns() < end && !(leaks & RACE_LEAK_MAP)) {
		uint32_t *map = mmap(NULL, victim->size, PROT_READ, MAP_SHARED, r.fd,
				     (off_t)victim->mmap_offset);

		maps++;
		if (map == MAP_FAILED)
			continue;
		leaks |= RACE_LEAK_MAP;
		if (map[0] == SECRET)
			leaks |= RACE_LEAK_READ;
		munmap(map, victim->size);
	}
	atomic_store(&r.stop, 1);
	pthread_join(thread, NULL);
	printf("# %lu GEM_OPENs (%lu EALREADY, %lu other errors), %lu mmaps in %u s\n",
	       r.opens, r.already, r.other_errors, maps, RACE_SECONDS);
	if (r.already + r.other_errors != r.opens)
		leaks |= RACE_OPENED;
	if (!r.already || !maps)
		leaks |= RACE_NO_RACE;
	close(r.fd);
	return leaks;
}

TEST_F(iso, refused_gem_open_never_maps)
{
	struct drm_gem_flink flink = { .handle = self->secret.handle };
	int status, leaks;
	pid_t pid;

	/* FLINK needs CAP_SYS_ADMIN on accel nodes; the kselftests run as root. */
	ASSERT_EQ(0, tnpu_ioctl(self->owner.fd, DRM_IOCTL_GEM_FLINK, &flink));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(race_mmap_against_open(flink.name, &self->secret));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	leaks = WEXITSTATUS(status);
	ASSERT_EQ(0, leaks & RACE_SETUP) TH_LOG("could not set up the second file");
	EXPECT_EQ(0, leaks & RACE_OPENED) TH_LOG("GEM_OPEN of a foreign buffer succeeded");
	EXPECT_EQ(0, leaks & RACE_NO_RACE) TH_LOG("the race did not run (no EALREADY or no mmap)");
	EXPECT_EQ(0, leaks & RACE_LEAK_MAP) TH_LOG("mmap of the owner's offset succeeded");
	EXPECT_EQ(0, leaks & RACE_LEAK_READ) TH_LOG("the second file read the owner's secret");
	check_secret_intact(_metadata, self->secret_cpu);
}

TEST_HARNESS_MAIN
