// SPDX-License-Identifier: GPL-2.0-only
/*
 * vrange: counters.  The global ones, since the module was loaded, are
 * read-only attributes of the misc device (/sys/class/misc/vrange/); an
 * area's come from VRANGE_GET_STATS and /proc/PID/fdinfo/FD.
 *
 * The unpinned-page count is the resident unpinned pages, a percpu_counter
 * of purge.c's that every pin and unpin changes anyway, plus the purged
 * unpinned pages, a percpu_counter here that only a purge, or a pin of
 * purged pages, changes: one counter update fewer per pin and unpin.  The
 * others change once per area or per purge and are plain atomics.  None
 * needs a lock of its own.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/device.h>
#include <linux/mm.h>
#include <linux/percpu_counter.h>
#include <linux/seq_file.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "compat.h"
#include "vrange.h"

static atomic_long_t vrange_areas;
/* Unpinned pages that were purged. */
static struct percpu_counter vrange_unpinned_purged;
static atomic64_t vrange_purged_pages;
static atomic64_t vrange_purge_events;
static atomic64_t vrange_shrinker_scans;
static atomic64_t vrange_shrinker_asked;
static atomic64_t vrange_shrinker_scanned;
static atomic64_t vrange_shrinker_freed;
static atomic64_t vrange_shrinker_handoffs;
static atomic64_t vrange_punch_waits;
static atomic64_t vrange_unpinned_swapped;

/**
 * vrange_stat_areas() - count areas created (+1) and released (-1)
 * @delta: +1 or -1
 */
void vrange_stat_areas(int delta)
{
	atomic_long_add(delta, &vrange_areas);
}

/**
 * vrange_stat_unpinned_purged() - count unpinned pages purged (> 0), or
 * purged pages pinned (< 0)
 * @pages: how many
 */
void vrange_stat_unpinned_purged(long pages)
{
	percpu_counter_add(&vrange_unpinned_purged, pages);
}

/**
 * vrange_stat_purged() - count a range purged
 * @pages: its size
 */
void vrange_stat_purged(unsigned long pages)
{
	atomic64_add(pages, &vrange_purged_pages);
	atomic64_inc(&vrange_purge_events);
}

/**
 * vrange_stat_shrinker() - count a call of the shrinker's scan
 * @asked: the pages reclaim asked it to scan
 * @scanned: the pages it scanned, that is purged (touched or not)
 * @freed: the pages it freed
 */
void vrange_stat_shrinker(unsigned long asked, unsigned long scanned,
			  unsigned long freed)
{
	atomic64_inc(&vrange_shrinker_scans);
	atomic64_add(asked, &vrange_shrinker_asked);
	atomic64_add(scanned, &vrange_shrinker_scanned);
	atomic64_add(freed, &vrange_shrinker_freed);
}

/**
 * vrange_stat_shrinker_handoff() - count a shrinker call that handed the
 * rest of its work to a worker, for an area it found busy
 */
void vrange_stat_shrinker_handoff(void)
{
	atomic64_inc(&vrange_shrinker_handoffs);
}

/**
 * vrange_stat_punch_wait() - count a wait for a purge's hole punch to end
 */
void vrange_stat_punch_wait(void)
{
	atomic64_inc(&vrange_punch_waits);
}

/**
 * vrange_stat_swapped() - count purged pages that were in swap
 * @pages: how many
 */
void vrange_stat_swapped(unsigned long pages)
{
	atomic64_add(pages, &vrange_unpinned_swapped);
}

/* ===================== one area ===================== */

/* Fill what needs no walk of the page cache; area->lock held. */
static void vrange_stats_fill(struct vrange_area *area, struct vrange_stats *st)
{
	u64 unpinned = (u64)area->unpinned << PAGE_SHIFT;

	st->size = area->size;
	st->pinned = PAGE_ALIGN((u64)area->size) - unpinned;
	st->unpinned = unpinned;
	st->purged = (u64)area->purged << PAGE_SHIFT;
	st->purge_events = area->purge_events;
	st->unpinned_swapped = (u64)READ_ONCE(area->unpinned_swapped) <<
			       PAGE_SHIFT;
}

/**
 * vrange_area_get_stats() - VRANGE_GET_STATS
 * @area: the area
 * @ustats: the user's struct vrange_stats
 *
 * Return: 0, -EFAULT or -EINTR.
 */
int vrange_area_get_stats(struct vrange_area *area,
			  struct vrange_stats __user *ustats)
{
	struct vrange_stats st;
	bool slots;
	int ret;

	memset(&st, 0, sizeof(st));
	/* Resident unpinned pages are counted in the tree. */
	ret = vrange_defer_flush(area);
	if (ret)
		return ret;
	if (mutex_lock_killable(&area->lock))
		return -EINTR;
	vrange_stats_fill(area, &st);
	slots = area->slots;
	mutex_unlock(&area->lock);
	if (slots)
		vrange_slots_stats(area, &st);
	/* Without area->lock, which reclaim only ever trylocks. */
	st.unpinned_resident = (u64)vrange_ranges_resident(area) << PAGE_SHIFT;
	if (copy_to_user(ustats, &st, sizeof(st)))
		return -EFAULT;
	return 0;
}

/**
 * vrange_show_fdinfo() - the area's lines in /proc/PID/fdinfo/FD
 * @m: the seq_file
 * @file: a /dev/vrange file
 */
void vrange_show_fdinfo(struct seq_file *m, struct file *file)
{
	struct vrange_area *area = file->private_data;
	char name[VRANGE_NAME_LEN];
	struct vrange_stats st;
	bool slots;
	u32 mode;

	/* Counted once filed; a failure (a kill) shows the rest. */
	vrange_defer_flush(area);
	/* Killed while waiting: the reader is gone, nothing is shown. */
	if (mutex_lock_killable(&area->lock))
		return;
	vrange_stats_fill(area, &st);
	strscpy(name, vrange_area_name(area), sizeof(name));
	mode = area->mode;
	slots = area->slots;
	mutex_unlock(&area->lock);
	if (slots)
		vrange_slots_stats(area, &st);

	seq_puts(m, "name:\t");
	/*
	 * A name may hold any byte but NUL: keep it on its line, and one
	 * blank-free token for tools that split at blanks (vrangectl ls).
	 */
	seq_escape(m, name, " \t\n\\");
	seq_printf(m, "\nsize:\t%llu\nmode:\t%s\n", st.size,
		   mode == VRANGE_MODE_SIGBUS ? "sigbus" : "zero");
	seq_printf(m, "pinned:\t%llu\nunpinned:\t%llu\npurged:\t%llu\n",
		   st.pinned, st.unpinned, st.purged);
}

/* ===================== sysfs ===================== */

static ssize_t areas_show(struct device *dev, struct device_attribute *attr,
			  char *buf)
{
	return sysfs_emit(buf, "%ld\n", atomic_long_read(&vrange_areas));
}
static DEVICE_ATTR_RO(areas);

static ssize_t unpinned_bytes_show(struct device *dev,
				   struct device_attribute *attr, char *buf)
{
	s64 pages;

	/* The global counters count ranges once they are filed. */
	vrange_defer_flush_all();
	pages = percpu_counter_sum(&vrange_unpinned_purged) +
		vrange_stat_resident_sum();
	if (pages < 0)
		pages = 0;

	return sysfs_emit(buf, "%llu\n", (u64)pages << PAGE_SHIFT);
}
static DEVICE_ATTR_RO(unpinned_bytes);

static ssize_t purged_bytes_show(struct device *dev,
				 struct device_attribute *attr, char *buf)
{
	u64 pages = atomic64_read(&vrange_purged_pages);

	return sysfs_emit(buf, "%llu\n", pages << PAGE_SHIFT);
}
static DEVICE_ATTR_RO(purged_bytes);

#define VRANGE_COUNTER_ATTR(name, counter)				\
static ssize_t name##_show(struct device *dev,				\
			   struct device_attribute *attr, char *buf)	\
{									\
	return sysfs_emit(buf, "%llu\n",				\
			  (u64)atomic64_read(&(counter)));		\
}									\
static DEVICE_ATTR_RO(name)

VRANGE_COUNTER_ATTR(purge_events, vrange_purge_events);
VRANGE_COUNTER_ATTR(shrinker_scans, vrange_shrinker_scans);
VRANGE_COUNTER_ATTR(shrinker_asked_pages, vrange_shrinker_asked);
VRANGE_COUNTER_ATTR(shrinker_scanned_pages, vrange_shrinker_scanned);
VRANGE_COUNTER_ATTR(shrinker_freed_pages, vrange_shrinker_freed);
VRANGE_COUNTER_ATTR(shrinker_handoffs, vrange_shrinker_handoffs);
VRANGE_COUNTER_ATTR(punch_waits, vrange_punch_waits);

static ssize_t unpinned_swapped_bytes_show(struct device *dev,
					   struct device_attribute *attr,
					   char *buf)
{
	u64 pages = atomic64_read(&vrange_unpinned_swapped);

	return sysfs_emit(buf, "%llu\n", pages << PAGE_SHIFT);
}
static DEVICE_ATTR_RO(unpinned_swapped_bytes);

/* 1 if range structs are charged to (and filed under) memory cgroups. */
static ssize_t memcg_kmem_show(struct device *dev,
			       struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%d\n", compat_memcg_kmem_online());
}
static DEVICE_ATTR_RO(memcg_kmem);

static struct attribute *vrange_attrs[] = {
	&dev_attr_areas.attr,
	&dev_attr_unpinned_bytes.attr,
	&dev_attr_purged_bytes.attr,
	&dev_attr_purge_events.attr,
	&dev_attr_shrinker_scans.attr,
	&dev_attr_shrinker_asked_pages.attr,
	&dev_attr_shrinker_scanned_pages.attr,
	&dev_attr_shrinker_freed_pages.attr,
	&dev_attr_shrinker_handoffs.attr,
	&dev_attr_punch_waits.attr,
	&dev_attr_unpinned_swapped_bytes.attr,
	&dev_attr_memcg_kmem.attr,
	NULL,
};

static const struct attribute_group vrange_attr_group = {
	.attrs = vrange_attrs,
};

/* The misc device's attribute groups (struct miscdevice.groups). */
const struct attribute_group *vrange_attr_groups[] = {
	&vrange_attr_group,
	NULL,
};

/**
 * vrange_stats_init() - set up the counters
 *
 * Return: 0 or -ENOMEM.
 */
int vrange_stats_init(void)
{
	return percpu_counter_init(&vrange_unpinned_purged, 0, GFP_KERNEL);
}

/**
 * vrange_stats_exit() - tear the counters down
 */
void vrange_stats_exit(void)
{
	percpu_counter_destroy(&vrange_unpinned_purged);
}
