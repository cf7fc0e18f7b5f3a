// Part: the hard size and depth limits of heartbeat's message layer (cluster-glue
// include/ha_msg.h, lib/clplumbing/cl_msg*.c). Every decoder and encoder in src/codec
// checks against these before it allocates.

/**
 * MAXMSG: the largest message heartbeat handles on the wire. Its UDP reader reads at most
 * MAXMSG-1 bytes per datagram (it keeps one byte for the NUL it appends), so a datagram of
 * MAXMSG bytes or more arrives truncated and fails authentication.
 */
export const MAXMSG_BYTES = 262_144;

/** The largest frame we accept or produce: what a 3.0.6 receiver can read in one go. */
export const MAX_FRAME_BYTES = MAXMSG_BYTES - 1;

/**
 * MAXUNCOMPRESSED: the largest in-memory message; also the output cap of decompression
 * (cl_decompressmsg allocates exactly this much), which bounds a zip bomb.
 */
export const MAX_UNCOMPRESSED_BYTES = 2 * 1024 * 1024;

/**
 * MAXDEPTH: nested messages (struct fields) may go 16 levels deep. The classic format has
 * one newline replacement byte per level (SPECIAL_SYMS in cl_msg_types.c), so a struct
 * field can only live in a message at depth 0..15.
 */
export const MAX_NESTING_DEPTH = 16;

/** Highest auth index authkeys allows (MAXAUTH-1 in heartbeat/auth.c). */
export const MAX_AUTH_INDEX = 15;
