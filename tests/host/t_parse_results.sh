#!/bin/bash
# The judge of every guest run, scripts/parse-results.awk, on kernel logs
# made up here: what it must count as a report, and what it must not.  One
# TAP line per case; each feeds one test program's output (1 passed) and a
# kernel log dump to the awk, and checks the counts it writes:
#   - clean: "1 0 0" and a kernel_log pass, so "2 0 0";
#   - a report: the kernel_log failure, so "1 1 0".
# The OOM cases follow what the kernels print (Debian 7.3 rt-amd64 in a
# t_model run): an OOM report's stack is not a report, nor is the stack of
# its victim's own user-page fault failing after the kill; any other
# allocation failure's stack is.
#
#   tests/host/t_parse_results.sh      (scripts/host-check.sh runs it)
#
# Environment (host-check.sh sets them): VRANGE_TOP, VRANGE_BUILD,
# VRANGE_HOST_OUT (the logs go under it, in t_parse_results.d).

# The cases run through judge(), which shellcheck does not see.
# shellcheck disable=SC2317
set -uo pipefail
# judge() ends each pipeline: it must count in this shell.
shopt -s lastpipe

TOP=${VRANGE_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${VRANGE_BUILD:-$TOP/build}
out=${VRANGE_HOST_OUT:-$BUILD/host}/t_parse_results.d
export LC_ALL=C
mkdir -p "$out" || exit 1

n=0 failed=0

# judge NAME WANT: the kernel log on stdin, after one passing program.
judge() {
	local name=$1 want=$2 got
	{
		echo "### TEST t_x"
		echo "1..1"
		echo "ok 1 - x"
		echo "### EXIT t_x rc=0 secs=0.1"
		echo "### DMESG t_x"
		cat
		echo "### END-DMESG t_x"
		echo "### END"
	} >"$out/$name.tests.log"
	: >"$out/$name.console.log"
	echo t_x >"$out/runlist"
	awk -v runlist="$out/runlist" -v status=finished -v timeout=300 \
		-v counts="$out/$name.counts" \
		-f "$TOP/scripts/parse-results.awk" \
		"$out/$name.tests.log" "$out/$name.console.log" >"$out/$name.report"
	got=$(cat "$out/$name.counts" 2>/dev/null)
	n=$((n + 1))
	if [ "$got" = "$want" ]; then
		echo "ok $n - $name"
	else
		failed=1
		echo "not ok $n - $name: counts '$got', want '$want'"
		sed 's/^/#   /' "$out/$name.report"
	fi
}

CLEAN="2 0 0"
REPORT="1 1 0"

# A Call Trace headed by COMM, pid PID, with an allocation of GFP.
alloc_failure() {
	cat <<EOF
[   95.684976] $1: page allocation failure: order:0, mode:0x140dca($3|__GFP_ZERO|__GFP_COMP), nodemask=(null),cpuset=/,mems_allowed=0-1
[   95.685101] CPU: 1 UID: 0 PID: $2 Comm: $1 Tainted: G           OE       7.3.4+deb13-rt-amd64 #1 PREEMPT_{RT,(full)}
[   95.685131] Call Trace:
[   95.685148]  <TASK>
[   95.685161]  dump_stack_lvl+0x5d/0x80
[   95.685186]  warn_alloc.cold+0x4a/0x5e
[   95.685202]  __alloc_pages_slowpath.constprop.0+0xecf/0x1500
[   95.685556]  do_anonymous_page+0x147/0x4a0
[   95.685582]  </TASK>
[   95.686029] Mem-Info:
EOF
}

oom_kill() {
	cat <<EOF
[   95.680001] t_model invoked oom-killer: gfp_mask=0x140dca(GFP_HIGHUSER_MOVABLE|__GFP_ZERO|__GFP_COMP), order=0, oom_score_adj=1000
[   95.680102] CPU: 0 UID: 0 PID: 1021 Comm: t_model Tainted: G           OE       7.3.4+deb13-rt-amd64 #1
[   95.680131] Call Trace:
[   95.680148]  <TASK>
[   95.680161]  dump_stack_lvl+0x5d/0x80
[   95.680170]  dump_header+0x43/0x1a0
[   95.680181]  </TASK>
[   95.683232] oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=0-1,global_oom,task_memcg=/,task=t_model,pid=1021,uid=0
[   95.683361] Out of memory: Killed process 1021 (t_model) total-vm:787768kB, anon-rss:767764kB, file-rss:4kB, shmem-rss:52kB, UID:0 pgtables:1544kB oom_score_adj:1000
EOF
}

printf '[    1.000000] vrange: loaded\n' | judge clean_log "$CLEAN"
printf '[    1.000000] WARNING: CPU: 0 PID: 1 at mm/x.c:1 f+0x1/0x2\n' |
	judge warning_is_a_report "$REPORT"
printf '[   12.000000] workqueue: work func vrange_defer_workfn [vrange] enqueued on deprecated workqueue. Use system_{percpu|dfl}_wq instead.\n' |
	judge deprecated_workqueue_is_a_report "$REPORT"
oom_kill | judge oom_report_is_not_a_report "$CLEAN"
{ oom_kill; alloc_failure t_model 1021 GFP_HIGHUSER_MOVABLE; } |
	judge oom_victims_fault_failure_is_not_a_report "$CLEAN"
alloc_failure t_model 1021 GFP_HIGHUSER_MOVABLE |
	judge allocation_failure_without_an_oom_kill_is_a_report "$REPORT"
{ oom_kill; alloc_failure t_stress 1030 GFP_HIGHUSER_MOVABLE; } |
	judge another_tasks_allocation_failure_is_a_report "$REPORT"
{ oom_kill; alloc_failure t_model 1006 GFP_HIGHUSER_MOVABLE; } |
	judge same_name_other_pid_is_a_report "$REPORT"
{ oom_kill; alloc_failure t_model 1021 GFP_KERNEL; } |
	judge victims_kernel_allocation_failure_is_a_report "$REPORT"
{ oom_kill; alloc_failure t_model 1021 GFP_HIGHUSER_MOVABLE;
  printf '[   96.000000] Call Trace:\n'; } |
	judge a_second_stack_after_it_is_a_report "$REPORT"

echo "1..$n"
exit "$failed"
