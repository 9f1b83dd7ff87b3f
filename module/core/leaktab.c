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
 * Stack slots
 *
 *	state: EMPTY, BUSY, or READY: (gen << 34) | (hash << 2) | 2, gen
 *	counting the slot's lives; a READY stack is immutable until it is
 *	forgotten (pm_leaktab_forget_stacks()) or cleared
 *	id:    the slot index plus one, in the low PM_LT_ID_SLOT_BITS bits,
 *	       and the low bits of gen above them; 0 is "no stack"
 *
 * Find-or-add scans the whole window for READY with the same hash, tgid
 * and frames: that is the stack, and its id comes from the state read
 * (A), so that it names this life of the slot. Forgotten stacks leave
 * EMPTY slots anywhere in a window, so an EMPTY slot does not end the
 * search (it would add a duplicate of a stack further on); only a stack
 * found nowhere in the window claims an EMPTY slot with cmpxchg, writes
 * it, and publishes it with a release store (C). Two contexts adding the
 * same new stack at once may each get a slot: a duplicate id, harmless
 * (the report shows the same frames twice, each with its own blocks).
 *
 * Forgetting stacks (process context, apart from reports): one pass over
 * the blocks marks the slots their ids name; a READY stack that no block
 * names and that the caller judges, by its tgid and the time it was made,
 * to have outlived its process (or its image) is emptied with a
 * cmpxchg from the very READY state judged. A writer that found the stack
 * just before may still insert a block with its id: the id's gen no
 * longer matches the slot's (emptied, perhaps refilled), and reports
 * count that block as one without a stack rather than under another
 * stack's frames.
 *
 * Report (process context)
 *
 * One pass over the blocks reads each LIVE slot, then checks with a read
 * barrier that its state is still the same LIVE(gen): a slot rewritten
 * meanwhile is left out rather than reported torn. A block whose stack id
 * does not name the current life of its slot goes with the blocks
 * without a stack. Bytes, blocks and the oldest time add up per stack;
 * the rows are sorted by bytes. Blocks come and go during the pass, so a
 * report is a snapshot of each block, not of the table as a whole.
 * Callers keep reports, clears and forgetting stacks apart; writers only
 * fill EMPTY stack slots meanwhile, so a READY stack stays as it is.
 */
#ifdef __KERNEL__
#include <linux/bitmap.h>
#include <linux/bitops.h>
#include <linux/bug.h>
#include <linux/build_bug.h>
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

/* Stack ids: slot index + 1 below, the slot's life above. */
#define PM_LT_ID_SLOT_BITS	23
#define PM_LT_ID_SLOT_MASK	((1U << PM_LT_ID_SLOT_BITS) - 1)
#define PM_LT_STACK_GEN_SHIFT	34
#define PM_LT_STACK_HASH_MASK	((1UL << PM_LT_STACK_GEN_SHIFT) - 1)

static_assert(PM_LEAKTAB_CAPACITY_MAX < PM_LT_ID_SLOT_MASK);
static_assert(sizeof(unsigned long) == 8);

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
	unsigned long gen;	/* written only by the BUSY owner */
	u32 tgid;
	u32 nr;
	u64 time_ns;		/* made then: for forgetting */
	u64 frames[PM_LEAKTAB_FRAMES];
};

static inline u32 pm_lt_stack_id(unsigned int slot, unsigned long state)
{
	return (u32)(state >> PM_LT_STACK_GEN_SHIFT) << PM_LT_ID_SLOT_BITS |
	       (slot + 1);
}

/* The slot of stack @id (not 0). */
static inline unsigned int pm_lt_id_slot(u32 id)
{
	return (id & PM_LT_ID_SLOT_MASK) - 1;
}

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

/*
 * Whether @st holds @tgid's stack @frames. Its slot may be forgotten and
 * refilled while we read: the caller's id is then stale, or no match.
 */
static bool pm_lt_stack_is(const struct pm_leak_stack *st, u32 tgid,
			   const u64 *frames, unsigned int nr)
{
	unsigned int i;

	if (READ_ONCE(st->tgid) != tgid || READ_ONCE(st->nr) != nr)
		return false;
	for (i = 0; i < nr; i++)
		if (READ_ONCE(st->frames[i]) != frames[i])
			return false;
	return true;
}

u32 pm_leaktab_stack_add(struct pm_leaktab *lt, u32 tgid, const u64 *frames,
			 unsigned int nr, u64 time_ns, bool *added)
{
	u32 hash = pm_hash_words(lt->seed ^ tgid, frames, nr);
	unsigned long ready = ((unsigned long)hash << 2) | PM_LT_LIVE;
	unsigned int home = hash & lt->stack_mask, i, n, f;
	struct pm_leak_stack *st;
	unsigned long s;

	if (added)
		*added = false;
	for (n = 0; n < PM_LEAKTAB_PROBE; n++) {
		i = (home + n) & lt->stack_mask;
		st = &lt->stacks[i];
		/* (A): pairs with (C), a READY stack is complete. */
		s = smp_load_acquire(&st->state);
		if ((s & PM_LT_STACK_HASH_MASK) == ready &&
		    pm_lt_stack_is(st, tgid, frames, nr))
			return pm_lt_stack_id(i, s);
	}
	for (n = 0; n < PM_LEAKTAB_PROBE; n++) {
		i = (home + n) & lt->stack_mask;
		st = &lt->stacks[i];
		if (READ_ONCE(st->state) != PM_LT_EMPTY ||
		    cmpxchg(&st->state, PM_LT_EMPTY, PM_LT_BUSY) != PM_LT_EMPTY)
			continue;
		/* The first life's ids are the slot's index plus one. */
		s = st->gen++ << PM_LT_STACK_GEN_SHIFT | ready;
		/* Lookups may still compare the slot's previous life. */
		WRITE_ONCE(st->tgid, tgid);
		WRITE_ONCE(st->time_ns, time_ns);
		WRITE_ONCE(st->nr, nr);
		for (f = 0; f < nr; f++)
			WRITE_ONCE(st->frames[f], frames[f]);
		/* (C): the stack before READY. */
		smp_store_release(&st->state, s);
		if (added)
			*added = true;
		return pm_lt_stack_id(i, s);
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

int pm_leaktab_forget_stacks(struct pm_leaktab *lt,
			     bool (*drop)(void *arg, u32 tgid, u64 time_ns),
			     void *arg)
{
	unsigned int nstacks = lt->stack_mask + 1, i, forgotten = 0;
	unsigned long *named, s;
	struct pm_leak_stack *st;
	u32 id;

	named = bitmap_zalloc(nstacks, GFP_KERNEL);
	if (!named)
		return -ENOMEM;
	for (i = 0; i <= lt->block_mask; i++) {
		if (!(i % 4096))
			cond_resched();
		/* A block being written is not LIVE yet: see the top. */
		if (!pm_lt_live(smp_load_acquire(&lt->blocks[i].state)))
			continue;
		id = READ_ONCE(lt->blocks[i].stack);
		if (id)
			__set_bit(pm_lt_id_slot(id) & lt->stack_mask, named);
	}
	for (i = 0; i < nstacks; i++) {
		if (!(i % 4096))
			cond_resched();
		st = &lt->stacks[i];
		/* (A): the tgid and time of this READY life. */
		s = smp_load_acquire(&st->state);
		if (!pm_lt_live(s) || test_bit(i, named) ||
		    !drop(arg, READ_ONCE(st->tgid), READ_ONCE(st->time_ns)))
			continue;
		/* Only the life judged: a stack never comes back as it was. */
		if (cmpxchg(&st->state, s, PM_LT_EMPTY) == s)
			forgotten++;
	}
	bitmap_free(named);
	return forgotten;
}

/*
 * The report row of the blocks with stack @id: its slot plus one while
 * @id names the slot's current READY life, else 0 (no stack).
 */
static unsigned int pm_lt_stack_row(struct pm_leaktab *lt, u32 id)
{
	unsigned int slot;
	unsigned long s;

	if (!id)
		return 0;
	slot = pm_lt_id_slot(id);
	if (slot > lt->stack_mask)
		return 0;
	/* (A): pairs with (C); the frames are read after it. */
	s = smp_load_acquire(&lt->stacks[slot].state);
	if (!pm_lt_live(s) || pm_lt_stack_id(slot, s) != id)
		return 0;
	return slot + 1;
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
		if (READ_ONCE(b->state) != s)
			continue;
		r = &rows[pm_lt_stack_row(lt, stack)];
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
		rows[nrows].stack = 0;
		if (i) {
			/*
			 * Immutable while READY, and no stack is forgotten
			 * during a report: no copy needed.
			 */
			st = &lt->stacks[i - 1];
			rows[nrows].stack = pm_lt_stack_id(i - 1,
							   READ_ONCE(st->state));
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
