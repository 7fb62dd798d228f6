/*
 * zone_conf.h - the zone block of mmr-controller's configuration (issue 16) and the placement
 * decision: pure code (no etcd, no model), unit-tested by tests/unit/test_zone.c.
 *
 *   zone = {
 *     etcd = [ "http://127.0.0.1:2379", ... ];   # 1..8 members, http:// or https://
 *     host = "mmr-a";                            # this host's name in the zone ([A-Za-z0-9._-], 1..63)
 *     address = "198.51.100.1";                  # where its media is reached (shown, for placement)
 *     http_url = "http://127.0.0.1:8081";        # its HTTP API, where requests are redirected
 *     max_meetings = 150;                        # capacity: meetings placed on it at most
 *     max_participants = 3000;                   # and participants
 *     lease_s = 5;                               # registration lease (2..300 s)
 *     media_port = 5000;                         # its media's UDP port (other hosts' trunks to it)
 *     secret_file = "/etc/mmr/zone.secret";      # SRTP trunk keys (zone_cascade.h); absent: plain trunks only
 *   };
 */
#ifndef MMR_CTL_ZONE_CONF_H
#define MMR_CTL_ZONE_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ZONE_MAX_ETCD   8
#define ZONE_NAME_MAX   63

struct zone_config {
	bool on;                        /* a zone block was given */
	char etcd[ZONE_MAX_ETCD][256];
	unsigned n_etcd;
	char host[ZONE_NAME_MAX + 1];
	char address[64];
	char http_url[256];
	uint32_t max_meetings, max_participants;
	unsigned lease_s;
	uint16_t media_port;            /* the UDP port of its media (trunks from other hosts; default 5000) */
	char secret_file[256];          /* the zone secret of the trunks' SRTP keys ("": no SRTP trunks) */
};

/* libconfig's setting (config_setting_t *) of the "zone" group into zc. 0, or -1 with
 * "FILE:LINE: why" in err. */
int zone_config_parse(void *setting, struct zone_config *zc, char *err, size_t errlen);

/* Is s a valid host name in the zone? */
bool zone_host_name_ok(const char *s);

/* One host as placement sees it. */
struct zone_place_host {
	const char *name;
	uint32_t cap_meetings, cap_participants;
	uint32_t meetings;              /* placed on it (etcd's meetings/ keys: authoritative, fresh) */
	uint32_t participants;          /* its reported load */
	bool alive;                     /* registered (its lease is alive) */
	bool draining;
};

/* The host a new meeting goes to: the live, non-draining host with room (meetings below capacity,
 * participants below capacity) with the largest free share of participants, then of meetings, then
 * the first name. Its index, or -1 when no host has room. */
int zone_place(const struct zone_place_host *h, unsigned n);

#endif
