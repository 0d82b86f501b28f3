/*
 * rootkey.h
 *		The 32-byte root key: loaded once in the postmaster, held in libsodium secure
 *		memory, never visible to SQL.
 */
#ifndef RG_ROOTKEY_H
#define RG_ROOTKEY_H

#define RG_ROOT_KEY_BYTES 32

extern char *rg_root_key_file;
extern char *rg_root_key_command;

/* Called from _PG_init: define the settings and, when preloading, load the key. */
extern void rg_rootkey_init(void);

/*
 * The root key, or an RG011 error whose hint says why none is loaded.  The returned
 * memory is read-only and must never be copied into palloc'd memory, logged or shown.
 */
extern const unsigned char *rg_root_key(void);

/* The key check value as 16 hex digits and a NUL (RG011 when no key is loaded). */
#define RG_KEY_CHECK_HEX 17
extern void rg_root_key_check_value(char hex[RG_KEY_CHECK_HEX]);

/* true when a key is loaded */
extern bool rg_root_key_available(void);

#endif							/* RG_ROOTKEY_H */
