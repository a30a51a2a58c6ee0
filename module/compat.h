/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vrange: every difference between the kernels vrange builds for.
 *
 * Each HAVE_* comes from a compile-time probe in module/probes/ (see
 * module/probe.sh), never from LINUX_VERSION_CODE, because distributions
 * backport.  Each wrapper names the kernel release that changed the API.
 */
#ifndef VRANGE_COMPAT_H
#define VRANGE_COMPAT_H

#include <linux/fs.h>
#include <linux/kfence.h>
#include <linux/list_lru.h>
#include <linux/memcontrol.h>
#include <linux/mm.h>
#include <linux/shmem_fs.h>
#include <linux/shrinker.h>
#include <linux/swap.h>

#include "vrange_config.h"

/* struct folio_batch left linux/pagevec.h for linux/folio_batch.h. */
#ifdef HAVE_FOLIO_BATCH_H
#include <linux/folio_batch.h>
#else
#include <linux/pagevec.h>
#endif

/**
 * compat_vm_flags_clear() - clear flags of a vma being set up
 * @vma: the vma
 * @flags: VM_* flags to clear
 *
 * 6.3 made vm_flags const, changed only through vm_flags_*().
 */
static inline void compat_vm_flags_clear(struct vm_area_struct *vma,
					 unsigned long flags)
{
#ifdef HAVE_VM_FLAGS_SET
	vm_flags_clear(vma, flags);
#else
	vma->vm_flags &= ~flags;
#endif
}

/**
 * compat_vm_flags_set() - set flags of a vma being set up
 * @vma: the vma
 * @flags: VM_* flags to set
 *
 * As compat_vm_flags_clear().
 */
static inline void compat_vm_flags_set(struct vm_area_struct *vma,
				       unsigned long flags)
{
#ifdef HAVE_VM_FLAGS_SET
	vm_flags_set(vma, flags);
#else
	vma->vm_flags |= flags;
#endif
}

/**
 * compat_fops_mmap() - map @vma through the file operations @fops of @file
 * @fops: shmem's file operations
 * @file: the file @vma now maps, whose own f_op is not @fops
 * @vma: the vma
 *
 * shmem has ->mmap(file, vma) up to v6.18 and only ->mmap_prepare(desc)
 * from v6.19.  A driver's ->mmap() reaches an ->mmap_prepare() through a
 * compat helper that builds the desc from the vma and applies it.  Only the
 * helpers that take the f_op will do: compat_vma_mmap_prepare() (v6.16 to
 * v6.18) and compat_vma_mmap() (v6.19+) call @file's f_op, this module's.
 *
 * Return: 0, -ENODEV if no helper can call @fops, or a negative errno.
 */
static inline int compat_fops_mmap(const struct file_operations *fops,
				   struct file *file,
				   struct vm_area_struct *vma)
{
	if (fops->mmap)
		return fops->mmap(file, vma);
#if defined(HAVE_COMPAT_VMA_MMAP_DESC)
	/* v7.1+: compat_set_desc_from_vma(), then __compat_vma_mmap(desc). */
	if (fops->mmap_prepare) {
		struct vm_area_desc desc;
		int ret;

		compat_set_desc_from_vma(&desc, file, vma);
		ret = fops->mmap_prepare(&desc);
		if (ret)
			return ret;
		return __compat_vma_mmap(&desc, vma);
	}
#elif defined(HAVE_COMPAT_VMA_MMAP_FOPS)
	/* v6.19, v7.0: shmem's first releases without ->mmap(). */
	if (fops->mmap_prepare)
		return __compat_vma_mmap(fops, file, vma);
#elif defined(HAVE_COMPAT_VMA_MMAP_PREPARE_FOPS)
	/* v6.18: its shmem still has ->mmap(); this is for backports. */
	if (fops->mmap_prepare)
		return __compat_vma_mmap_prepare(fops, file, vma);
#endif
	return -ENODEV;
}

/**
 * compat_shmem_setup() - a shmem file, its memory not reserved up front
 * @name: the name /proc/PID/maps shows
 * @size: its size
 *
 * shmem_file_setup()'s flags became a vma_flags_t (7.x).
 *
 * Return: the file or an ERR_PTR.
 */
static inline struct file *compat_shmem_setup(const char *name, loff_t size)
{
#ifdef HAVE_SHMEM_SETUP_VMA_FLAGS
	return shmem_file_setup(name, size, mk_vma_flags(VMA_NORESERVE_BIT));
#else
	return shmem_file_setup(name, size, VM_NORESERVE);
#endif
}

/**
 * compat_is_kfence() - whether @obj came from KFENCE's pool
 * @obj: a slab object
 *
 * is_kfence_address() reads __kfence_pool, which 6.1 does not export to
 * modules (6.12 does).  Debian's 6.1 has no KFENCE; upstream's charges
 * KFENCE objects to their memcg as others, so it need not tell them apart.
 *
 * Return: true if it did.
 */
static inline bool compat_is_kfence(const void *obj)
{
#ifdef HAVE_EXPORT_KFENCE_POOL
	return is_kfence_address(obj);
#else
	return false;
#endif
}

/**
 * compat_list_lru_add_obj() - add to the list of @item's node and memcg
 * @lru: the LRU
 * @item: the list head inside a slab object
 *
 * 6.8: list_lru_add() and list_lru_del() grew nid and memcg arguments; the
 * _obj forms take them from the object, as the old ones did.
 *
 * Return: true if it was added.
 */
static inline bool compat_list_lru_add_obj(struct list_lru *lru,
					   struct list_head *item)
{
#ifdef HAVE_LIST_LRU_ADD_OBJ
	return list_lru_add_obj(lru, item);
#else
	return list_lru_add(lru, item);
#endif
}

/**
 * compat_list_lru_del_obj() - remove from the list of @item's node and memcg
 * @lru: the LRU
 * @item: the list head inside a slab object
 *
 * Return: true if it was removed.
 */
static inline bool compat_list_lru_del_obj(struct list_lru *lru,
					   struct list_head *item)
{
#ifdef HAVE_LIST_LRU_ADD_OBJ
	return list_lru_del_obj(lru, item);
#else
	return list_lru_del(lru, item);
#endif
}

/*
 * 6.13: the list_lru walk callback lost its spinlock_t * argument.
 * COMPAT_LRU_WALK_CB(name) declares a callback with either signature and
 * the arguments item, list and arg.
 */
#ifdef HAVE_LRU_WALK_CB_LOCK
#define COMPAT_LRU_WALK_CB(name)					\
	enum lru_status name(struct list_head *item,			\
			     struct list_lru_one *list,			\
			     spinlock_t *lru_lock, void *arg)
#else
#define COMPAT_LRU_WALK_CB(name)					\
	enum lru_status name(struct list_head *item,			\
			     struct list_lru_one *list, void *arg)
#endif

/*
 * 6.7: shrinkers are allocated by shrinker_alloc() and made live by
 * shrinker_register(); before, a static struct shrinker was registered
 * with register_shrinker(), which (since 6.0) takes a name.
 *
 * The list_lru must be bound to the shrinker's id (list_lru_init_memcg())
 * after the id is assigned and before the shrinker can run.  Before 6.7 the
 * id is assigned by register_shrinker() itself, which also makes the
 * shrinker live, so the callbacks must tolerate running before the list
 * exists: compat_shrinker_create() is told the list by @init_lru and the
 * caller's callbacks check for it.
 */
struct compat_shrinker {
#ifdef HAVE_SHRINKER_ALLOC
	struct shrinker *shrinker;
#else
	struct shrinker shrinker;
#endif
};

typedef unsigned long (*compat_shrink_fn)(struct shrinker *,
					  struct shrink_control *);

/**
 * compat_shrinker_destroy() - unregister and free the shrinker
 * @cs: the shrinker
 */
static inline void compat_shrinker_destroy(struct compat_shrinker *cs)
{
#ifdef HAVE_SHRINKER_ALLOC
	shrinker_free(cs->shrinker);
#else
	unregister_shrinker(&cs->shrinker);
#endif
}

/**
 * compat_shrinker_create() - a NUMA- and memcg-aware shrinker over @lrus
 * @cs: where to keep it
 * @count: its count_objects
 * @scan: its scan_objects
 * @lrus: the list_lrus to bind to the shrinker's id
 * @nr: how many
 * @seeks: its seeks (DEFAULT_SEEKS, or 0: half of its count per call)
 * @name: its name in debugfs
 *
 * Return: 0 or a negative errno.
 */
static inline int compat_shrinker_create(struct compat_shrinker *cs,
					 compat_shrink_fn count,
					 compat_shrink_fn scan,
					 struct list_lru *lrus, int nr,
					 int seeks, const char *name)
{
	struct shrinker *shrinker;
	int ret = 0, i;
#ifdef HAVE_SHRINKER_ALLOC
	unsigned int flags = SHRINKER_NUMA_AWARE | SHRINKER_MEMCG_AWARE;

	shrinker = shrinker_alloc(flags, "%s", name);
	if (!shrinker)
		return -ENOMEM;
	cs->shrinker = shrinker;
#else
	shrinker = &cs->shrinker;
	shrinker->flags = SHRINKER_NUMA_AWARE | SHRINKER_MEMCG_AWARE;
#endif
	shrinker->count_objects = count;
	shrinker->scan_objects = scan;
	shrinker->seeks = seeks;
#ifndef HAVE_SHRINKER_ALLOC
	/* Live from here on, and it assigns the id the lists need. */
	ret = register_shrinker(shrinker, "%s", name);
	if (ret)
		return ret;
#endif
	for (i = 0; i < nr && !ret; i++)
		ret = list_lru_init_memcg(&lrus[i], shrinker);
	if (ret) {
		while (--i > 0)
			list_lru_destroy(&lrus[i - 1]);
		compat_shrinker_destroy(cs);
		return ret;
	}
#ifdef HAVE_SHRINKER_ALLOC
	shrinker_register(shrinker);
#endif
	return 0;
}

/**
 * compat_memcg_cgroup_id() - the cgroup id of a memcg, as BPF tools see it
 * @memcg: the memcg, or NULL
 *
 * cgroup_id() on every kernel: before 7.x mem_cgroup_id() is the memcg's
 * own small id, not the cgroup's, and mem_cgroup_ino() exists only with
 * CONFIG_SHRINKER_DEBUG.
 *
 * Return: the id, or 0 for NULL.
 */
static inline u64 compat_memcg_cgroup_id(struct mem_cgroup *memcg)
{
	return memcg ? cgroup_id(memcg->css.cgroup) : 0;
}

/**
 * compat_memcg_kmem_online() - whether kernel memory is charged to memcgs
 *
 * Return: true if it is; false with cgroup.memory=nokmem, or before the
 * first memory cgroup below the root came online (every range is then
 * filed under the root memcg).
 */
static inline bool compat_memcg_kmem_online(void)
{
#ifdef HAVE_MEMCG_KMEM_ONLINE
	return memcg_kmem_online();
#else
	return memcg_kmem_enabled();
#endif
}

/**
 * compat_account_reclaimed_pages() - credit reclaim with pages a shrinker freed
 * @pages: pages freed
 *
 * Reclaim counts only the LRU pages it frees itself.  Without this credit
 * the pages a purge frees are not progress: reclaim goes on to ask every
 * shrinker for everything, and may OOM-kill while purgeable ranges remain.
 * mm_account_reclaimed_pages() wraps the sum from 6.4, which also renamed
 * reclaim_state->reclaimed_slab; from then on memcg reclaim ignores it.
 */
static inline void compat_account_reclaimed_pages(unsigned long pages)
{
#ifdef HAVE_MM_ACCOUNT_RECLAIMED_PAGES
	mm_account_reclaimed_pages(pages);
#else
	if (current->reclaim_state)
		current->reclaim_state->reclaimed_slab += pages;
#endif
}

/*
 * The system's unbound workqueue: system_dfl_wq where the kernel has it;
 * there system_unbound_wq is deprecated, and a work queued on it logs a
 * warning (7.x).
 */
#ifdef HAVE_SYSTEM_DFL_WQ
#define compat_unbound_wq	system_dfl_wq
#else
#define compat_unbound_wq	system_unbound_wq
#endif

/*
 * Slots (slots.c) need a u64 compare-and-swap that user space and the
 * kernel can both do on the same memory, and a data cache through which
 * the kernel's mapping of a state page and a process's see the same
 * bytes: 64-bit architectures whose caches do not alias.  Elsewhere
 * VRANGE_SET_SLOTS fails with EOPNOTSUPP.
 */
#if defined(HAVE_TRY_CMPXCHG_U64) && defined(HAVE_ANON_INODE_GETFILE) && \
	defined(CONFIG_64BIT) && \
	(defined(CONFIG_X86_64) || defined(CONFIG_ARM64) || \
	 defined(CONFIG_RISCV) || defined(CONFIG_PPC64) || defined(CONFIG_S390))
#define COMPAT_HAVE_SLOTS 1
#endif

#endif /* VRANGE_COMPAT_H */
