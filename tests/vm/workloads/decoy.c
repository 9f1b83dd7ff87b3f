// SPDX-License-Identifier: GPL-2.0
/*
 * A library with none of plugin.c's symbols: t27 puts it at the path
 * where a process of another mount namespace saw the plugin, so that
 * only the file that process mapped can name its frames.
 */
int decoy_function(void);

int decoy_function(void)
{
	return 1;
}
