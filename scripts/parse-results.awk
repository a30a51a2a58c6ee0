# Judge one guest run: read tests.log (ttyS1: the rig's markers, the tests'
# TAP, the kernel log dumps) and console.log (ttyS0), print a report and
# write "PASSED FAILED SKIPPED" to the file named by -v counts=FILE.
#
#   awk -v runlist=FILE -v status=STATUS -v timeout=SECS -v counts=FILE \
#       [-v host=1] -f parse-results.awk tests.log console.log
# (host=1: host-side tests, no kernel log to judge.)
#
# Counting (every number comes from a line the guest printed):
#   - each TAP result line "ok"/"not ok" of a test program counts once:
#     "ok ... # SKIP" as skipped, "not ok ... # TODO" as skipped, other
#     "ok" as passed, other "not ok" as failed;
#   - a program that exits 77 with no result line, or whose plan is 1..0,
#     counts as one skipped;
#   - a plan 1..N with fewer than N results counts the missing ones as
#     failed; a program that exits non-zero (not 77), times out, prints no
#     plan or does not finish counts one failure if nothing else of it failed;
#   - a program of the run list that never started counts one failure;
#   - each "### CHECK" line of the rig (module_load, dev_vrange_exists,
#     module_unload) counts once;
#   - the kernel log: one failure for each dump (boot, insmod, after each
#     program, unload) holding a bad line, else one pass for the whole log;
#   - a guest that did not finish (crash, hang) counts one more failure.
# Written for POSIX awk (mawk).

function oom_victim(line,    rest) {
	# "Killed process PID (COMM) ...": the last victim, for is_bad().
	rest = line
	sub(/.*Killed process /, "", rest)
	victim_pid = rest
	sub(/ .*/, "", victim_pid)
	sub(/^[0-9]+ \(/, "", rest)
	sub(/\).*/, "", rest)
	victim_comm = rest
	victim_fail = 0
}

function trim(s) { sub(/^[ \t]+/, "", s); sub(/[ \t]+$/, "", s); return s }

function keep(prog, line,    n) {
	# The last lines a program printed before a result: shown with a failure.
	if (line ~ /^[ \t]*$/) return
	n = ++ctxn[prog]
	ctx[prog, n % 12] = line
}

function context(prog,    i, first, out) {
	out = ""
	first = ctxn[prog] - 11
	if (first < 1) first = 1
	for (i = first; i <= ctxn[prog]; i++)
		out = out "            " ctx[prog, i % 12] "\n"
	ctxn[prog] = 0
	return out
}

function add_detail(prog, text) { detail[prog] = detail[prog] text }

function is_bad(line) {
	if (line ~ /invoked oom-killer/) { in_oom = 1; return 0 }
	if (in_oom && line ~ /(Killed process|oom_reaper|Out of memory and no killable)/) {
		in_oom = 0
		if (line ~ /Killed process [0-9]+ \(/) oom_victim(line)
		return 0
	}
	# The victim's own user-page fault can fail after the kill (it may dip
	# into the reserves, not loop): warn_alloc() prints a stack for it.
	# That failure is part of the OOM episode, not a report; any other
	# task's, or a kernel allocation's, is still judged.
	if (victim_pid != "" && index(line, " " victim_comm ": page allocation failure:") &&
	    line ~ /GFP_HIGHUSER/) { victim_fail = 1; return 0 }
	if (victim_fail == 1 && line ~ /PID: [0-9]+ /) {
		victim_fail = index(line, "PID: " victim_pid " ") ? 2 : 0
		return 0
	}
	if (victim_fail == 2 && line ~ /Call Trace/) { victim_fail = 0; return 0 }
	if (line ~ ok_re) return 0
	# A stack frame is not a report, whatever its function is called (a
	# lockdep kernel's OOM report has "lockdep_hardirqs_on_prepare+0x..."
	# frames): the report's own headline counts.
	if (line ~ /\] +(\? )?[A-Za-z_][A-Za-z0-9_.]*\+0x[0-9a-f]+\/0x[0-9a-f]+/) return 0
	if (line ~ /Call Trace/) return !in_oom
	return line ~ bad_re
}

function kernel_line(label, line) {
	# The first report of a dump is shown whole (its next 30 lines: the
	# stack); after it, only the headlines of the others.
	if (follow > 0 && follow_label == label) {
		kfirst[label] = kfirst[label] "            " substr(line, 1, 220) "\n"
		follow--
	}
	if (!is_bad(line)) return
	if (!(label in khits)) {
		klabels[++nklabels] = label
		kfirst[label] = "            " substr(line, 1, 220) "\n"
		follow = 30
		follow_label = label
	}
	khits[label]++
	if (line ~ /Call Trace/) return
	kheads[label]++
	if (kheads[label] > 1 && kheads[label] <= 11)
		kshow[label] = kshow[label] "            " substr(line, 1, 220) "\n"
}

function start_prog(name) {
	cur = name
	started[name] = 1
	plan[name] = -1
	npass[name] = nfail[name] = nskip[name] = 0
	ctxn[name] = 0
	detail[name] = ""
	why[name] = ""
	trailing[name] = 0
}

function signame(n) {
	if (n == 6) return "SIGABRT"
	if (n == 9) return "SIGKILL"
	if (n == 11) return "SIGSEGV"
	if (n == 7) return "SIGBUS"
	if (n == 15) return "SIGTERM"
	if (n == 4) return "SIGILL"
	if (n == 8) return "SIGFPE"
	return "signal " n
}

function end_prog(name, rc, secs,    seen, missing, problem, rc_only) {
	exited[name] = 1
	rcs[name] = rc
	secss[name] = secs
	seen = npass[name] + nfail[name] + nskip[name]
	problem = ""
	if (rc == 77 && seen == 0) {
		nskip[name] = 1
		if (why[name] == "") why[name] = "exit 77"
		return
	}
	if (plan[name] == 0 && seen == 0 && rc == 0) {
		nskip[name] = 1
		return
	}
	if ((rc == 124 || rc == 137 || rc == 143) && secs + 1 >= timeout)
		problem = "timed out after " secs " s"
	else if (rc > 128 && rc < 160)
		problem = "killed by " signame(rc - 128) " (rc=" rc ")"
	else if (rc != 0 && rc != 77)
		rc_only = problem = "exit status " rc
	if (plan[name] < 0)
		problem = problem (problem == "" ? "" : "; ") "printed no TAP plan"
	missing = plan[name] - seen
	if (plan[name] >= 0 && missing > 0) {
		nfail[name] += missing
		problem = problem (problem == "" ? "" : "; ") "only " seen " of " plan[name] " results"
	}
	if (problem == "") return
	if (nfail[name] == 0) nfail[name] = 1
	else if (problem == rc_only) return	# its "not ok" lines say it all
	add_detail(name, "          " problem "\n" context(name))
}

function tap_line(prog, line,    dir, d, p) {
	if (line ~ /^(not )?ok([ \t]|$)/) {
		trailing[prog] = 0
		dir = ""
		p = index(line, "#")
		if (p > 0) { d = tolower(trim(substr(line, p + 1))); dir = substr(d, 1, 4) }
		if (line ~ /^ok/) {
			if (dir == "skip") nskip[prog]++
			else npass[prog]++
		} else if (dir == "todo" || dir == "skip") {
			nskip[prog]++
		} else {
			nfail[prog]++
			add_detail(prog, context(prog) "          " line "\n")
			trailing[prog] = 10	# diagnostics printed after it (cmocka)
		}
		ctxn[prog] = 0
		return
	}
	if (line ~ /^1\.\.[0-9]+/) {
		p = line
		sub(/^1\.\./, "", p)
		plan[prog] = p + 0
		if (tolower(line) ~ /# *skip/) { sub(/^[^#]*# */, "", line); why[prog] = line }
		return
	}
	if (line ~ /^Bail out!/) {
		nfail[prog]++
		add_detail(prog, context(prog) "          " line "\n")
		return
	}
	if (tolower(line) ~ /^# *skip/) { p = line; sub(/^# */, "", p); why[prog] = p }
	if (line ~ /^# (RUN|Subtest)/) trailing[prog] = 0	# the next test begins
	if (trailing[prog] > 0 && line ~ /^#/) {
		trailing[prog]--
		add_detail(prog, "            " line "\n")
		return
	}
	keep(prog, line)
}

BEGIN {
	bad_re = "BUG:|BUG [^ ]+ \\(|kernel BUG at|WARNING:|Oops|general protection|" \
		"possible circular locking|possible recursive locking|lockdep|" \
		"inconsistent lock state|KFENCE|list_add corruption|list_del corruption|" \
		"hung_task|blocked for more than|soft lockup|hard LOCKUP|kmemleak|" \
		"Kernel panic|UBSAN|KASAN|refcount_t:|rcu.*stall|Bad page|" \
		"unreferenced object|Slab cache still has objects"
	# The debug kernel (make check-debug) reports with: KASAN "BUG: KASAN:",
	# KFENCE "BUG: KFENCE:", DEBUG_ATOMIC_SLEEP "BUG: sleeping function
	# called from invalid context", lockdep "WARNING: possible circular
	# locking dependency", "WARNING: possible recursive locking", "WARNING:
	# inconsistent lock state", "WARNING: suspicious RCU usage" (PROVE_RCU),
	# DEBUG_LIST "list_add corruption" / "list_del corruption", kmemleak
	# "unreferenced object" (scripts/guest-init puts its report in the
	# output) and "kmemleak: N new suspected memory leaks", DEBUG_VM
	# "kernel BUG at" / "BUG: Bad page state" / "page dumped because":
	# all matched above but the last, added here.  kmemleak's notices that
	# it is on are not reports (any other kmemleak line is: it warns, or
	# it stopped).
	bad_re = bad_re "|page dumped because"
	# A module's use of an API the kernel says is going away (7.x:
	# "workqueue: work func F enqueued on deprecated workqueue").
	bad_re = bad_re "|deprecated workqueue"
	# Nor is lockdep's own boot notice, nor a mark of the rig's (its
	# labels name kmemleak).
	ok_re = "kmemleak: (Kernel memory leak detector initialized|" \
		"Automatic memory scanning thread (started|ended))|" \
		"RCU lockdep checking is enabled|vrange-rig: (test|dmesg dumped)"
	while ((getline l < runlist) > 0) {
		split(l, w, " ")
		if (w[1] != "" && !(w[1] in expected)) { expected[w[1]] = 1; order[++nexp] = w[1] }
	}
	cur = ""
	indmesg = 0
	last_mark = 0
	marker_re = "### (TEST|EXIT|DMESG|END-DMESG|CHECK|INFO|END)( |$)"
}

{ sub(/\r+$/, "") }

FILENAME == ARGV[1] {
	line = $0
	if (match(line, marker_re)) {
		if (RSTART > 1) {
			pre = substr(line, 1, RSTART - 1)
			if (cur != "") tap_line(cur, pre)
		}
		m = substr(line, RSTART + 4)
		n = split(m, w, " ")
		if (w[1] == "TEST") {
			start_prog(w[2])
		} else if (w[1] == "EXIT") {
			rc = m; sub(/.* rc=/, "", rc); sub(/ .*/, "", rc)
			secs = m; sub(/.* secs=/, "", secs)
			end_prog(w[2], rc + 0, secs + 0)
			cur = ""
		} else if (w[1] == "DMESG") {
			indmesg = 1; in_oom = 0; dlabel = w[2]
		} else if (w[1] == "END-DMESG") {
			indmesg = 0
			follow = 0
		} else if (w[1] == "CHECK") {
			reason = m; sub(/^CHECK +[^ ]+ +[^ ]+ */, "", reason)
			checks[++nchecks] = w[3]
			checkok[w[3]] = (w[2] == "ok")
			checkwhy[w[3]] = reason
		} else if (w[1] == "INFO") {
			info = substr(m, 6)
		} else if (w[1] == "END") {
			ended = 1
		}
		next
	}
	if (indmesg) kernel_line("after " dlabel, line)
	else if (cur != "") tap_line(cur, line)
	next
}

{
	# console.log: read only when the guest did not finish, from the
	# kernel's last "dmesg dumped" mark on (earlier lines were dumped).
	cons[++ncons] = $0
	if ($0 ~ /vrange-rig: dmesg dumped after/) last_mark = ncons
}

END {
	P = F = S = 0
	if (info != "") printf "    guest: %s\n", info
	for (i = 1; i <= nchecks; i++) {
		c = checks[i]
		if (checkok[c]) { P++; printf "    ok      %s\n", c }
		else { F++; printf "    FAIL    %s: %s\n", c, checkwhy[c] }
	}
	if (cur != "") {
		# Output stopped inside a program: it never exited.
		problem = "did not finish: " status
		seen = npass[cur] + nfail[cur] + nskip[cur]
		if (plan[cur] > seen) nfail[cur] += plan[cur] - seen
		if (nfail[cur] == 0) nfail[cur] = 1
		add_detail(cur, "          " problem "\n" context(cur))
		rcs[cur] = "-"
	}
	for (i = 1; i <= nexp; i++) {
		t = order[i]
		if (!(t in started)) {
			F++
			printf "    FAIL    %-24s did not run (%s)\n", t, \
				(("module_load" in checkok) && !checkok["module_load"]) ? \
				"the module did not load" : "the guest stopped before it"
			continue
		}
		P += npass[t]; F += nfail[t]; S += nskip[t]
		verdict = nfail[t] ? "FAIL" : (npass[t] ? "ok" : "SKIP")
		extra = (t in exited) ? sprintf("%5.1f s", secss[t]) : "unfinished"
		if (why[t] != "" && !nfail[t] && !npass[t]) extra = extra "  (" why[t] ")"
		printf "    %-7s %-24s %3d passed, %d failed, %d skipped  %s\n", verdict, t, \
			npass[t], nfail[t], nskip[t], extra
		if (detail[t] != "") printf "%s", detail[t]
	}
	if (status != "finished") {
		for (i = last_mark + 1; i <= ncons; i++)
			kernel_line("console (after the last dump)", cons[i])
	}
	if (!host && nklabels == 0) {
		P++
		printf "    ok      kernel_log               no BUG/WARNING/lockdep/... line\n"
	}
	for (i = 1; i <= nklabels; i++) {
		F++
		l = klabels[i]
		printf "    FAIL    kernel_log %s: %d bad line(s); the first report:\n%s", l, \
			khits[l], kfirst[l]
		if (kshow[l] != "")
			printf "          later ones%s:\n%s", (kheads[l] > 11 ? " (first 10)" : ""), kshow[l]
	}
	if (status != "finished") {
		F++
		printf "    FAIL    guest                    %s\n", status
	}
	printf "%d %d %d\n", P, F, S > counts
}
