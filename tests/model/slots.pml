/*
 * slots.pml: the slot word protocol of issue 18 ("slots": syscall-free
 * pin/unpin), as docs/slots-protocol.md states it, for SPIN.
 *
 * What is modelled (docs/slots-protocol.md says why each piece is so):
 *  - the state page's words, which user space may write at any time, and
 *    the kernel's own per-slot state beside them: the FAST/TREE bitmap,
 *    the "punch in flight" bit of a FAST claim, the tree (an abstraction
 *    of ranges.c: each slot is two halves, each pinned, unpinned or
 *    purged, with its own "punch in flight" bit), area->lock, the kernel's
 *    armed state and the header's kernel-written "armed" word;
 *  - honest users: fast pin and unpin by CAS, libvrange's fallbacks to
 *    the ioctls, the ioctls themselves on whole slots and on half slots
 *    (the conversions FAST -> TREE -> FAST), UNPIN without a tag, ARM,
 *    reading and writing their data, an optimistic read in SIGBUS mode;
 *  - the purger: shrinker visits and PURGE_ALL scanning the words with no
 *    lock, then claiming FAST slots by CAS from the value the scan read
 *    under area->lock (trylock) and punching with the lock dropped, as
 *    purge.c does today, then publishing PURGED; today's range purge on
 *    TREE slots; the disarm handshake (BUG_DISARM_NO_FENCE puts its
 *    header store in a store buffer, drained at any later point);
 *  - the last close (CLOSE), and a scribbler (SCRIBBLER) writing
 *    arbitrary words and header values into one area (SCRIBBLE below).
 * Time, purge levels, NUMA nodes and the LRU order are abstracted away:
 * the purger may claim any unpinned slot it finds, which is every order a
 * ranking could pick.  Memory is sequentially consistent except for that
 * one store buffer.
 *
 * Properties (assertions; pan also reports invalid end states, i.e.
 * deadlocks, and out-of-bounds array indexes):
 *  G1  a pin reports "purged" exactly when data of its range was punched
 *      since the last pin that reported it (ghost g_lost);
 *  G2  no pin takes effect while its data is being punched, and no punch
 *      starts or ends on pinned data (ghost g_l, g_punch);
 *  D   an owner's data, read while pinned, is what it wrote, and a pin
 *      reporting "not purged" finds its data intact (ghost g_intact);
 *      an optimistic read of purged, unpinned data faults (SIGBUS mode);
 *  A   no honest unpinned slot is left in a disarmed area, but for an
 *      unpinner still on its way to ARM (ghost g_pend; the monitor);
 *  B   bounded: every kernel operation does at most KCAS_MAX atomic
 *      operations on a word (no loop on a user-controlled CAS), and an
 *      owner's pin or unpin completes within OP_RETRY_MAX retries when no
 *      one else writes its word;
 *  W   in an honest area, every word the kernel reads or overwrites is
 *      one the protocol allows there (only D or P, U where it converts;
 *      X where it publishes; KERNEL where it goes back to FAST);
 *  K   kernel invariants that hold whatever the words say (memory safety):
 *      a slot being punched by a FAST claim stays FAST and is never
 *      converted; a tree half being punched is purged in the tree; the
 *      kernel indexes only this area's tag table, with an index in range;
 *      it changes its own slot state only under area->lock; it never
 *      touches a word of a closed area, nor has a punch in flight there.
 * With SCRIBBLER, G1, G2, D, A, W and B's second half are not asked of the
 * scribbled area (its data is the scribbler's to ruin); K and the
 * kernel's bound are asked of every area, and everything of the other.
 *
 * Configurations (spin -D...): NAREA, NSLOT, SHARED (two users on slot 0,
 * no data or retry checks), SCRIBBLER (NAREA 2, area 1 scribbled; 1: an
 * honest user in area 0, area 1 armed and scribbled; 2: a user doing
 * everything in the scribbled area 1, area 0 idle), CLOSE
 * (a last close of area 0), PURGERS (1 or 2), PURGE_ROUNDS (0: the
 * purger runs forever; N: N visits, for the non-progress check), NOTREE
 * (no half-slot ioctls).  Protocol mutations, each of which must make
 * the check fail (tests/host/t_slots_model.sh): BUG_NO_CLAIM_CAS,
 * BUG_PIN_STORE, BUG_NO_PUNCH_WAIT, BUG_EARLY_D, BUG_DISARM_NO_FENCE,
 * BUG_IOCTL_UNPIN_NO_ARM, BUG_UNPIN_LOAD_FIRST, BUG_MODE_FROM_WORD,
 * BUG_TAG_UNCLAMPED.
 */

#ifndef NAREA
#define NAREA 1
#endif
#ifndef NSLOT
#define NSLOT 2
#endif
#ifndef SHARED
#define SHARED 0
#endif
#ifndef SCRIBBLER
#define SCRIBBLER 0
#endif
#ifndef CLOSE
#define CLOSE 0
#endif
#ifndef PURGERS
#define PURGERS 1
#endif
#ifndef PURGE_ROUNDS
#define PURGE_ROUNDS 0
#endif
#ifndef NOTREE
#define NOTREE 0
#endif

#define NS	(NAREA * NSLOT)		/* slots, all areas */
#define NH	(NS * 2)		/* halves */
#define NTAGS	2			/* tags (joined memcgs) per area */
#define KCAS_MAX	2		/* atomic word operations per kernel op */
#define OP_RETRY_MAX	2		/* retries of an owner's op, unshared */

#define A(sl)		((sl) / NSLOT)
#define HX(sl, h)	((sl) * 2 + (h))
#define HONEST(a)	(!(SCRIBBLER && (a) == NAREA - 1))

/*
 * The word: bits 1:0 state, bit 2 KERNEL, bits 4:3 tag, bit 7 stands for
 * every other bit (unknown bits: an invalid word).  P is 0, as in a
 * zeroed page: a new area is pinned.
 */
#define W_P		0
#define W_U		1
#define W_X		2
#define W_D		3
#define W_KERNEL	4
#define W_JUNK		128
#define W_STATE		3
#define ST(w)		((w) & 3)
#define CTL(w)		((w) & 231)	/* bits 2:0 and 7:5: all but the tag */
#define TAG(w)		(((w) >> 3) & 3)

/* Tree state of a half (kernel memory). */
#define TP	0	/* pinned: no range */
#define TU	1	/* an unpinned range, on the range LRU */
#define TD	2	/* an unpinned range, purged (or being punched) */

/* Choose x in 0 .. n - 1 (n <= 3) in one step. */
#define CHOOSE(x, n)	if :: x = 0 :: (n) > 1 -> x = 1 :: (n) > 2 -> x = 2 fi

/* ---- shared state ---- */
byte word[NS];		/* the state page: user-writable */
bit tree[NS];		/* kernel: TREE mode (the authoritative bitmap) */
bit punching[NS];	/* kernel: a FAST claim's punch is in flight */
byte th[NH];		/* kernel: tree state of each half */
bit tpunch[NH];		/* kernel: a tree range's punch is in flight */
byte alock[NAREA];	/* area->lock: 0 free, else the holder's pid + 1 */
bit k_armed[NAREA];	/* kernel: the area's items are on the lists */
bit h_armed[NAREA];	/* the header's armed word (kernel-written) */
bit sb_armed0[NAREA];	/* BUG_DISARM_NO_FENCE: "armed = 0" still buffered */
bit closed[NAREA];	/* the last fd was closed */
byte tagarea[NAREA * NTAGS];	/* kernel: the tag tables, each entry its area */

/*
 * The scribbler.  Whatever it writes is seen only where a word is read, so
 * instead of a process writing at any time, every read of a word of the
 * scribbled area (by the kernel or a user, plain or inside a CAS or xchg)
 * may first find any value in it: the same behaviours, far fewer states.
 * The values stand for every class the decoding tells apart.
 */
#if SCRIBBLER
#define SCRIBBLE(sl)	if \
			:: !HONEST(A(sl)) -> \
				if \
				:: word[sl] = W_P \
				:: word[sl] = W_U \
				:: word[sl] = W_X \
				:: word[sl] = W_D \
				:: word[sl] = W_KERNEL \
				:: word[sl] = W_U | (3 << 3)	/* a tag out of the table */ \
				:: word[sl] = W_D | W_KERNEL	/* KERNEL with a state */ \
				:: word[sl] = W_P | W_JUNK	/* unknown bits */ \
				fi \
			:: true \
			fi
#define SCRIBBLE_ARMED(a)	if \
				:: !HONEST(a) -> h_armed[a] = 0 \
				:: !HONEST(a) -> h_armed[a] = 1 \
				:: true \
				fi
#else
#define SCRIBBLE(sl)		skip
#define SCRIBBLE_ARMED(a)	skip
#endif

/* ---- ghosts (the properties' bookkeeping; no protocol reads them) ---- */
bit g_lost[NH];		/* punched since the last pin that reported it */
bit g_intact[NH];	/* holds what its owner last wrote */
bit g_l[NH];		/* logical state: 0 pinned, 1 unpinned */
bit g_punch[NH];	/* a punch of it is in flight */
byte g_pend[NS];	/* unpinners between their CAS and ARM (or armed != 0) */

/* ---- locks ---- */
inline lock(i_a)
{
	atomic { alock[i_a] == 0 -> alock[i_a] = _pid + 1 }
}

inline unlock(i_a)
{
	assert(alock[i_a] == _pid + 1);	/* K */
	alock[i_a] = 0
}

#define HELD(a)	(alock[a] == _pid + 1)

/* ---- ghost bookkeeping, inside the atomic step that linearises ---- */

/* A pin of halves m of slot sl takes effect, reporting res (1: purged). */
inline g_pin(i_sl, i_m, i_res)
{
	if
	:: HONEST(A(i_sl)) ->	/* the scribbled area's data is not checked */
		gexp = 0;
		gi = 0;
		do
		:: gi < 2 ->
			if
			:: (i_m >> gi) & 1 ->
				gexp = gexp | g_lost[HX(i_sl, gi)];
				g_lost[HX(i_sl, gi)] = 0;
				g_l[HX(i_sl, gi)] = 0;
				/* G2: not while its data is being punched */
				assert(!HONEST(A(i_sl)) || !g_punch[HX(i_sl, gi)])	/* G2 */
			:: else
			fi;
			gi++
		:: else -> break
		od;
		/* G1: "purged" exactly when something was */
		assert(!HONEST(A(i_sl)) || i_res == gexp);	/* G1 */
		gi = 0;
		gexp = 0
	:: else
	fi
}

inline g_unpin(i_sl, i_m)
{
	if
	:: HONEST(A(i_sl)) ->	/* the scribbled area's data is not checked */
		if
		:: i_m & 1 -> g_l[HX(i_sl, 0)] = 1
		:: else
		fi;
		if
		:: i_m & 2 -> g_l[HX(i_sl, 1)] = 1
		:: else
		fi
	:: else
	fi
}

/* A claim (or a tree mark): its punch may start; the data is unpinned. */
inline g_claim(i_sl, i_m)
{
	if
	:: HONEST(A(i_sl)) ->	/* the scribbled area's data is not checked */
		gi = 0;
		do
		:: gi < 2 ->
			if
			:: (i_m >> gi) & 1 ->
				assert(!HONEST(A(i_sl)) || g_l[HX(i_sl, gi)]);	/* G2 */
				g_punch[HX(i_sl, gi)] = 1
			:: else
			fi;
			gi++
		:: else -> break
		od;
		gi = 0
	:: else
	fi
}

/* The punch: the data is zeros from here on. */
inline g_punched(i_sl, i_m)
{
	if
	:: HONEST(A(i_sl)) ->	/* the scribbled area's data is not checked */
		gi = 0;
		do
		:: gi < 2 ->
			if
			:: (i_m >> gi) & 1 ->
				assert(!HONEST(A(i_sl)) || g_l[HX(i_sl, gi)]);	/* G2 */
				assert(g_punch[HX(i_sl, gi)]);	/* K */
				g_intact[HX(i_sl, gi)] = 0;
				g_lost[HX(i_sl, gi)] = 1;
				g_punch[HX(i_sl, gi)] = 0
			:: else
			fi;
			gi++
		:: else -> break
		od;
		gi = 0
	:: else
	fi
}

/* ---- the kernel ---- */

/*
 * Decode a word's tag into t, as the kernel must: clamped to the area's
 * table (else tag 0, the creator's), and looked up in this area's table
 * only.  BUG_TAG_UNCLAMPED uses it as it comes.
 */
inline k_tag(i_a, i_w, i_t)
{
	i_t = TAG(i_w);
#ifndef BUG_TAG_UNCLAMPED
	if
	:: i_t >= NTAGS -> i_t = 0
	:: else
	fi;
#endif
	assert(tagarea[i_a * NTAGS + i_t] == i_a)	/* K: this area's table */
}

/* What the purger may find when it publishes PURGED (honest areas). */
#ifdef BUG_EARLY_D
#define PUBLISH_OK(w)	((w) == W_X || (w) == W_D)
#else
#define PUBLISH_OK(w)	((w) == W_X)
#endif

/* Is slot sl's mode FAST?  The kernel's bitmap, never the word. */
#ifdef BUG_MODE_FROM_WORD
#define K_FAST(sl)	(!(word[sl] & W_KERNEL))
#else
#define K_FAST(sl)	(!tree[sl])
#endif

/* Must an op on halves m of sl wait for a punch?  (vrange_punch_wait()) */
#ifdef BUG_NO_PUNCH_WAIT
#define K_BUSY(sl, m)	((tpunch[HX(sl, 0)] && ((m) & 1)) || (tpunch[HX(sl, 1)] && ((m) & 2)))
#else
#define K_BUSY(sl, m)	(punching[sl] || (tpunch[HX(sl, 0)] && ((m) & 1)) || \
			 (tpunch[HX(sl, 1)] && ((m) & 2)))
#endif

/* ARM (and what an UNPIN ioctl of a FAST slot does first). */
inline k_arm(i_a)
{
	assert(HELD(i_a));	/* K */
	k_armed[i_a] = 1;
	h_armed[i_a] = 1
}

/*
 * FAST -> TREE: xchg(KERNEL); the old value becomes the tree: P pinned,
 * U an unpinned range (its tag decoded), anything else purged.  Under
 * area->lock, never while the slot is being punched.
 */
inline k_to_tree(i_sl)
{
	assert(HELD(A(i_sl)) && !tree[i_sl]);	/* K */
	assert(!punching[i_sl]);				/* K */
	SCRIBBLE(i_sl);
	old = word[i_sl];
	word[i_sl] = W_KERNEL;
	kc++;
	tree[i_sl] = 1;
	if
	:: CTL(old) == W_P ->
		th[HX(i_sl, 0)] = TP;
		th[HX(i_sl, 1)] = TP
	:: CTL(old) == W_U ->
		k_tag(A(i_sl), old, tg);
		th[HX(i_sl, 0)] = TU;
		th[HX(i_sl, 1)] = TU
	:: else ->
		/* D, or X, KERNEL, unknown bits on a FAST slot: forged */
		assert(!HONEST(A(i_sl)) || CTL(old) == W_D);	/* W */
		th[HX(i_sl, 0)] = TD;
		th[HX(i_sl, 1)] = TD
	fi;
	old = 0;
	tg = 0
}

/* Pin halves m of a TREE slot; KERNEL -> P once no range is left. */
inline k_tree_pin(i_sl, i_m, i_res)
{
	assert(HELD(A(i_sl)) && tree[i_sl]);	/* K */
	i_res = 0;
	if
	:: i_m & 1 ->
		assert(!tpunch[HX(i_sl, 0)]);		/* K */
		i_res = i_res | (th[HX(i_sl, 0)] == TD);
		th[HX(i_sl, 0)] = TP
	:: else
	fi;
	if
	:: i_m & 2 ->
		assert(!tpunch[HX(i_sl, 1)]);		/* K */
		i_res = i_res | (th[HX(i_sl, 1)] == TD);
		th[HX(i_sl, 1)] = TP
	:: else
	fi;
	g_pin(i_sl, i_m, i_res);
	if
	:: th[HX(i_sl, 0)] == TP && th[HX(i_sl, 1)] == TP ->
		assert(!HONEST(A(i_sl)) || word[i_sl] == W_KERNEL);	/* W */
		word[i_sl] = W_P;		/* store-release */
		kc++;
		tree[i_sl] = 0
	:: else
	fi
}

inline k_tree_unpin(i_sl, i_m)
{
	assert(HELD(A(i_sl)) && tree[i_sl]);	/* K */
	if
	:: (i_m & 1) && th[HX(i_sl, 0)] == TP -> th[HX(i_sl, 0)] = TU
	:: else
	fi;
	if
	:: (i_m & 2) && th[HX(i_sl, 1)] == TP -> th[HX(i_sl, 1)] = TU
	:: else
	fi;
	g_unpin(i_sl, i_m)
}

/*
 * VRANGE_PIN64 of halves m of slot sl (3: the whole slot): res 0 not
 * purged, 1 purged, 2 EBADF (closed).  Takes area->lock; waits, unlocked,
 * for a punch of what it pins (a FAST claim's, or a tree range's) to end,
 * and starts again.  The retries are not loops on a word: each waits for
 * a punch to end, and a punch starts only from an unpin.
 */
inline k_pin(i_sl, i_m, i_res)
{
	retries = 0;
	do
	:: atomic {
		lock(A(i_sl));
		kc = 0
	   }
		if
		:: closed[A(i_sl)] ->
			unlock(A(i_sl));
			i_res = 2;
			break
		:: !closed[A(i_sl)] && K_BUSY(i_sl, i_m) ->
			unlock(A(i_sl));
			retries = retries + check;
			assert(!check || retries <= OP_RETRY_MAX);	/* B */
			!K_BUSY(i_sl, i_m)		/* vrange_punch_wait() */
		:: else ->
			atomic {
				SCRIBBLE(i_sl);
				if
				:: K_FAST(i_sl) && i_m == 3 ->
					/* whole FAST slot: xchg(P), the old value tells */
					old = word[i_sl];
					word[i_sl] = W_P;
					kc++;
					i_res = (CTL(old) != W_P && CTL(old) != W_U);
					g_pin(i_sl, i_m, i_res);
					assert(!HONEST(A(i_sl)) || CTL(old) == W_P ||	/* W */
					       CTL(old) == W_U || CTL(old) == W_D);
					old = 0
				:: K_FAST(i_sl) && i_m != 3 ->
					k_to_tree(i_sl);
					k_tree_pin(i_sl, i_m, i_res)
				:: else ->
					k_tree_pin(i_sl, i_m, i_res)
				fi;
				assert(kc <= KCAS_MAX);		/* B */
				unlock(A(i_sl))
			}
			break
		fi
	od
}

/*
 * VRANGE_UNPIN64 of halves m of slot sl, by a caller with a tag (tagged)
 * or without: res 0, or 2 (EBADF).  A whole FAST slot: arm, CAS(P -> U
 * with the tag); U, X, D: already unpinned; anything else on a FAST slot
 * not being punched is forged: converted, as a purged range.  Part of a
 * slot, or no tag: converted to TREE first (after its punch, if any).
 */
inline k_unpin(i_sl, i_m, i_tagged, i_res)
{
	retries = 0;
	do
	:: atomic {
		lock(A(i_sl));
		kc = 0;
		i_res = 0;
		SCRIBBLE(i_sl)
	   }
		if
		:: closed[A(i_sl)] ->
			unlock(A(i_sl));
			i_res = 2;
			break
		:: !closed[A(i_sl)] && K_FAST(i_sl) && i_m == 3 && i_tagged ->
#ifndef BUG_IOCTL_UNPIN_NO_ARM
			k_arm(A(i_sl));
#endif
			atomic {
				kc++;
				SCRIBBLE(i_sl);
				if
				:: word[i_sl] == W_P ->
					word[i_sl] = W_U | (tag << 3);
					g_unpin(i_sl, i_m);
					old = W_U
				:: else ->
					old = word[i_sl]
				fi
			}
			if
			:: CTL(old) == W_U || CTL(old) == W_X || CTL(old) == W_D || punching[i_sl] ->
				old = 0	/* unpinned already (or being punched) */
			:: else ->
				atomic {
					k_to_tree(i_sl);
					k_tree_unpin(i_sl, i_m)
				}
			fi;
			assert(kc <= KCAS_MAX);		/* B */
			unlock(A(i_sl));
			break
		:: !closed[A(i_sl)] && K_FAST(i_sl) && (i_m != 3 || !i_tagged) && K_BUSY(i_sl, i_m) ->
			unlock(A(i_sl));
			retries = retries + check;
			assert(!check || retries <= OP_RETRY_MAX);	/* B */
			!K_BUSY(i_sl, i_m)
		:: else ->
			atomic {
				if
				:: K_FAST(i_sl) -> k_to_tree(i_sl)
				:: else
				fi;
				k_tree_unpin(i_sl, i_m);
				assert(kc <= KCAS_MAX);		/* B */
				unlock(A(i_sl))
			}
			break
		fi
	od
}

/* VRANGE_SLOTS_ARM; an unpinner's pending mark ends with it. */
inline k_arm_ioctl(i_sl)
{
	lock(A(i_sl));
	atomic {
		if
		:: !closed[A(i_sl)] -> k_arm(A(i_sl))
		:: else
		fi;
		g_pend[i_sl] = g_pend[i_sl] - HONEST(A(i_sl));
		unlock(A(i_sl))
	}
}

/* ---- libvrange's fast path ---- */

/* vrl_slot_pin1(): res 0 not purged, 1 purged, 3 use PIN64. */
inline fast_pin(i_sl, i_res)
{
	atomic {
		i_res = 3;
		tries = 0;
		SCRIBBLE(i_sl);
		v = word[i_sl];
		if
		:: CTL(v) == W_P ->
			i_res = 0;
			g_pin(i_sl, 3, i_res)	/* pinned already: takes effect here */
		:: else
		fi
	}
	do
	:: i_res == 3 && (CTL(v) == W_U || CTL(v) == W_D) ->
		tries = tries + check;
		assert(!check || tries <= OP_RETRY_MAX + 1);	/* B */
#ifdef BUG_PIN_STORE
		/* a load, then a plain store: no compare */
		word[i_sl] = W_P;
		atomic {
			i_res = (ST(v) == W_D);
			g_pin(i_sl, 3, i_res)
		}
#else
		atomic {
			SCRIBBLE(i_sl);
			if
			:: word[i_sl] == v ->
				word[i_sl] = W_P;
				i_res = (ST(v) == W_D);
				g_pin(i_sl, 3, i_res)
			:: else ->
				v = word[i_sl];	/* the CAS returns what it found */
				if
				:: CTL(v) == W_P ->
					i_res = 0;
					g_pin(i_sl, 3, i_res)
				:: else
				fi
			fi
		}
#endif
	:: else ->
		v = 0;
		tries = 0;
		break
	od
}

/* vrl_slot_unpin1(): res 0 done, 3 use UNPIN64 (KERNEL or invalid word). */
inline fast_unpin(i_sl, i_res)
{
	i_res = 0;
#ifdef BUG_UNPIN_LOAD_FIRST
	atomic {
		SCRIBBLE_ARMED(A(i_sl));
		ar = h_armed[A(i_sl)]		/* the load before the CAS */
	}
#endif
	atomic {
		SCRIBBLE(i_sl);
		if
		:: word[i_sl] == W_P ->
			word[i_sl] = W_U | (tag << 3);	/* CAS, seq_cst */
			g_unpin(i_sl, 3);
			g_pend[i_sl] = g_pend[i_sl] + HONEST(A(i_sl));
			won = 1
		:: else ->
			v = word[i_sl];
			won = 0
		fi
	}
	if
	:: won ->
#ifndef BUG_UNPIN_LOAD_FIRST
		atomic {
			SCRIBBLE_ARMED(A(i_sl));
			ar = h_armed[A(i_sl)]	/* seq_cst load: the Dekker pair */
		}
#endif
		if
		:: ar -> g_pend[i_sl] = g_pend[i_sl] - HONEST(A(i_sl))
		:: else -> k_arm_ioctl(i_sl)
		fi;
		won = 0;
		ar = 0
	:: else ->
		atomic {
			if
			:: (CTL(v) & ~W_STATE) != 0 -> i_res = 3
			:: else			/* U, X, D: unpinned already */
			fi;
			v = 0
		}
	fi
}

/*
 * An owner of slot sl (or, SHARED, one of its two users) with a tag.
 * m: the halves it holds pinned; a new area is pinned.  check: its data
 * and retry bounds are checked (not SHARED, not the scribbled area).
 */
/* The data after a pin of halves got: intact if "not purged"; then written. */
inline user_got()
{
	h = 0;
	do
	:: h < 2 ->
		if
		:: (got >> h) & 1 ->
			assert(!check || res || g_intact[HX(sl, h)]);	/* D */
			g_intact[HX(sl, h)] = check || g_intact[HX(sl, h)]
		:: else
		fi;
		h++
	:: else -> break
	od;
	m = m | got
}

/* Locals back to 0 between operations: fewer states. */
#define USER_RESET	v = 0; res = 0; old = 0; kc = 0; tg = 0; h = 0; got = 0; \
			retries = 0; tries = 0

proctype user(byte sl; byte tag; bit check; bit rich)
{
	byte m = 3, v, res, old, gi, gexp, kc, tg, h, got, retries, tries;
	bit ar, won;

	/* Back here after each operation: progress (pan -l). */
progress:
	do
	:: m == 0 ->
		if
		:: fast_pin(sl, res);
			if
			:: res == 3 -> k_pin(sl, 3, res)
			:: else
			fi;
			got = 3
		:: k_pin(sl, 3, res);
			got = 3
#if !NOTREE
		:: rich -> k_pin(sl, 1, res);
			got = 1
		:: rich -> k_pin(sl, 2, res);
			got = 2
#endif
		:: /* SIGBUS mode: an optimistic read of unpinned data */
			atomic {
				h = 0;
				do
				:: h < 2 ->
					if
					:: check && !g_intact[HX(sl, h)] && !closed[A(sl)] ->
						/* the page is gone: the fault must say so */
						if
						:: tree[sl] -> assert(th[HX(sl, h)] == TD)	/* D */
						:: else -> assert(ST(word[sl]) == W_X || ST(word[sl]) == W_D)	/* D */
						fi
					:: else
					fi;
					h++
				:: else -> break
				od;
				got = 0
			}
		fi;
		if
		:: res == 2 -> break		/* closed: no more ioctls */
		:: else
		fi;
		atomic {
			user_got();
			USER_RESET
		}
	:: m == 3 ->
		if
		:: fast_unpin(sl, res);
			if
			:: res == 3 -> k_unpin(sl, 3, 1, res)
			:: else
			fi
		:: k_unpin(sl, 3, 1, res)
#if !NOTREE
		:: rich -> k_unpin(sl, 3, 0, res)
		:: rich -> k_unpin(sl, 1, 1, res);
			got = 2		/* what it still holds */
		:: rich -> k_unpin(sl, 2, 1, res);
			got = 1
#endif
		:: /* read what it holds */
			assert(!check || (g_intact[HX(sl, 0)] && g_intact[HX(sl, 1)]));	/* D */
			got = 3
		fi;
		if
		:: res == 2 -> break
		:: else
		fi;
		atomic {
			m = got;
			USER_RESET
		}
	:: m == 1 || m == 2 ->
		if
		:: fast_pin(sl, res);
			if
			:: res == 3 -> k_pin(sl, 3, res)
			:: else
			fi;
			got = 3 & ~m
		:: k_pin(sl, 3 & ~m, res);
			got = 3 & ~m
		:: k_unpin(sl, m, 1, res);
			atomic {
				m = 0;
				got = 0
			}
		:: assert(!check || g_intact[HX(sl, m - 1)]);			/* D */
			got = 0
		fi;
		if
		:: res == 2 -> break
		:: else
		fi;
		atomic {
			user_got();
			USER_RESET
		}
	od
}

/*
 * The purger: shrinker visits and PURGE_ALL_CACHES (tag NTAGS: every
 * tag).  A visit scans the FAST slots' words with no lock held, noting
 * this tag's unpinned ones and the value read; then trylocks area->lock
 * and, if the area is armed and open, claims each noted slot that is
 * still FAST and not being punched by CAS from the value the scan read,
 * disarms the area if the scan found no unpinned word, unlocks, then
 * punches and publishes PURGED.  A tree purge is today's: mark under the
 * lock, punch unlocked.  It never waits for anything but its own punches.
 */
proctype purger()
{
	byte a, s, sl, t, tg, v, old, ok, seenu, claimed, kc, h, gi, rounds;
	byte cand;		/* slots the scan noted, a bit each */
	byte vs[NSLOT];		/* the value the scan read, for the CAS */

	do
	:: PURGE_ROUNDS == 0 || rounds < PURGE_ROUNDS ->
		atomic {	/* locals back to 0 between visits: fewer states */
			rounds = rounds + (PURGE_ROUNDS != 0);
			s = 0; sl = 0; t = 0; tg = 0; v = 0; old = 0;
			ok = 0; seenu = 0; claimed = 0; kc = 0; h = 0; gi = 0;
			cand = 0;
			for (s : 0 .. NSLOT - 1) { vs[s] = 0 }
			s = 0;
			CHOOSE(a, NAREA)
		}
		if
		:: CHOOSE(t, NTAGS + 1);		/* NTAGS: PURGE_ALL */
			/* the scan: no lock held */
			do
			:: s < NSLOT ->
				atomic {
					sl = a * NSLOT + s;
					SCRIBBLE(sl);
					if
					:: K_FAST(sl) && !punching[sl] ->
						v = word[sl]		/* READ_ONCE */
					:: else ->
						v = W_P			/* not looked at */
					fi
				}
				atomic {
					if
					:: CTL(v) == W_U ->
						seenu = 1;
						k_tag(a, v, tg);
						if
						:: t == NTAGS || tg == t ->
							cand = cand | (1 << s);
							vs[s] = v
						:: else
						fi
					:: else
					fi;
					s++;
					v = 0;
					tg = 0
				}
			:: else -> break
			od;
			atomic {
				s = 0;
				if
				:: alock[a] == 0 -> alock[a] = _pid + 1; ok = 1
				:: else -> ok = 0		/* busy: passed by */
				fi
			}
			if
			:: ok && (closed[a] || !k_armed[a]) -> unlock(a)
			:: ok && !closed[a] && k_armed[a] ->
				/* the claim: under area->lock */
				do
				:: s < NSLOT ->
					atomic {
						sl = a * NSLOT + s;
						if
						:: (cand >> s) & 1 && K_FAST(sl) && !punching[sl] ->
							kc = 1;		/* one attempt, no retry */
							SCRIBBLE(sl);
#ifdef BUG_NO_CLAIM_CAS
							/* a store after the read: no compare */
							if
							:: true ->
#else
							if
							:: word[sl] == vs[s] ->	/* try_cmpxchg */
#endif
#ifdef BUG_EARLY_D
								word[sl] = W_D;
#else
								word[sl] = W_X;
#endif
								punching[sl] = 1;
								assert(!tree[sl]);	/* K */
								g_claim(sl, 3);
								claimed = claimed | (1 << s)
							:: else		/* changed: skip it */
							fi
						:: else
						fi;
						vs[s] = 0;
						s++
					}
				:: else -> break
				od;
				if
				:: !seenu ->
					/* disarm: WRITE_ONCE(armed, 0); smp_mb(); rescan */
#ifdef BUG_DISARM_NO_FENCE
					sb_armed0[a] = 1;
#else
					h_armed[a] = 0;
#endif
					s = 0;
					do
					:: s < NSLOT ->
						atomic {
#ifdef BUG_DISARM_NO_FENCE
							if
							:: sb_armed0[a] -> h_armed[a] = 0; sb_armed0[a] = 0
							:: skip
							fi;
#endif
							sl = a * NSLOT + s;
							SCRIBBLE(sl);
							if
							:: K_FAST(sl) && CTL(word[sl]) == W_U -> seenu = 1
							:: else
							fi;
							s++
						}
					:: else -> break
					od;
					atomic {
						if
						:: sb_armed0[a] -> h_armed[a] = 0; sb_armed0[a] = 0
						:: else
						fi;
						if
						:: seenu -> h_armed[a] = 1	/* re-arm */
						:: else -> k_armed[a] = 0	/* items off */
						fi
					}
				:: else
				fi;
				atomic {
					unlock(a);
					s = 0
				}
				/* punch, publish PURGED: no lock of ours held */
				do
				:: s < NSLOT ->
					sl = a * NSLOT + s;
					if
					:: (claimed >> s) & 1 ->
						atomic {
							assert(!tree[sl] && punching[sl]);	/* K */
							g_punched(sl, 3)
						}
						atomic {
							assert(!closed[a] && !tree[sl]);	/* K */
							SCRIBBLE(sl);
							old = word[sl];
							word[sl] = W_D;		/* xchg */
							assert(!HONEST(a) || PUBLISH_OK(old));	/* W */
							punching[sl] = 0;
							old = 0
						}
					:: else
					fi;
					s++
				:: else -> break
				od
			:: else
			fi
#if !NOTREE
		:: /* today's range purge, on a TREE slot's half */
			atomic {
				CHOOSE(s, NSLOT);
				sl = a * NSLOT + s;
				CHOOSE(h, 2);
				if
				:: alock[a] == 0 && tree[sl] && th[HX(sl, h)] == TU &&
				   !tpunch[HX(sl, h)] ->
					th[HX(sl, h)] = TD;
					tpunch[HX(sl, h)] = 1;
					g_claim(sl, 1 << h);
					ok = 1
				:: else -> ok = 0
				fi
			}
			if
			:: ok ->
				atomic {
					assert(!closed[a] && tree[sl] && th[HX(sl, h)] == TD);	/* K */
					g_punched(sl, 1 << h);
					tpunch[HX(sl, h)] = 0
				}
			:: else
			fi
#endif
		fi
	:: else -> break
	od
}

/*
 * The last close: waits for the area's punches, then, under area->lock,
 * disarms for good, marks it dead and drops the tree; the words are left
 * (a PURGED word still says so through a mapping that outlived the fd).
 */
proctype closer(byte a)
{
	byte s, sl, busy;

	do
	:: lock(a);
		busy = 0;
		s = 0;
		do
		:: s < NSLOT ->
			sl = a * NSLOT + s;
			busy = busy | punching[sl] | tpunch[HX(sl, 0)] | tpunch[HX(sl, 1)];
			s++
		:: else -> break
		od;
		if
		:: busy -> unlock(a); busy = 0
		:: else -> break
		fi
	od;
	atomic {
		k_armed[a] = 0;
		h_armed[a] = 0;
		closed[a] = 1;
		s = 0;
		do
		:: s < NSLOT ->
			sl = a * NSLOT + s;
			th[HX(sl, 0)] = TP;
			th[HX(sl, 1)] = TP;
			s++
		:: else -> break
		od;
		unlock(a)
	}
}

/* The invariants that hold in every state: A, and K's on the slot state. */
#define INV_A(sl)	(!HONEST(A(sl)) || tree[sl] || CTL(word[sl]) != W_U || \
			 k_armed[A(sl)] || g_pend[sl] > 0 || closed[A(sl)])
#define INV_K(sl)	((!punching[sl] || !tree[sl]) && \
			 (!tpunch[HX(sl, 0)] || (tree[sl] && th[HX(sl, 0)] == TD)) && \
			 (!tpunch[HX(sl, 1)] || (tree[sl] && th[HX(sl, 1)] == TD)))
#if NS == 1
#define ALL(P)	P(0)
#elif NS == 2
#define ALL(P)	(P(0) && P(1))
#else
#define ALL(P)	(P(0) && P(1) && P(2) && P(3))
#endif

proctype monitor()
{
end:	atomic {
		!(ALL(INV_A) && ALL(INV_K)) ->
		assert(ALL(INV_A));	/* A */
		assert(ALL(INV_K))	/* K */
	}
}

init
{
	byte i;

	atomic {
		i = 0;
		do
		:: i < NH ->
			g_intact[i] = 1;	/* what a new area holds: zeros */
			i++
		:: else -> break
		od;
		i = 0;
		do
		:: i < NAREA * NTAGS ->
			tagarea[i] = i / NTAGS;
			i++
		:: else -> break
		od;
		run monitor();
#if SHARED
		run user(0, 0, 0, 0);
		run user(0, 1, 0, 0);
#elif SCRIBBLER == 1
		/* an honest area beside a scribbled one, armed, idle but for
		   the scribbler: the purger works on both */
		run user(0, 0, 1, 0);
		k_armed[1] = 1;
		h_armed[1] = 1;
#elif SCRIBBLER
		/* the scribbled area and a user doing everything there */
		run user(NSLOT, 1, 0, 1);
#else
		i = 0;
		do
		:: i < NS ->
			run user(i, i % NTAGS, 1, 1);
			i++
		:: else -> break
		od;
#endif
#if CLOSE
		run closer(0);
#endif
		i = 0;
		do
		:: i < PURGERS ->
			run purger();
			i++
		:: else -> break
		od
	}
}
