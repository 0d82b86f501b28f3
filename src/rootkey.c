/*
 * rootkey.c
 *		Loading the root key from riskguard.root_key_file or riskguard.root_key_command.
 *
 * The key is read once, in the postmaster, while shared_preload_libraries is processed.
 * It lives in memory from sodium_malloc (guard pages, locked, wiped on free) that is
 * read-only after loading; backends inherit it through fork and lock it again on first
 * use, since mlock does not survive fork.  Failures are logged at start and remembered,
 * so that any later use raises RG011 with the reason; the rest of riskguard works.
 * Neither the key nor the command's output is ever written to a message.
 */
#include "postgres.h"

#include <limits.h>
#include <sys/stat.h>
#include <sodium.h>

#include "fmgr.h"
#include "miscadmin.h"
#include "storage/fd.h"
#include "utils/builtins.h"
#include "utils/guc.h"

#include "rg_errors.h"
#include "rootkey.h"

char	   *rg_root_key_file = NULL;
char	   *rg_root_key_command = NULL;

static unsigned char *root_key = NULL;
static bool root_key_locked_here = false;
static pid_t root_key_locked_pid = 0;

/* why no key is loaded; a fixed sentence without secrets, kept for the RG011 hint */
static char key_failure[256] = "";

static void remember_failure(const char *fmt,...) pg_attribute_printf(1, 2);

static void
remember_failure(const char *fmt,...)
{
	va_list		args;

	va_start(args, fmt);
	vsnprintf(key_failure, sizeof(key_failure), fmt, args);
	va_end(args);
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Decode 64 hex characters, optionally followed by whitespace, into out.  Returns false
 * for anything else; the input buffer is the caller's to wipe.
 */
static bool
decode_hex_key(const char *buf, size_t len, unsigned char *out)
{
	size_t		end = len;

	while (end > 0 && (buf[end - 1] == '\n' || buf[end - 1] == '\r' ||
					   buf[end - 1] == ' ' || buf[end - 1] == '\t'))
		end--;
	if (end != 2 * RG_ROOT_KEY_BYTES)
		return false;
	for (int i = 0; i < RG_ROOT_KEY_BYTES; i++)
	{
		int			hi = hexval(buf[2 * i]);
		int			lo = hexval(buf[2 * i + 1]);

		if (hi < 0 || lo < 0)
		{
			sodium_memzero(out, RG_ROOT_KEY_BYTES);
			return false;
		}
		out[i] = (unsigned char) ((hi << 4) | lo);
	}
	return true;
}

/* Is path inside the data directory?  Both are resolved to real paths first. */
static bool
path_inside_datadir(const char *path)
{
	char		real_file[PATH_MAX];
	char		real_data[PATH_MAX];
	size_t		n;

	if (DataDir == NULL || realpath(path, real_file) == NULL ||
		realpath(DataDir, real_data) == NULL)
		return false;
	n = strlen(real_data);
	return strncmp(real_file, real_data, n) == 0 &&
		(real_file[n] == '/' || real_file[n] == '\0');
}

/* Store a decoded key in locked, read-only memory. */
static void
install_key(const unsigned char *key)
{
	root_key = sodium_malloc(RG_ROOT_KEY_BYTES);
	if (root_key == NULL)
	{
		remember_failure("Secure memory for the root key could not be allocated.");
		ereport(LOG,
				(errmsg("could not load riskguard root key"),
				 errdetail("%s", key_failure)));
		return;
	}
	memcpy(root_key, key, RG_ROOT_KEY_BYTES);
	sodium_mprotect_readonly(root_key);
	root_key_locked_pid = getpid();
	root_key_locked_here = true;
}

static void
load_from_file(const char *path)
{
	struct stat st;
	char		buf[160];
	unsigned char key[RG_ROOT_KEY_BYTES];
	FILE	   *f;
	size_t		len;

	if (stat(path, &st) != 0)
	{
		remember_failure("The key file could not be read: %s.", strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode))
	{
		remember_failure("The key file is not a regular file.");
		goto fail;
	}
	if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0)
	{
		remember_failure("The key file is accessible by group or others (mode %04o); it must be mode 0600 or 0400.",
						 (unsigned) (st.st_mode & 07777));
		goto fail;
	}
	if (path_inside_datadir(path))
	{
		remember_failure("The key file is inside the data directory, where backups and replicas would copy it.");
		goto fail;
	}
	f = AllocateFile(path, "r");
	if (f == NULL)
	{
		remember_failure("The key file could not be opened: %s.", strerror(errno));
		goto fail;
	}
	len = fread(buf, 1, sizeof(buf), f);
	FreeFile(f);
	if (!decode_hex_key(buf, len, key))
	{
		sodium_memzero(buf, sizeof(buf));
		remember_failure("The key file does not hold exactly 64 hexadecimal characters.");
		goto fail;
	}
	sodium_memzero(buf, sizeof(buf));
	install_key(key);
	sodium_memzero(key, sizeof(key));
	if (root_key)
		ereport(LOG, (errmsg("riskguard root key loaded from file \"%s\"", path)));
	return;

fail:
	ereport(LOG,
			(errmsg("could not load riskguard root key from file \"%s\"", path),
			 errdetail("%s", key_failure),
			 errhint("Encryption functions will raise RG011 until the server is restarted with a valid key.")));
}

static void
load_from_command(const char *command)
{
	char		buf[160];
	unsigned char key[RG_ROOT_KEY_BYTES];
	FILE	   *p;
	size_t		len;
	int			rc;

	fflush(NULL);
	p = OpenPipeStream(command, "r");
	if (p == NULL)
	{
		remember_failure("The key command could not be started: %s.", strerror(errno));
		goto fail;
	}
	len = fread(buf, 1, sizeof(buf), p);
	/* drain the rest without keeping it */
	{
		char		sink[256];

		while (fread(sink, 1, sizeof(sink), p) > 0)
			;
		sodium_memzero(sink, sizeof(sink));
	}
	rc = ClosePipeStream(p);
	if (rc != 0)
	{
		sodium_memzero(buf, sizeof(buf));
		remember_failure("The key command exited with status %d.", rc);
		goto fail;
	}
	if (!decode_hex_key(buf, len, key))
	{
		sodium_memzero(buf, sizeof(buf));
		remember_failure("The key command did not print exactly 64 hexadecimal characters.");
		goto fail;
	}
	sodium_memzero(buf, sizeof(buf));
	install_key(key);
	sodium_memzero(key, sizeof(key));
	if (root_key)
		ereport(LOG, (errmsg("riskguard root key loaded from riskguard.root_key_command")));
	return;

fail:
	ereport(LOG,
			(errmsg("could not load riskguard root key from riskguard.root_key_command"),
			 errdetail("%s", key_failure),
			 errhint("Encryption functions will raise RG011 until the server is restarted with a valid key.")));
}

void
rg_rootkey_init(void)
{
	/*
	 * PGC_POSTMASTER settings can only be defined while the server starts, and the
	 * key is only read then: without preloading, there is nothing to define or load.
	 */
	if (!process_shared_preload_libraries_in_progress)
	{
		remember_failure("The riskguard library is not in shared_preload_libraries, so no root key was read at server start.");
		return;
	}

	DefineCustomStringVariable("riskguard.root_key_file",
							   "File holding the 32-byte root key as 64 hexadecimal characters.",
							   "Read once at server start; must be mode 0600 and outside the data directory.",
							   &rg_root_key_file,
							   NULL,
							   PGC_POSTMASTER,
							   GUC_SUPERUSER_ONLY,
							   NULL, NULL, NULL);
	DefineCustomStringVariable("riskguard.root_key_command",
							   "Command that prints the 32-byte root key as 64 hexadecimal characters.",
							   "Run once at server start, instead of reading riskguard.root_key_file.",
							   &rg_root_key_command,
							   NULL,
							   PGC_POSTMASTER,
							   GUC_SUPERUSER_ONLY,
							   NULL, NULL, NULL);

	if (sodium_init() < 0)
	{
		remember_failure("Libsodium could not be initialised.");
		ereport(LOG, (errmsg("could not load riskguard root key"),
					  errdetail("%s", key_failure)));
		return;
	}

	if (rg_root_key_file && rg_root_key_file[0] &&
		rg_root_key_command && rg_root_key_command[0])
	{
		remember_failure("Both riskguard.root_key_file and riskguard.root_key_command are set; set only one.");
		ereport(LOG, (errmsg("could not load riskguard root key"),
					  errdetail("Both riskguard.root_key_file and riskguard.root_key_command are set."),
					  errhint("Set only one of them.")));
		return;
	}
	if (rg_root_key_file && rg_root_key_file[0])
		load_from_file(rg_root_key_file);
	else if (rg_root_key_command && rg_root_key_command[0])
		load_from_command(rg_root_key_command);
	else
		remember_failure("Neither riskguard.root_key_file nor riskguard.root_key_command is set.");
}

bool
rg_root_key_available(void)
{
	return root_key != NULL;
}

const unsigned char *
rg_root_key(void)
{
	if (root_key == NULL)
		rg_error(ERRCODE_RG_NO_ROOT_KEY,
				 key_failure[0] ? key_failure : "The root key was not loaded.",
				 "Add riskguard to shared_preload_libraries, set riskguard.root_key_file (mode 0600, outside the data directory) or riskguard.root_key_command, and restart the server.",
				 "no riskguard root key is loaded");

	/* mlock is not inherited across fork: lock the page again in this process */
	if (!root_key_locked_here || root_key_locked_pid != getpid())
	{
		sodium_mlock(root_key, RG_ROOT_KEY_BYTES);
		root_key_locked_pid = getpid();
		root_key_locked_here = true;
	}
	return root_key;
}

void
rg_root_key_check_value(char hex[RG_KEY_CHECK_HEX])
{
	static const char label[] = "riskguard key check value v1";
	const unsigned char *key = rg_root_key();
	unsigned char out[(RG_KEY_CHECK_HEX - 1) / 2];

	crypto_generichash(out, sizeof(out), (const unsigned char *) label, sizeof(label) - 1,
					   key, RG_ROOT_KEY_BYTES);
	sodium_bin2hex(hex, RG_KEY_CHECK_HEX, out, sizeof(out));
}

PG_FUNCTION_INFO_V1(rg_key_check_value);

/*
 * riskguard.key_check_value(): a 16-hex-digit check value of the loaded root key
 * (keyed BLAKE2b of a fixed label), so operators can confirm that a restored or
 * replicated server holds the same key without ever showing it.
 */
Datum
rg_key_check_value(PG_FUNCTION_ARGS)
{
	char		hex[RG_KEY_CHECK_HEX];

	rg_root_key_check_value(hex);
	PG_RETURN_TEXT_P(cstring_to_text(hex));
}
