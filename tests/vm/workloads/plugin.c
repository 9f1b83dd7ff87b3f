// SPDX-License-Identifier: GPL-2.0
/*
 * libpmplugin.so: a library whose host dlopen()s it only after the
 * tracers started, for t27-memleak.sh (built there with frame pointers).
 * plugin_leak_many(K, S) leaks K blocks of S bytes from plugin_leak().
 */
#include <stdlib.h>
#include <string.h>

#define PLUGIN_KEPT 100000

static void *kept[PLUGIN_KEPT];

__attribute__((noinline)) void *plugin_leak(size_t s)
{
	void *p = malloc(s);

	if (p)
		memset(p, 2, s);
	return p;
}

__attribute__((noinline)) void plugin_leak_many(int k, size_t s)
{
	int i;

	for (i = 0; i < k && i < PLUGIN_KEPT; i++)
		kept[i] = plugin_leak(s);
}
