/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The "block" probe group: one PERSECMON_EV_BLOCK per completed block
 * request (device, sector, bytes, op, issue-to-completion latency, queue
 * time), attributed to the task that submitted it, and the aggregates
 * "biolatency", "biolatency_disk", "biolatency_proc", "biotop" and
 * "biostats". docs/probes-block.md explains the mechanism per kernel.
 */
#ifndef PERSECMON_PROBES_BLOCK_H
#define PERSECMON_PROBES_BLOCK_H

int pm_block_init(void);
void pm_block_exit(void);

#endif /* PERSECMON_PROBES_BLOCK_H */
