/*
 * riskguard.h
 *		Things every riskguard module shares.
 */
#ifndef RISKGUARD_H
#define RISKGUARD_H

/* the library's version; the install script refuses to run against another one */
#define RISKGUARD_VERSION "0.1"

#endif							/* RISKGUARD_H */
