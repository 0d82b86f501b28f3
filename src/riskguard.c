/*
 * riskguard.c
 *		Module start-up and version reporting.
 *
 * _PG_init only calls each module's init.  Everything but encryption and the recorder
 * of refused attempts works without shared_preload_libraries; the root key is read and
 * the recorder's shared memory reserved only when the library is preloaded.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/indexing.h"
#include "catalog/pg_extension.h"
#include "commands/extension.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "catalog/pg_type.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/inval.h"
#include "utils/rel.h"

#include "riskguard.h"
#include "alert.h"
#include "crypto.h"
#include "limit_rules.h"
#include "recorder.h"
#include "rootkey.h"
#include "rowcache.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

void
_PG_init(void)
{
	rg_rootkey_init();
	rg_limits_init();
	rg_alerts_init();
	rg_recorder_init();
	rg_rowcache_init();
	rg_copy_init();

	MarkGUCPrefixReserved("riskguard");
}

/* The extversion of the installed riskguard extension, or NULL when not installed. */
static char *
installed_sql_version(void)
{
	Relation	rel;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	char	   *result = NULL;

	rel = table_open(ExtensionRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_extension_extname, BTEqualStrategyNumber, F_NAMEEQ,
				CStringGetDatum("riskguard"));
	scan = systable_beginscan(rel, ExtensionNameIndexId, true, NULL, 1, &key);
	tup = systable_getnext(scan);
	if (HeapTupleIsValid(tup))
	{
		bool		isnull;
		Datum		d = heap_getattr(tup, Anum_pg_extension_extversion,
									 RelationGetDescr(rel), &isnull);

		if (!isnull)
			result = text_to_cstring(DatumGetTextPP(d));
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return result;
}

PG_FUNCTION_INFO_V1(rg_version);

/*
 * riskguard.version(): the loaded library's version.  A library that does not match
 * the installed SQL objects is reported with a warning naming both versions.
 */
Datum
rg_version(PG_FUNCTION_ARGS)
{
	char	   *sql_version = installed_sql_version();

	if (sql_version != NULL && strcmp(sql_version, RISKGUARD_VERSION) != 0)
		ereport(WARNING,
				(errmsg("riskguard library version %s does not match the installed extension version %s",
						RISKGUARD_VERSION, sql_version),
				 errhint("Run ALTER EXTENSION riskguard UPDATE, or install the matching library and restart the server.")));
	PG_RETURN_TEXT_P(cstring_to_text(RISKGUARD_VERSION));
}

PG_FUNCTION_INFO_V1(rg_check_library_version);

/*
 * riskguard._check_library_version(expected): called by install and update scripts so
 * that SQL objects are never created against a library of another version.
 */
Datum
rg_check_library_version(PG_FUNCTION_ARGS)
{
	char	   *expected = text_to_cstring(PG_GETARG_TEXT_PP(0));

	if (strcmp(expected, RISKGUARD_VERSION) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("riskguard library version %s does not match the extension script version %s",
						RISKGUARD_VERSION, expected),
				 errhint("Install the riskguard library built from the same sources as the SQL scripts, then restart the server.")));
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(rg_config_changed);

/*
 * riskguard._config_changed(): statement trigger on a configuration table (flows,
 * reserve rules, limit rules, models, ...).  It queues a relcache invalidation of the
 * table, which every backend receives when the change commits (this one at once), so
 * their compiled caches of it are rebuilt before the next use.
 */
Datum
rg_config_changed(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("function can only be called as a trigger")));
	CacheInvalidateRelcacheByRelid(RelationGetRelid(trigdata->tg_relation));
	return PointerGetDatum(NULL);
}

void
rg_spi_connect_once(bool *connected)
{
	if (*connected)
		return;
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "could not connect to SPI");
	*connected = true;
}

char	  **
rg_text_array_cstrings(Datum d, int *n)
{
	ArrayType  *arr = DatumGetArrayTypeP(d);
	Datum	   *elems;
	bool	   *nulls;
	char	  **out;
	int			count = 0;

	deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, n);
	out = palloc(sizeof(char *) * Max(*n, 1));
	for (int i = 0; i < *n; i++)
		if (!nulls[i])
			out[count++] = TextDatumGetCString(elems[i]);
	*n = count;
	return out;
}

Datum
rg_result_tuple(FunctionCallInfo fcinfo, Datum *values, bool *nulls)
{
	TupleDesc	desc;

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	desc = BlessTupleDesc(desc);
	return HeapTupleGetDatum(heap_form_tuple(desc, values, nulls));
}
