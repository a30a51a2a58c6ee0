/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vrange: tracepoints vrange:vrange_pin, vrange:vrange_unpin and
 * vrange:vrange_purge, for ftrace, perf and bpftrace.  Defined once, in
 * purge.c (CREATE_TRACE_POINTS).
 *
 * area is the area's id (VRANGE_GET_STATS does not show it; it only ties
 * events together), offset and len are bytes.  node and memcg (its cgroup
 * id, as BPF tools see it): for pin and unpin, those of the memory at the
 * range's first page (-1 and 0 if it is not in memory), not the caller's,
 * since a range is filed by its memory; for purge, those of the list the
 * range was on, which are its memory's when it was unpinned.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM vrange

#if !defined(VRANGE_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define VRANGE_TRACE_H

#include <linux/tracepoint.h>

TRACE_EVENT(vrange_pin,
	    TP_PROTO(u64 area, u64 offset, u64 len, int node, u64 memcg, u64 purged),
	    TP_ARGS(area, offset, len, node, memcg, purged),
	    TP_STRUCT__entry(__field(u64, area)
			     __field(u64, offset)
			     __field(u64, len)
			     __field(int, node)
			     __field(u64, memcg)
			     __field(u64, purged)),
	    TP_fast_assign(__entry->area = area;
			   __entry->offset = offset;
			   __entry->len = len;
			   __entry->node = node;
			   __entry->memcg = memcg;
			   __entry->purged = purged;),
	    TP_printk("area=%llu offset=%llu len=%llu node=%d memcg=%llu purged=%llu",
		      __entry->area, __entry->offset, __entry->len,
		      __entry->node, __entry->memcg, __entry->purged)
);

TRACE_EVENT(vrange_unpin,
	    TP_PROTO(u64 area, u64 offset, u64 len, int node, u64 memcg),
	    TP_ARGS(area, offset, len, node, memcg),
	    TP_STRUCT__entry(__field(u64, area)
			     __field(u64, offset)
			     __field(u64, len)
			     __field(int, node)
			     __field(u64, memcg)),
	    TP_fast_assign(__entry->area = area;
			   __entry->offset = offset;
			   __entry->len = len;
			   __entry->node = node;
			   __entry->memcg = memcg;),
	    TP_printk("area=%llu offset=%llu len=%llu node=%d memcg=%llu",
		      __entry->area, __entry->offset, __entry->len,
		      __entry->node, __entry->memcg)
);

TRACE_EVENT(vrange_purge,
	    TP_PROTO(u64 area, u64 offset, u64 len, int node, u64 memcg, bool all),
	    TP_ARGS(area, offset, len, node, memcg, all),
	    TP_STRUCT__entry(__field(u64, area)
			     __field(u64, offset)
			     __field(u64, len)
			     __field(int, node)
			     __field(u64, memcg)
			     __field(bool, all)),
	    TP_fast_assign(__entry->area = area;
			   __entry->offset = offset;
			   __entry->len = len;
			   __entry->node = node;
			   __entry->memcg = memcg;
			   __entry->all = all;),
	    TP_printk("area=%llu offset=%llu len=%llu node=%d memcg=%llu reason=%s",
		      __entry->area, __entry->offset, __entry->len,
		      __entry->node, __entry->memcg,
		      __entry->all ? "purge_all" : "shrinker")
);

#endif /* VRANGE_TRACE_H */

/* Out of tree: define_trace.h finds this file through ccflags' -I module/. */
#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE vrange_trace
#include <trace/define_trace.h>
