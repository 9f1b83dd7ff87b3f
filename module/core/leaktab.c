// SPDX-License-Identifier: GPL-2.0
/*
 * PerSecMon outstanding-allocation table.
 *
 * Two fixed arrays, allocated at init and never resized: blocks (one slot
 * per outstanding allocation) and stacks (one slot per distinct stack).
 * Both use open addressing: a key hashes to a home slot and may live in
 * any of the PM_LEAKTAB_PROBE slots from there (the window).
 *
 * Block slots
 *
 *	state: EMPTY (0), BUSY (1: owned by one writer), or LIVE:
 *	       (gen << 2) | 2, gen counting the slot's lives
 *	hop:   of the slot as a home: bit d set while slot home + d is
 *	       owned by, or LIVE with, a block whose home this is
 *
 * Blocks are deleted by emptying their slot, so the slots of a window
 * are not packed and an EMPTY one does not end a lookup; the home's hop
 * bits say which slots to look at (hopscotch hashing's neighbourhood
 * map, without the displacement). A lookup costs one slot per block of
 * the same home, usually one or none, instead of the whole window.
 *
 * insert(tgid, addr), home h:
 *	for each bit d of h's hop:
 *		s = load_acquire(state of h + d)		(A)
 *		LIVE with the same key: cmpxchg(state, s, BUSY)	(B)
 *			won: rewrite size, stack, time; gen++;
 *			     store_release(state, LIVE(gen))	(C)
 *			     (a block allocated over a live one: its
 *			     free was lost; counted as "replaced")
 *	then, for each slot h + n of the window:
 *		EMPTY: cmpxchg(state, EMPTY, BUSY)		(B)
 *			won: set bit n of h's hop, write the block,
 *			     gen++, (C)
 *	nothing: blocks_full++
 *
 * remove(tgid, addr), home h:
 *	for each bit d of h's hop:
 *		s = load_acquire(state of h + d)		(A)
 *		LIVE with the same key: cmpxchg(state, s, BUSY)	(B)
 *			won: clear bit d of h's hop;
 *			     store_release(state, EMPTY)	(C)
 *
 * The key is read after (A) and only trusted if the cmpxchg (B) finds the
 * very state read at (A): the generation makes a slot that was emptied
 * and refilled in between (ABA) fail the cmpxchg. (C) pairs with (A):
 * whoever sees LIVE(gen) sees the block written before it. Nobody waits
 * on a BUSY slot (it may belong to the context we interrupted): it is
 * skipped. So a remove racing with the insert of the same key misses it;
 * for allocators this cannot happen, since free()'s entry runs before the
 * block can be handed out again.
 *
 * Hop bits change only under the slot's BUSY ownership, with atomic bit
 * operations (other bits of the word belong to other slots' owners): set
 * before the block is published, cleared before the slot is emptied. The
 * release at (C) orders the bit before the state, and the cmpxchg that
 * claims an EMPTY slot sees the clear of its previous life, so every LIVE
 * block has its bit set, and a set bit names a slot that holds, or is
 * being given or taken from, a block of that home.
 *
 * Stack slots (insert-only, as in aggmap.c)
 *
 *	state: EMPTY, BUSY, or READY: (hash << 2) | 2; a READY stack is
 *	immutable until pm_leaktab_clear()
 *
 * Find-or-add scans the window: READY with the same hash, tgid and frames
 * is the stack; an EMPTY slot is claimed with cmpxchg, written, and
 * published with a release store. Two contexts adding the same new stack
 * at once may each get a slot: a duplicate id, harmless (the report shows
 * the same frames twice, each with its own blocks). The id is the slot
 * index plus one.
 *
 * Report (process context)
 *
 * One pass over the blocks reads each LIVE slot, then checks with a read
 * barrier that its state is still the same LIVE(gen): a slot rewritten
 * meanwhile is left out rather than reported torn. Bytes, blocks and the
 * oldest time add up per stack; the rows are sorted by bytes. Blocks come
 * and go during the pass, so a report is a snapshot of each block, not of
 * the table as a whole. Callers keep reports and clears apart.
 */
#ifdef __KERNEL__
#include <linux/bitops.h>
#include <linux/bug.h>
#include <linux/errno.h>
#include <linux/log2.h>
#include <linux/minmax.h>
#include <linux/random.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/string.h>
#endif

#include "hashmix.h"
#include "leaktab.h"

#define PM_LT_EMPTY		0UL
#define PM_LT_BUSY		1UL
#define PM_LT_LIVE		2UL
#define PM_LT_STATE_MASK	3UL

struct pm_leak_block {
	unsigned long state;
	unsigned long gen;	/* written only by the BUSY owner */
	unsigned long hop;	/* this slot as a home: see above */
	u32 tgid;
	u32 stack;
	u64 addr;
	u64 size;
	u64 time_ns;
};

struct pm_leak_stack {
	unsigned long state;
	u32 tgid;
	u32 nr;
	u64 frames[PM_LEAKTAB_FRAMES];
};

static inline bool pm_lt_live(unsigned long state)
{
	return (state & PM_LT_STATE_MASK) == PM_LT_LIVE;
}

int pm_leaktab_init(struct pm_leaktab *lt, unsigned int blocks,
		    unsigned int stacks)
{
	if (!is_power_of_2(blocks) || !is_power_of_2(stacks) ||
	    blocks < PM_LEAKTAB_PROBE || stacks < PM_LEAKTAB_PROBE ||
	    blocks > PM_LEAKTAB_CAPACITY_MAX ||
	    stacks > PM_LEAKTAB_CAPACITY_MAX)
		return -EINVAL;
	lt->blocks = kvcalloc(blocks, sizeof(*lt->blocks), GFP_KERNEL);
	lt->stacks = kvcalloc(stacks, sizeof(*lt->stacks), GFP_KERNEL);
	if (!lt->blocks || !lt->stacks) {
		kvfree(lt->blocks);
		kvfree(lt->stacks);
		lt->blocks = NULL;
		lt->stacks = NULL;
		return -ENOMEM;
	}
	lt->block_mask = blocks - 1;
	lt->stack_mask = stacks - 1;
	lt->seed = ((u64)get_random_u32() << 32) | get_random_u32();
	pm_leaktab_clear(lt);
	return 0;
}

void pm_leaktab_destroy(struct pm_leaktab *lt)
{
	kvfree(lt->blocks);
	kvfree(lt->stacks);
	lt->blocks = NULL;
	lt->stacks = NULL;
}

void pm_leaktab_clear(struct pm_leaktab *lt)
{
	memset(lt->blocks, 0, (lt->block_mask + 1) * sizeof(*lt->blocks));
	memset(lt->stacks, 0, (lt->stack_mask + 1) * sizeof(*lt->stacks));
	atomic64_set(&lt->blocks_full, 0);
	atomic64_set(&lt->stacks_full, 0);
	atomic64_set(&lt->replaced, 0);
}

u32 pm_leaktab_stack_add(struct pm_leaktab *lt, u32 tgid, const u64 *frames,
			 unsigned int nr, bool *added)
{
	u32 hash = pm_hash_words(lt->seed ^ tgid, frames, nr);
	unsigned long ready = ((unsigned long)hash << 2) | PM_LT_LIVE;
	unsigned int i = hash & lt->stack_mask, n;
	struct pm_leak_stack *st;
	unsigned long s;

	if (added)
		*added = false;
	for (n = 0; n < PM_LEAKTAB_PROBE; n++, i = (i + 1) & lt->stack_mask) {
		st = &lt->stacks[i];
		/* (A): pairs with (C), a READY stack is complete. */
		s = smp_load_acquire(&st->state);
		if (s == PM_LT_EMPTY &&
		    cmpxchg(&st->state, PM_LT_EMPTY, PM_LT_BUSY) ==
		    PM_LT_EMPTY) {
			st->tgid = tgid;
			st->nr = nr;
			memcpy(st->frames, frames, nr * sizeof(*frames));
			/* (C): the stack before READY. */
			smp_store_release(&st->state, ready);
			if (added)
				*added = true;
			return i + 1;
		}
		if (s == PM_LT_EMPTY)	/* lost (B), which orders nothing: (A) */
			s = smp_load_acquire(&st->state);
		if (s == ready && st->tgid == tgid && st->nr == nr &&
		    !memcmp(st->frames, frames, nr * sizeof(*frames)))
			return i + 1;
	}
	atomic64_inc(&lt->stacks_full);
	return 0;
}

static inline unsigned int pm_lt_home(const struct pm_leaktab *lt, u32 tgid,
				      u64 addr)
{
	return pm_hash_words(lt->seed ^ tgid, &addr, 1) & lt->block_mask;
}

/*
 * Takes the LIVE block of (tgid, addr), whose home is @home, to BUSY and
 * gives its distance from there; NULL if there is none.
 */
static struct pm_leak_block *pm_lt_take(struct pm_leaktab *lt,
					unsigned int home, u32 tgid, u64 addr,
					unsigned int *dist)
{
	unsigned long bits = READ_ONCE(lt->blocks[home].hop);
	struct pm_leak_block *b;
	unsigned int d;
	unsigned long s;

	while (bits) {
		d = __ffs(bits);
		bits &= bits - 1;
		b = &lt->blocks[(home + d) & lt->block_mask];
		/* (A): pairs with (C); the key is checked again by (B). */
		s = smp_load_acquire(&b->state);
		/* Racy if the slot is being retaken: (B) then fails. */
		if (!pm_lt_live(s) || READ_ONCE(b->addr) != addr ||
		    READ_ONCE(b->tgid) != tgid)
			continue;
		if (cmpxchg(&b->state, s, PM_LT_BUSY) == s) {
			*dist = d;
			return b;
		}
	}
	return NULL;
}

static void pm_lt_publish(struct pm_leak_block *b)
{
	b->gen++;
	/* (C): the block and its hop bit before its LIVE state. */
	smp_store_release(&b->state, (b->gen << 2) | PM_LT_LIVE);
}

/* Empties @b, BUSY and ours, at @dist from its home @home. */
static void pm_lt_empty(struct pm_leaktab *lt, struct pm_leak_block *b,
			unsigned int home, unsigned int dist)
{
	clear_bit(dist, &lt->blocks[home].hop);
	/* (C): the bit and our reads of the block before it can be reused. */
	smp_store_release(&b->state, PM_LT_EMPTY);
}

bool pm_leaktab_insert(struct pm_leaktab *lt, u32 tgid, u64 addr, u64 size,
		       u32 stack, u64 time_ns)
{
	unsigned int home = pm_lt_home(lt, tgid, addr), n;
	struct pm_leak_block *b;

	b = pm_lt_take(lt, home, tgid, addr, &n);
	if (b) {
		atomic64_inc(&lt->replaced);
		goto fill;
	}
	for (n = 0; n < PM_LEAKTAB_PROBE; n++) {
		b = &lt->blocks[(home + n) & lt->block_mask];
		if (READ_ONCE(b->state) == PM_LT_EMPTY &&
		    cmpxchg(&b->state, PM_LT_EMPTY, PM_LT_BUSY) ==
		    PM_LT_EMPTY) {
			set_bit(n, &lt->blocks[home].hop);
			goto fill;
		}
	}
	atomic64_inc(&lt->blocks_full);
	return false;

fill:
	/* Lock-free readers may still look at the slot's previous life. */
	WRITE_ONCE(b->tgid, tgid);
	WRITE_ONCE(b->addr, addr);
	WRITE_ONCE(b->size, size);
	WRITE_ONCE(b->stack, stack);
	WRITE_ONCE(b->time_ns, time_ns);
	pm_lt_publish(b);
	return true;
}

bool pm_leaktab_remove(struct pm_leaktab *lt, u32 tgid, u64 addr)
{
	unsigned int home = pm_lt_home(lt, tgid, addr), dist;
	struct pm_leak_block *b = pm_lt_take(lt, home, tgid, addr, &dist);

	if (!b)
		return false;
	pm_lt_empty(lt, b, home, dist);
	return true;
}

unsigned int pm_leaktab_forget_if(struct pm_leaktab *lt,
				  bool (*drop)(void *arg, u32 tgid,
					       u64 time_ns),
				  void *arg)
{
	unsigned int i, home, forgotten = 0;
	struct pm_leak_block *b;
	unsigned long s;

	for (i = 0; i <= lt->block_mask; i++) {
		/* Up to PM_LEAKTAB_CAPACITY_MAX slots: let others run. */
		if (!(i % 4096))
			cond_resched();
		b = &lt->blocks[i];
		/* (A), (B) as in pm_leaktab_remove(). */
		s = smp_load_acquire(&b->state);
		if (!pm_lt_live(s))
			continue;
		/*
		 * Racy if the slot changes meanwhile; then (B) fails, since
		 * a state never comes back: what (B) takes is what we read.
		 */
		if (drop && !drop(arg, READ_ONCE(b->tgid), READ_ONCE(b->time_ns)))
			continue;
		if (cmpxchg(&b->state, s, PM_LT_BUSY) != s)
			continue;
		/* Ours now: the key is the one published with s. */
		home = pm_lt_home(lt, b->tgid, b->addr);
		pm_lt_empty(lt, b, home, (i - home) & lt->block_mask);
		forgotten++;
	}
	return forgotten;
}

void pm_leaktab_forget_blocks(struct pm_leaktab *lt)
{
	pm_leaktab_forget_if(lt, NULL, NULL);
}

static int pm_lt_row_cmp(const void *a, const void *b)
{
	const struct pm_leak_row *x = a, *y = b;

	if (x->bytes != y->bytes)
		return x->bytes < y->bytes ? 1 : -1;
	return x->stack < y->stack ? -1 : x->stack > y->stack;
}

int pm_leaktab_report(struct pm_leaktab *lt,
		      int (*fn)(void *arg, const struct pm_leak_row *row),
		      void *arg)
{
	unsigned int nstacks = lt->stack_mask + 1, i, nrows = 0;
	struct pm_leak_row *rows;
	int ret = 0;

	/* rows[id]: id 0 gathers the blocks without a stack. */
	rows = kvcalloc(nstacks + 1, sizeof(*rows), GFP_KERNEL);
	if (!rows)
		return -ENOMEM;
	for (i = 0; i <= lt->block_mask; i++) {
		struct pm_leak_block *b = &lt->blocks[i];
		/* (A): pairs with (C), the block of this LIVE(gen). */
		unsigned long s = smp_load_acquire(&b->state);
		struct pm_leak_row *r;
		u64 size, time_ns;
		u32 stack;

		if (!pm_lt_live(s))
			continue;
		stack = READ_ONCE(b->stack);
		size = READ_ONCE(b->size);
		time_ns = READ_ONCE(b->time_ns);
		/* The fields belong to the state read above. */
		smp_rmb();
		if (READ_ONCE(b->state) != s || stack > nstacks)
			continue;
		r = &rows[stack];
		if (!r->allocations || time_ns < r->oldest_ns)
			r->oldest_ns = time_ns;
		r->bytes += size;
		r->allocations++;
	}
	for (i = 0; i <= nstacks; i++) {
		struct pm_leak_stack *st;

		if (!rows[i].allocations)
			continue;
		rows[nrows] = rows[i];
		rows[nrows].stack = i;
		if (i) {
			/* READY stacks are immutable: no copy needed. */
			st = &lt->stacks[i - 1];
			rows[nrows].tgid = st->tgid;
			rows[nrows].nr_frames = min_t(u32, st->nr,
						      PM_LEAKTAB_FRAMES);
			rows[nrows].frames = st->frames;
		} else {
			rows[nrows].tgid = 0;
			rows[nrows].nr_frames = 0;
			rows[nrows].frames = NULL;
		}
		nrows++;
	}
	sort(rows, nrows, sizeof(*rows), pm_lt_row_cmp, NULL);
	for (i = 0; i < nrows && !ret; i++)
		ret = fn(arg, &rows[i]);
	kvfree(rows);
	return ret;
}
