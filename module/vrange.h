/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vrange: internal interfaces between the module's files.
 *
 * main.c	the misc device, its file operations and ioctl dispatch
 * area.c	an area's life, name, size, protection and shmem backing
 * ranges.c	pin state: the tree of unpinned ranges of one area
 * purge.c	the LRU of unpinned ranges, the shrinker, hole punching
 * stats.c	counters: global ones in sysfs, an area's by ioctl and fdinfo
 * batch.c	VRANGE_BATCH: many ranges in one call, all or nothing
 * slots.c	slots: state words pinned and unpinned by user space, purged
 *		by the shrinker through the kernel's mapping of them
 * defer.c	the lock-free path of a small unpin and of the pin that
 *		undoes it: a range kept out of the tree and the LRU for a
 *		few ms
 *
 * The locking rules are written at the top of area.c.
 */
#ifndef VRANGE_INTERNAL_H
#define VRANGE_INTERNAL_H

#include <linux/atomic.h>
#include <linux/fs.h>
#include <linux/bits.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/rbtree.h>
#include <linux/refcount.h>
#include <linux/seq_file.h>
#include <linux/spinlock.h>
#include <linux/sysfs.h>
#include <linux/workqueue.h>
#include <linux/types.h>
#include <linux/vrange.h>

struct shrink_control;

/*
 * The prefix + the user's name: what /proc/PID/maps shows.  Both prefixes
 * have the same length, so the name starts at VRANGE_NAME_PREFIX_LEN in
 * either personality.
 */
#define VRANGE_NAME_PREFIX	"dev/vrange/"
#define VRANGE_ASHMEM_PREFIX	"dev/ashmem/"
#define VRANGE_NAME_PREFIX_LEN	(sizeof(VRANGE_NAME_PREFIX) - 1)
#define VRANGE_FULL_NAME_LEN	(VRANGE_NAME_PREFIX_LEN + VRANGE_NAME_LEN)

/*
 * A struct that the list_lru files under a node must be on that node:
 * kmem_cache_alloc_node() only prefers it, and a node short of memory would
 * have its structs filed where its reclaim never looks.  So the node alone
 * first, reclaiming on it once, then (with GFP_KERNEL_ACCOUNT) any node:
 * ranges.c's vrange_spare_fill(), slots.c's items.
 */
#define VRANGE_GFP_THISNODE \
	(GFP_KERNEL_ACCOUNT | __GFP_THISNODE | __GFP_NORETRY | __GFP_NOWARN)

/**
 * struct vrange_area - the buffer one open() of /dev/vrange creates
 * @lock:	protects every field below but @ref, and every range of the area
 * @state_lock:	taken inside @lock by every change to the shape of @ranges or
 *		to a range's purged prefix, so that the fault path can look
 *		up "purged and unpinned" without @lock (SIGBUS mode)
 * @mode:	VRANGE_MODE_ZERO or VRANGE_MODE_SIGBUS; fixed once @file exists;
 *		written and read as @size
 * @ranges:	the unpinned ranges, by start page; they never overlap
 * @file:	the shmem backing file; NULL until the first mmap, then fixed
 * @size:	size in bytes; fixed once @file exists; written under @lock
 *		(WRITE_ONCE), read without it by VRANGE_GET_SIZE
 * @prot_mask:	PROT_* bits mmap may use; bits can only be removed; written
 *		and read as @size
 * @unpinned:	pages in @ranges, purged or not
 * @purged:	pages in @ranges that were purged
 * @purge_events: ranges of the area purged since it was created
 * @id:		a number for tracepoints, unique since the module was loaded
 * @punches:	holes being punched now (ranges with @punching set); raised
 *		under @lock and @state_lock, lowered under @state_lock alone
 * @punch_seq:	bumped under @state_lock as each punch ends (purge.c)
 * @unpinned_swapped: pages that were in swap, not in memory, when their
 *		range or slot was purged; raised under @state_lock alone, read
 *		with READ_ONCE()
 * @ashmem:	opened through the ashmem node: ashmem's names, SET_NAME
 *		truncates and SET_SIZE takes 0; fixed at open, read without
 *		@lock
 * @cache_gen:	the generation of @cache_memcg: range structs charged to it
 *		carry it in their @gen; 0 until the first struct is tagged,
 *		and it stops at U16_MAX (ranges.c)
 * @cache:	a free range struct, charged to @cache_memcg, kept by a pin
 *		that freed a range for the next unpin that needs one; NULL if
 *		none
 * @cache_memcg: the memcg the area's latest range structs were charged to,
 *		with a reference; NULL with memcg disabled, or once it was
 *		found offline (then @cache_gen moved on)
 * @defer_word: the pages a pin left with no range, or a small unpinned range
 *		not yet in @ranges or on its LRU, with no lock (defer.c);
 *		while it is not 0, @cache holds a struct kept for it
 * @defer_mm:	the mm of the task whose pin published @defer_word with
 *		no page in memory at the run: a cookie, never dereferenced
 *		(defer.c)
 * @defer_flags: VRANGE_DEFER_LISTED: on defer.c's list, which holds a
 *		reference (@ref)
 * @defer_link:	on that list; under defer.c's lock
 * @slots:	the area's slots (slots.c), or NULL; set under @lock before
 *		the first mmap, then fixed until the area is freed
 * @punch_later: whole ranges, marked purged, whose locked pages the
 *		shrinker left to @punch_work (purge.c); under @state_lock
 * @punch_work:	punches them and ends their punches
 * @reclaim_want: pages a shrinker call still wanted when it ended, having
 *		passed the area by because @lock was taken; @reclaim_work
 *		goes on with that call, waiting for @lock (purge.c); 0 if
 *		none is asked for.  Under @state_lock, as are the next two.
 * @reclaim_nid: the node that call was for
 * @reclaim_memcg: the memcg it was for, with a reference, or NULL
 * @reclaim_work: the rest of that call
 * @ref:	one for the open file description, one for each purge in flight
 *		(and each queued run of @punch_work or @reclaim_work), one
 *		for each SIGBUS-mode vma, one for each file mapping the state
 *		pages (slots.c)
 * @full_name:	VRANGE_NAME_PREFIX (VRANGE_ASHMEM_PREFIX for @ashmem)
 *		followed by the name, which is empty for an unnamed @ashmem
 *		area
 *
 * Lives from open() until the last fput() of its file and the end of any
 * purge that holds a reference; the backing file may outlive it in
 * mappings.
 */
struct vrange_area {
	struct mutex lock;		/* rules at the top of area.c */
	spinlock_t state_lock;
	u32 mode;
	struct rb_root ranges;
	struct file *file;
	size_t size;
	unsigned long prot_mask;
	unsigned long unpinned;
	unsigned long purged;
	unsigned long purge_events;
	u64 id;
	unsigned int punches;
	unsigned int punch_seq;
	unsigned long unpinned_swapped;
	bool ashmem;
	u16 cache_gen;
	struct vrange_range *cache;
	struct mem_cgroup *cache_memcg;
	atomic64_t defer_word;
	const struct mm_struct *defer_mm;
	unsigned long defer_flags;
	struct list_head defer_link;
	struct vrange_slotset *slots;
	struct list_head punch_later;
	struct work_struct punch_work;
	unsigned long reclaim_want;
	int reclaim_nid;
	struct mem_cgroup *reclaim_memcg;
	struct work_struct reclaim_work;
	refcount_t ref;
	char full_name[VRANGE_FULL_NAME_LEN];
};

/*
 * Purge levels, one LRU each: reclaim empties a lower level before it
 * touches a higher one (VRANGE_PURGE_FIRST, normal, VRANGE_PURGE_LAST).
 */
enum vrange_level {
	VRANGE_LEVEL_FIRST,
	VRANGE_LEVEL_NORMAL,
	VRANGE_LEVEL_LAST,
	VRANGE_LEVELS
};

/* The purge level VRANGE_PURGE_FIRST or VRANGE_PURGE_LAST asks for. */
static inline enum vrange_level vrange_flags_level(u32 flags)
{
	if (flags & VRANGE_PURGE_FIRST)
		return VRANGE_LEVEL_FIRST;
	if (flags & VRANGE_PURGE_LAST)
		return VRANGE_LEVEL_LAST;
	return VRANGE_LEVEL_NORMAL;
}

/**
 * struct vrange_range - a run of unpinned pages that were unpinned together
 * @node:	in the area's @ranges tree
 * @lru:	in the LRU while resident; on a purge's private list, or its
 *		area's @punch_later, while its hole is punched whole; free
 *		otherwise
 * @area:	the owner
 * @start:	first page
 * @end:	one past the last page
 * @purged_end:	pages [@start, @purged_end) were discarded and stay so until
 *		pinned; the range is resident, and on its LRU, while
 *		@purged_end < @end
 * @level:	its enum vrange_level: which LRU it is on
 * @partial:	reclaim may purge part of it (VRANGE_PURGE_PARTIAL), from
 *		@purged_end on; otherwise all of it at once
 * @punching:	a purge marked pages of it purged and is punching their hole
 *		without @area->lock; set under @area->lock and
 *		@area->state_lock, cleared under @area->state_lock alone.
 *		Nothing may change or free the range while it is set.
 * @gen:	the @area->cache_gen of the memcg the struct is charged to, or
 *		0 if not known; fixed once not 0 (ranges.c)
 *
 * Protected by @area->lock; its LRU membership also by the list_lru lock.
 */
struct vrange_range {
	struct rb_node node;
	struct list_head lru;
	struct vrange_area *area;
	pgoff_t start;
	pgoff_t end;
	pgoff_t purged_end;
	u8 level;
	bool partial;
	bool punching;
	u16 gen;
};

/**
 * struct vrange_spare - range structs allocated before taking area->lock
 * @list:	the structs, linked through their @lru
 * @nr:		how many are on @list
 * @want:	how many the last attempt needed, when it returned -EAGAIN
 * @nid:	the node of the memory the ranges will cover, or NUMA_NO_NODE
 * @memcg:	the memcg charged for that memory, with a reference, or NULL
 *		for the caller's
 * @charged:	the memcg the structs on @list are charged to, with a
 *		reference (NULL with memcg disabled, or before the first fill)
 * @mixed:	the fills charged different memcgs: @charged is not every
 *		struct's
 *
 * Every struct on @list may join any level's LRU: the memcg it is charged
 * to has its lists in all of them (vrange_ranges_spare()).
 */
struct vrange_spare {
	struct list_head list;
	unsigned int nr;
	unsigned int want;
	int nid;
	struct mem_cgroup *memcg;
	struct mem_cgroup *charged;
	bool mixed;
};

static inline unsigned long vrange_range_pages(const struct vrange_range *r)
{
	return r->end - r->start;
}

/* Pages of @r not purged: while there are any, @r is on its LRU. */
static inline unsigned long vrange_range_resident(const struct vrange_range *r)
{
	return r->end - r->purged_end;
}

/**
 * struct vrange_op_result - what a pin, unpin or status found, in pages
 * @unpinned:	status: pages of the range that are unpinned; 0 otherwise
 * @purged:	pin: pages of the range that had been purged; status: pages
 *		of the range unpinned and purged; 0 for an unpin
 *
 * vrange_op_locked() sets every field for every op; vrange_range64_out()
 * turns it into struct vrange_range64's out fields.
 */
struct vrange_op_result {
	unsigned long unpinned;
	unsigned long purged;
};

/*
 * Not a user flag: VRANGE_BATCH passes it to vrange_op_locked() with an
 * entry's flags, so that a pin of a slot area leaves its TREE slots TREE
 * until the batch ends (slots.c, vrange_slots_settle()).  Above every
 * VRANGE_PURGE_* flag, which vrange_range64_check() allows alone.
 */
#define VRANGE_OP_BATCH		BIT(31)

/* area.c */
struct vrange_area *vrange_area_create(bool ashmem);
void vrange_area_release(struct vrange_area *area);
void vrange_area_put(struct vrange_area *area);
int vrange_area_set_name(struct vrange_area *area, const char __user *uname);
int vrange_area_get_name(struct vrange_area *area, char __user *uname);
const char *vrange_area_name(const struct vrange_area *area);
int vrange_area_set_size(struct vrange_area *area, unsigned long size);
size_t vrange_area_get_size(struct vrange_area *area);
int vrange_area_set_prot_mask(struct vrange_area *area, unsigned long prot);
int vrange_area_set_mode(struct vrange_area *area, unsigned long mode);
u32 vrange_area_get_mode(struct vrange_area *area);
unsigned long vrange_area_get_prot_mask(struct vrange_area *area);
int vrange_area_mmap(struct vrange_area *area, struct vm_area_struct *vma);
loff_t vrange_area_llseek(struct vrange_area *area, struct file *file,
			  loff_t offset, int whence);
ssize_t vrange_area_read_iter(struct vrange_area *area, struct kiocb *iocb,
			      struct iov_iter *to);
int vrange_area_get_file_id(struct vrange_area *area, unsigned long *ino);
int vrange_pin_ioctl(struct vrange_area *area, unsigned int cmd,
		     struct vrange_pin __user *upin);
int vrange_range64_ioctl(struct vrange_area *area, unsigned int cmd,
			 struct vrange_range64 __user *urange);
int vrange_area_range(struct vrange_area *area, u64 offset, u64 len,
		      pgoff_t *start, pgoff_t *end);
int vrange_range64_check(unsigned int op, const struct vrange_range64 *range);
int vrange_op_locked(struct vrange_area *area, unsigned int op, u64 offset,
		     u64 len, u32 flags, struct vrange_spare *spare,
		     unsigned long *budget, struct vrange_op_result *res);
void vrange_range64_out(unsigned int op, const struct vrange_op_result *res,
			struct vrange_range64 *range);

/* batch.c */
int vrange_batch_ioctl(struct vrange_area *area,
		       struct vrange_batch __user *ubatch);

/* area.c: the backing files' file operations, learnt once at load */
int vrange_backing_init(void);

/* ranges.c */
void vrange_account(struct vrange_area *area, long unpinned, long purged);
long vrange_ranges_pin(struct vrange_area *area, pgoff_t start, pgoff_t end,
		       struct vrange_spare *spare);
int vrange_ranges_unpin(struct vrange_area *area, pgoff_t start, pgoff_t end,
			enum vrange_level level, bool partial,
			struct vrange_spare *spare);
void vrange_ranges_add(struct vrange_area *area, pgoff_t start, pgoff_t end,
		       enum vrange_level level, bool purged,
		       struct vrange_spare *spare);
bool vrange_ranges_purged_at(struct vrange_area *area, pgoff_t index);
long vrange_ranges_need(struct vrange_area *area, unsigned int op,
			pgoff_t start, pgoff_t end, unsigned long *budget,
			pgoff_t *where);
bool vrange_ranges_punching(struct vrange_area *area, pgoff_t start,
			    pgoff_t end);
bool vrange_ranges_any_unpinned(struct vrange_area *area, pgoff_t start,
				pgoff_t end);
int vrange_ranges_count(struct vrange_area *area, pgoff_t start, pgoff_t end,
			struct vrange_op_result *res, unsigned long *budget);
unsigned long vrange_ranges_resident(struct vrange_area *area);
void vrange_ranges_clear(struct vrange_area *area);
int vrange_ranges_node(struct vrange_area *area, pgoff_t index, u64 *memcg_id);
pgoff_t vrange_ranges_where_index(struct vrange_area *area, pgoff_t start,
				  pgoff_t end);
void vrange_ranges_where(struct vrange_area *area, pgoff_t index,
			 struct vrange_spare *spare);
void *vrange_lru_obj_alloc(struct kmem_cache *cache, struct list_lru *lru,
			   gfp_t gfp, int nid);
int vrange_ranges_spare(struct vrange_spare *spare);
void vrange_ranges_spare_free(struct vrange_spare *spare);
bool vrange_ranges_cache_fits(struct vrange_area *area, pgoff_t index,
			      bool *absent);
void vrange_ranges_link(struct vrange_area *area, struct vrange_range *r);
int vrange_ranges_init(void);
void vrange_ranges_exit(void);

/* defer.c */
bool vrange_defer_fast(struct vrange_area *area, unsigned int op, u64 offset,
		       u64 len, u32 flags, pgoff_t *start, pgoff_t *end);
void vrange_defer_publish(struct vrange_area *area, pgoff_t start,
			  pgoff_t end);
bool vrange_defer_overlaps(struct vrange_area *area, pgoff_t start,
			   pgoff_t end);
void vrange_defer_settle(struct vrange_area *area);
void vrange_defer_drop(struct vrange_area *area);
int vrange_defer_flush(struct vrange_area *area);
void vrange_defer_flush_all(void);
void vrange_defer_reclaim(void);
void vrange_defer_exit(void);

/* slots.c */
int vrange_slots_set(struct vrange_area *area,
		     struct vrange_slots __user *uslots);
int vrange_slots_get(struct vrange_area *area,
		     struct vrange_slots __user *uslots);
int vrange_slots_arm_ioctl(struct vrange_area *area);
int vrange_slots_mmap(struct vrange_area *area, struct vm_area_struct *vma);
void vrange_slots_release(struct vrange_area *area);
int vrange_slots_op_locked(struct vrange_area *area, unsigned int op,
			   pgoff_t start, pgoff_t end, u32 flags,
			   struct vrange_spare *spare, unsigned long *budget,
			   struct vrange_op_result *res);
void vrange_slots_settle(struct vrange_area *area, pgoff_t start, pgoff_t end);
int vrange_slots_convert_all(struct vrange_area *area, pgoff_t start,
			     pgoff_t end, struct vrange_spare *spare,
			     bool count_only, unsigned long *need);
bool vrange_slots_purged_at(struct vrange_area *area, pgoff_t index,
			    bool *purged);
void vrange_slots_stats(struct vrange_area *area, struct vrange_stats *st);
unsigned long vrange_slots_count(struct shrink_control *sc);
unsigned long vrange_slots_shrink(struct shrink_control *sc,
				  enum vrange_level level, u64 memcg_id,
				  unsigned long *scanned);
unsigned long vrange_slots_purge_all(void);
void vrange_slots_free(struct vrange_area *area);
int vrange_slots_init(void);
void vrange_slots_exit(void);

/* purge.c */
struct list_lru *vrange_slot_lru(void);
unsigned long vrange_punch_hole(struct vrange_area *area, pgoff_t start,
				pgoff_t end, unsigned long *swapped);
bool vrange_hole_locked(struct vrange_area *area, pgoff_t start, pgoff_t end);
void vrange_purge_area_init(struct vrange_area *area);
void vrange_punch_wake(void);
void vrange_lru_add(struct vrange_range *r);
void vrange_lru_del(struct vrange_range *r);

void vrange_stat_resident(long pages);
s64 vrange_stat_resident_sum(void);
long vrange_purge_all(void);
int vrange_punch_wait(struct vrange_area *area, unsigned int seq,
		      bool killable);
struct list_lru *vrange_lru(enum vrange_level level);
int vrange_purge_init(void);
void vrange_purge_exit(void);

/* stats.c */
void vrange_stat_areas(int delta);
void vrange_stat_unpinned_purged(long pages);
void vrange_stat_purged(unsigned long pages);
void vrange_stat_shrinker_handoff(void);
void vrange_stat_shrinker(unsigned long asked, unsigned long scanned,
			  unsigned long freed);
void vrange_stat_swapped(unsigned long pages);
void vrange_stat_punch_wait(void);
int vrange_area_get_stats(struct vrange_area *area,
			  struct vrange_stats __user *ustats);
void vrange_show_fdinfo(struct seq_file *m, struct file *file);
extern const struct attribute_group *vrange_attr_groups[];
int vrange_stats_init(void);
void vrange_stats_exit(void);

#endif /* VRANGE_INTERNAL_H */
