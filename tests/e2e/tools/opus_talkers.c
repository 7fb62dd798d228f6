/*
 * opus_talkers.c - the libopus end of the dominant-speaker / top-N end-to-end test (test_speaker.py):
 * N real Opus participants in one process, and the decoder that checks what each of them received.
 *
 *   opus_talkers run --dest IP:PORT --bind IP --port P --n N --ssrc S --ext-id ID
 *                    --schedule MS:TALKER,MS:TALKER,... --duration MS --capture FILE
 *	Participant i (0 <= i < N) is one UDP socket bound to IP:P+i that sends one Opus stream (SSRC
 *	S+i, payload type 111, 48 kHz mono, 20 ms frames, libopus at 24 kbit/s) to the MMR and receives
 *	whatever the MMR sends it on the same socket, like a BUNDLEd WebRTC client. Every packet carries
 *	the RFC 6464 client-to-mixer audio level (one-byte header extension form, element ID; ID 0:
 *	no extension) computed from the very frame it encodes: level = -dBov of the frame's RMS
 *	(0..127, full scale 32767), V = 1 below 40 -dBov. The talker (from the schedule: at MS ms after
 *	the start participant TALKER talks, -1 nobody) sends a sine at 400 + 100 * i Hz with an RMS of
 *	-10 dBov; everybody else low white noise at -60 dBov. Every talker change prints
 *	"CHANGE mono_ns talker" (CLOCK_MONOTONIC of the first frame of the new talker, sent right then;
 *	the schedule's first entry is always printed), "END mono_ns" after the last frame was sent (what
 *	arrives in the next 300 ms is still recorded), and at the end "SENT n", "RECV n", "LATE_MAX_US n"
 *	(the latest a 20 ms tick was served) and "LATE_OVER_40MS n" (ticks served over 40 ms late: the
 *	MMR fills a gap of 40 ms with silence). Everything received is written to FILE (records: u64 arrival
 *	CLOCK_MONOTONIC ns, u16 participant, u16 length, the datagram; little-endian).
 *   opus_talkers decode --n N FILE
 *	Decodes the capture: every RTP packet of payload type 111 (RTCP and anything else is counted and
 *	skipped) per (participant, SSRC), in arrival order, with one libopus decoder per output, and
 *	prints one line per packet:
 *	  "P participant ssrc seq ts arrival_ns samples tone tone_dbov rms_dbov"
 *	samples: what opus_decode returned (< 0: a decoder error); tone: the index i whose frequency
 *	(400 + 100 * i Hz, Goertzel on the decoded 20 ms) is strongest if it is above -30 dBov, else -1.
 *	Then "OTHER n" (datagrams that are not such RTP packets).
 *
 * The tones are exact DFT bins of a 960-sample frame (multiples of 50 Hz), so each participant's
 * tone is told apart from every other's. No lib/ parser is used: this is the independent other end.
 */
#define _GNU_SOURCE /* ppoll, SO_RCVBUFFORCE */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <opus.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAXP 64
#define RATE 48000
#define FRAME 960 /* 20 ms */
#define PT 111
#define TONE_BASE_HZ 400.0
#define TONE_STEP_HZ 100.0
#define TALK_DBOV (-10.0)
#define NOISE_DBOV (-60.0)
#define TONE_MIN_DBOV (-30.0)
#define MAXSCHED 256

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void die(const char *what)
{
	fprintf(stderr, "opus_talkers: %s: %s\n", what, strerror(errno));
	exit(2);
}

static void usage(void)
{
	fprintf(stderr, "usage: opus_talkers run --dest IP:PORT --bind IP --port P --n N --ssrc S --ext-id ID\n"
			"                        --schedule MS:TALKER,... --duration MS --capture FILE\n"
			"       opus_talkers decode --n N FILE\n");
	exit(2);
}

static double tone_hz(int i)
{
	return TONE_BASE_HZ + TONE_STEP_HZ * i;
}

/* -dBov of a frame's RMS, 0..127 (127: digital silence) */
static int frame_level(const int16_t *pcm, int n)
{
	double e = 0;
	for (int i = 0; i < n; i++)
		e += (double)pcm[i] * pcm[i];
	double rms = sqrt(e / n);
	if (rms <= 0)
		return 127;
	double db = 20.0 * log10(rms / 32767.0);
	int l = (int)lround(-db);
	return l < 0 ? 0 : l > 127 ? 127 : l;
}

struct talker {
	int fd;
	OpusEncoder *enc;
	uint32_t ssrc, ts;
	uint16_t seq;
	double phase;
	uint32_t rng;
	int first;
};

struct rec {
	uint64_t t;
	uint16_t part, len;
	uint8_t *data;
};

static struct rec *recs;
static size_t nrecs, caprecs;

static void keep(uint64_t t, int part, const uint8_t *d, int len)
{
	if (nrecs == caprecs) {
		caprecs = caprecs ? caprecs * 2 : 65536;
		recs = realloc(recs, caprecs * sizeof(*recs));
		if (!recs)
			die("realloc");
	}
	struct rec *r = &recs[nrecs++];
	r->t = t;
	r->part = (uint16_t)part;
	r->len = (uint16_t)len;
	r->data = malloc((size_t)len);
	if (!r->data)
		die("malloc");
	memcpy(r->data, d, (size_t)len);
}

static void drain(struct talker *tk, int n, struct pollfd *pf)
{
	uint8_t buf[2048];
	for (int i = 0; i < n; i++) {
		if (!(pf[i].revents & POLLIN))
			continue;
		for (;;) {
			ssize_t k = recv(tk[i].fd, buf, sizeof(buf), MSG_DONTWAIT);
			if (k < 0) {
				if (errno == EAGAIN || errno == EWOULDBLOCK)
					break;
				if (errno == EINTR || errno == ECONNREFUSED)
					continue;
				die("recv");
			}
			keep(mono_ns(), i, buf, (int)k);
		}
	}
}

static void make_frame(struct talker *t, int idx, int talking, int16_t *pcm)
{
	if (talking) {
		double amp = 32767.0 * pow(10.0, TALK_DBOV / 20.0) * sqrt(2.0);
		double w = 2 * M_PI * tone_hz(idx) / RATE;
		for (int i = 0; i < FRAME; i++) {
			pcm[i] = (int16_t)lrint(amp * sin(t->phase));
			t->phase += w;
		}
		t->phase = fmod(t->phase, 2 * M_PI);
	} else {
		/* uniform noise on [-a, a] has RMS a / sqrt(3) */
		double a = 32767.0 * pow(10.0, NOISE_DBOV / 20.0) * sqrt(3.0);
		for (int i = 0; i < FRAME; i++) {
			t->rng = t->rng * 1664525u + 1013904223u;
			double u = (double)(t->rng >> 8) / (double)(1u << 24) * 2.0 - 1.0;
			pcm[i] = (int16_t)lrint(a * u);
		}
	}
}

static void send_frame(struct talker *t, int idx, int talking, int ext_id, const struct sockaddr_in *dst)
{
	int16_t pcm[FRAME];
	uint8_t pkt[1500];
	make_frame(t, idx, talking, pcm);
	int level = frame_level(pcm, FRAME);
	int h = 12;
	pkt[0] = 0x80 | (ext_id ? 0x10 : 0);
	pkt[1] = (uint8_t)(PT | (t->first ? 0x80 : 0));
	t->first = 0;
	pkt[2] = (uint8_t)(t->seq >> 8);
	pkt[3] = (uint8_t)t->seq;
	uint32_t v = htonl(t->ts);
	memcpy(pkt + 4, &v, 4);
	v = htonl(t->ssrc);
	memcpy(pkt + 8, &v, 4);
	if (ext_id) {
		/* RFC 8285 one-byte form: 0xBEDE, one 32-bit word: [ID | L=0] [V | level] + 2 padding */
		pkt[12] = 0xbe;
		pkt[13] = 0xde;
		pkt[14] = 0;
		pkt[15] = 1;
		pkt[16] = (uint8_t)(ext_id << 4);
		pkt[17] = (uint8_t)((level < 40 ? 0x80 : 0) | level);
		pkt[18] = 0;
		pkt[19] = 0;
		h = 20;
	}
	opus_int32 k = opus_encode(t->enc, pcm, FRAME, pkt + h, (opus_int32)(sizeof(pkt) - (size_t)h));
	if (k < 0) {
		fprintf(stderr, "opus_talkers: opus_encode: %s\n", opus_strerror(k));
		exit(2);
	}
	if (sendto(t->fd, pkt, (size_t)(h + k), 0, (const struct sockaddr *)dst, sizeof(*dst)) < 0 &&
	    errno != ENOBUFS && errno != ECONNREFUSED)
		die("sendto");
	t->seq++;
	t->ts += FRAME;
}

static int cmd_run(int argc, char **argv)
{
	const char *dest = NULL, *bind_ip = NULL, *sched = NULL, *capture = NULL;
	int port = 0, n = 0, ext_id = 0, duration_ms = 0;
	uint32_t ssrc = 0;
	for (int i = 0; i + 1 < argc; i += 2) {
		const char *k = argv[i], *v = argv[i + 1];
		if (!strcmp(k, "--dest"))
			dest = v;
		else if (!strcmp(k, "--bind"))
			bind_ip = v;
		else if (!strcmp(k, "--port"))
			port = atoi(v);
		else if (!strcmp(k, "--n"))
			n = atoi(v);
		else if (!strcmp(k, "--ssrc"))
			ssrc = (uint32_t)strtoul(v, NULL, 0);
		else if (!strcmp(k, "--ext-id"))
			ext_id = atoi(v);
		else if (!strcmp(k, "--schedule"))
			sched = v;
		else if (!strcmp(k, "--duration"))
			duration_ms = atoi(v);
		else if (!strcmp(k, "--capture"))
			capture = v;
		else
			usage();
	}
	if (!dest || !bind_ip || !sched || !capture || port <= 0 || n <= 0 || n > MAXP || ext_id < 0 ||
	    ext_id > 14 || duration_ms <= 0)
		usage();

	int sched_ms[MAXSCHED], sched_who[MAXSCHED], nsched = 0;
	for (const char *p = sched; *p && nsched < MAXSCHED;) {
		char *e;
		sched_ms[nsched] = (int)strtol(p, &e, 10);
		if (*e != ':')
			usage();
		sched_who[nsched] = (int)strtol(e + 1, &e, 10);
		if (sched_who[nsched] >= n)
			usage();
		nsched++;
		p = *e == ',' ? e + 1 : e;
	}

	struct sockaddr_in dst = { .sin_family = AF_INET };
	char host[64];
	const char *colon = strrchr(dest, ':');
	if (!colon || (size_t)(colon - dest) >= sizeof(host))
		usage();
	memcpy(host, dest, (size_t)(colon - dest));
	host[colon - dest] = 0;
	dst.sin_port = htons((uint16_t)atoi(colon + 1));
	if (inet_pton(AF_INET, host, &dst.sin_addr) != 1)
		usage();

	static struct talker tk[MAXP];
	struct pollfd pf[MAXP];
	srand((unsigned)time(NULL));
	for (int i = 0; i < n; i++) {
		struct talker *t = &tk[i];
		t->fd = socket(AF_INET, SOCK_DGRAM, 0);
		if (t->fd < 0)
			die("socket");
		int one = 1, big = 4 << 20;
		setsockopt(t->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (setsockopt(t->fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big)) < 0)
			setsockopt(t->fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
		struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)(port + i)) };
		if (inet_pton(AF_INET, bind_ip, &a.sin_addr) != 1)
			usage();
		if (bind(t->fd, (struct sockaddr *)&a, sizeof(a)) < 0)
			die("bind");
		int err;
		t->enc = opus_encoder_create(RATE, 1, OPUS_APPLICATION_VOIP, &err);
		if (!t->enc) {
			fprintf(stderr, "opus_talkers: opus_encoder_create: %s\n", opus_strerror(err));
			return 2;
		}
		opus_encoder_ctl(t->enc, OPUS_SET_BITRATE(24000));
		opus_encoder_ctl(t->enc, OPUS_SET_COMPLEXITY(2));
		t->ssrc = ssrc + (uint32_t)i;
		t->seq = (uint16_t)rand();
		t->ts = (uint32_t)rand();
		t->rng = 12345u + (uint32_t)i * 7919u;
		t->first = 1;
		pf[i].fd = t->fd;
		pf[i].events = POLLIN;
	}

	uint64_t start = mono_ns(), next = start, end = start + (uint64_t)duration_ms * 1000000ull;
	int talker = -2, si = 0; /* the schedule's first entry is always printed */
	long sent = 0, late_n = 0;
	uint64_t late_max = 0;
	while (next < end) {
		uint64_t now = mono_ns();
		if (now >= next) {
			/* how late this tick is: a starved sender makes gaps the MMR takes for silence */
			if (now - next > late_max)
				late_max = now - next;
			if (now - next > 40000000ull)
				late_n++;
			while (si < nsched && start + (uint64_t)sched_ms[si] * 1000000ull <= next) {
				if (sched_who[si] != talker) {
					talker = sched_who[si];
					printf("CHANGE %llu %d\n", (unsigned long long)mono_ns(), talker);
					fflush(stdout);
				}
				si++;
			}
			for (int i = 0; i < n; i++) {
				send_frame(&tk[i], i, i == talker, ext_id, &dst);
				sent++;
			}
			next += FRAME * 1000000000ull / RATE;
			continue;
		}
		uint64_t wait = next - now;
		struct timespec to = { .tv_sec = (time_t)(wait / 1000000000ull),
				       .tv_nsec = (long)(wait % 1000000000ull) };
		int r = ppoll(pf, (nfds_t)n, &to, NULL);
		if (r < 0 && errno != EINTR)
			die("ppoll");
		if (r > 0)
			drain(tk, n, pf);
	}
	printf("END %llu\n", (unsigned long long)mono_ns());
	fflush(stdout);
	/* what is still in flight */
	uint64_t tail_end = mono_ns() + 300000000ull;
	for (;;) {
		uint64_t now = mono_ns();
		if (now >= tail_end)
			break;
		int r = poll(pf, (nfds_t)n, (int)((tail_end - now) / 1000000ull) + 1);
		if (r <= 0)
			break;
		drain(tk, n, pf);
	}

	FILE *f = fopen(capture, "wb");
	if (!f)
		die(capture);
	for (size_t i = 0; i < nrecs; i++) {
		uint8_t h[12];
		for (int b = 0; b < 8; b++)
			h[b] = (uint8_t)(recs[i].t >> (8 * b));
		h[8] = (uint8_t)recs[i].part;
		h[9] = (uint8_t)(recs[i].part >> 8);
		h[10] = (uint8_t)recs[i].len;
		h[11] = (uint8_t)(recs[i].len >> 8);
		if (fwrite(h, 1, 12, f) != 12 || fwrite(recs[i].data, 1, recs[i].len, f) != recs[i].len)
			die(capture);
		free(recs[i].data);
	}
	if (fclose(f) != 0)
		die(capture);
	for (int i = 0; i < n; i++) {
		opus_encoder_destroy(tk[i].enc);
		close(tk[i].fd);
	}
	printf("SENT %ld\nRECV %zu\nLATE_MAX_US %llu\nLATE_OVER_40MS %ld\n", sent, nrecs,
	       (unsigned long long)(late_max / 1000), late_n);
	free(recs);
	return 0;
}

/* Goertzel: the RMS (in dBov) of the component at hz in n samples */
static double tone_dbov(const float *x, int n, double hz)
{
	double w = 2 * M_PI * hz / RATE, c = 2 * cos(w), s1 = 0, s2 = 0;
	for (int i = 0; i < n; i++) {
		double s0 = x[i] + c * s1 - s2;
		s2 = s1;
		s1 = s0;
	}
	double p = s1 * s1 + s2 * s2 - c * s1 * s2; /* |X|^2 */
	double amp = 2 * sqrt(p > 0 ? p : 0) / n;
	double rms = amp / sqrt(2.0);
	return rms > 0 ? 20 * log10(rms / 32767.0) : -200;
}

struct outstream {
	uint16_t part;
	uint32_t ssrc;
	OpusDecoder *dec;
};

static int cmd_decode(int argc, char **argv)
{
	int n = 0;
	const char *file = NULL;
	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--n") && i + 1 < argc)
			n = atoi(argv[++i]);
		else
			file = argv[i];
	}
	if (!file || n <= 0 || n > MAXP)
		usage();
	FILE *f = fopen(file, "rb");
	if (!f)
		die(file);
	static struct outstream os[4096];
	int nos = 0;
	long other = 0;
	uint8_t h[12], d[65536];
	int16_t pcm[5760];
	float x[5760];
	while (fread(h, 1, 12, f) == 12) {
		uint64_t t = 0;
		for (int b = 7; b >= 0; b--)
			t = t << 8 | h[b];
		uint16_t part = (uint16_t)(h[8] | h[9] << 8), len = (uint16_t)(h[10] | h[11] << 8);
		if (fread(d, 1, len, f) != len)
			break;
		if (len < 12 || d[0] >> 6 != 2 || (d[1] & 0x7f) != PT) {
			other++;
			continue;
		}
		int cc = d[0] & 15, hl = 12 + 4 * cc, end = len;
		if (d[0] & 0x10) {
			if (hl + 4 > len) {
				other++;
				continue;
			}
			hl += 4 + 4 * (d[hl + 2] << 8 | d[hl + 3]);
		}
		if (d[0] & 0x20)
			end -= d[len - 1];
		if (hl > end) {
			other++;
			continue;
		}
		uint16_t seq = (uint16_t)(d[2] << 8 | d[3]);
		uint32_t ts = (uint32_t)d[4] << 24 | (uint32_t)d[5] << 16 | (uint32_t)d[6] << 8 | d[7];
		uint32_t ssrc = (uint32_t)d[8] << 24 | (uint32_t)d[9] << 16 | (uint32_t)d[10] << 8 | d[11];
		struct outstream *o = NULL;
		for (int i = 0; i < nos; i++)
			if (os[i].part == part && os[i].ssrc == ssrc)
				o = &os[i];
		if (!o) {
			if (nos == (int)(sizeof(os) / sizeof(os[0]))) {
				other++;
				continue;
			}
			int err;
			o = &os[nos++];
			o->part = part;
			o->ssrc = ssrc;
			o->dec = opus_decoder_create(RATE, 1, &err);
			if (!o->dec) {
				fprintf(stderr, "opus_talkers: opus_decoder_create: %s\n", opus_strerror(err));
				return 2;
			}
		}
		int k = opus_decode(o->dec, d + hl, end - hl, pcm, 5760, 0);
		int tone = -1;
		double best = -200, rms = -200;
		if (k > 0) {
			double e = 0;
			for (int i = 0; i < k; i++) {
				x[i] = pcm[i];
				e += (double)pcm[i] * pcm[i];
			}
			rms = e > 0 ? 20 * log10(sqrt(e / k) / 32767.0) : -200;
			for (int i = 0; i < n; i++) {
				double db = tone_dbov(x, k, tone_hz(i));
				if (db > best) {
					best = db;
					tone = i;
				}
			}
			if (best < TONE_MIN_DBOV)
				tone = -1;
		}
		printf("P %u %u %u %u %llu %d %d %.1f %.1f\n", part, ssrc, seq, ts, (unsigned long long)t, k,
		       tone, best, rms);
	}
	fclose(f);
	for (int i = 0; i < nos; i++)
		opus_decoder_destroy(os[i].dec);
	printf("OTHER %ld\n", other);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		usage();
	if (!strcmp(argv[1], "run"))
		return cmd_run(argc - 2, argv + 2);
	if (!strcmp(argv[1], "decode"))
		return cmd_decode(argc - 2, argv + 2);
	usage();
	return 2;
}
