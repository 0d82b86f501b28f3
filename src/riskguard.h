/*
 * riskguard.h
 *		Things every riskguard module shares.
 */
#ifndef RISKGUARD_H
#define RISKGUARD_H

/* the library's version; the install script refuses to run against another one */
#define RISKGUARD_VERSION "0.1"

/* the non-NULL elements of a text[] as C strings, palloc'd; *n gets their number */
extern char **rg_text_array_cstrings(Datum d, int *n);

#endif							/* RISKGUARD_H */
