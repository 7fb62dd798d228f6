/*
 * doctor.c - `mmrctl doctor [--root DIR] [--dataplane-config FILE]`: what is wrong with this host for
 * the MMR, read from /proc and /sys (under DIR for tests), one line per check: "ok", "warn" or "FAIL"
 * and what to do. The dataplane config (default /etc/mmr/dataplane.conf when present) gives the EAL
 * arguments: the lcore list (-l / --lcores / -c), the allowed NICs (-a) and shm_name.
 */
#include "doctor.h"

#include <dirent.h>
#include <errno.h>
#include <glob.h>
#include <libconfig.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "cmd_chan.h"
#include "outbuf.h"

#define MAX_CPUS 1024

struct doctor {
	const char *root;          /* "" for the real host */
	bool json;
	unsigned n_fail, n_warn, n_checks;
	struct outbuf out;
};

enum level { OK, WARN, FAIL };
static const char *const level_name[] = { "ok", "warn", "FAIL" };

/* One check's line: "LEVEL  CHECK: DETAIL[ -> FIX]" or a JSON object. */
static void __attribute__((format(printf, 5, 6)))
report(struct doctor *d, enum level lv, const char *check, const char *fix, const char *fmt, ...)
{
	char detail[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	d->n_fail += lv == FAIL;
	d->n_warn += lv == WARN;
	if (d->json) {
		ob_puts(&d->out, d->n_checks ? ",\n  {\"check\": " : "\n  {\"check\": ");
		ob_json_str(&d->out, check);
		ob_printf(&d->out, ", \"result\": \"%s\", \"detail\": ", level_name[lv]);
		ob_json_str(&d->out, detail);
		if (fix) {
			ob_puts(&d->out, ", \"fix\": ");
			ob_json_str(&d->out, fix);
		}
		ob_puts(&d->out, "}");
	} else {
		ob_printf(&d->out, "%-4s  %s: %s%s%s\n", level_name[lv], check, detail, fix ? " -> " : "", fix ? fix : "");
	}
	d->n_checks++;
}

static void path_of(const struct doctor *d, char *buf, size_t len, const char *p)
{
	snprintf(buf, len, "%s%s", d->root, p);
}

/* The whole of a small file under root, NUL-terminated, or NULL. */
static char *slurp(const struct doctor *d, const char *p)
{
	char path[4096];
	path_of(d, path, sizeof(path), p);
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	struct outbuf b;
	ob_init(&b);
	char chunk[4096];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		ob_add(&b, chunk, n);
	fclose(f);
	ob_char(&b, '\0');
	if (b.oom) {
		ob_free(&b);
		return NULL;
	}
	return b.p;
}

static long meminfo_value(const char *mi, const char *key)
{
	const char *p = mi;
	size_t kl = strlen(key);
	while (p && *p) {
		if (strncmp(p, key, kl) == 0 && p[kl] == ':')
			return strtol(p + kl + 1, NULL, 10);
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return -1;
}

static void check_hugepages(struct doctor *d)
{
	char *mi = slurp(d, "/proc/meminfo");
	if (!mi) {
		report(d, FAIL, "hugepages", NULL, "cannot read /proc/meminfo");
		return;
	}
	long total = meminfo_value(mi, "HugePages_Total"), free_ = meminfo_value(mi, "HugePages_Free");
	long size = meminfo_value(mi, "Hugepagesize");
	free(mi);
	const char *fix = "set NR_2M_PAGES=1024 in /etc/dpdk/dpdk.conf and 'systemctl restart dpdk', or run "
			  "scripts/hugepages.sh";
	if (total <= 0)
		report(d, FAIL, "hugepages", fix, "none reserved (HugePages_Total %ld)", total);
	else if (free_ <= 0)
		report(d, WARN, "hugepages", "stop what holds them, or reserve more", "%ld x %ld kB reserved, none free",
		       total, size);
	else
		report(d, OK, "hugepages", NULL, "%ld x %ld kB reserved, %ld free", total, size, free_);

	char *mounts = slurp(d, "/proc/mounts");
	char where[512] = "";
	for (char *save = NULL, *l = mounts ? strtok_r(mounts, "\n", &save) : NULL; l; l = strtok_r(NULL, "\n", &save)) {
		char dev[256], dir[256], type[64];
		if (sscanf(l, "%255s %255s %63s", dev, dir, type) == 3 && strcmp(type, "hugetlbfs") == 0 && !*where)
			snprintf(where, sizeof(where), "%s", dir);
	}
	free(mounts);
	if (*where)
		report(d, OK, "hugetlbfs", NULL, "mounted on %s", where);
	else
		report(d, FAIL, "hugetlbfs", "mount -t hugetlbfs nodev /dev/hugepages (dpdk.service does it)",
		       "not mounted");
}

static bool exists(const struct doctor *d, const char *p)
{
	char path[4096];
	struct stat st;
	path_of(d, path, sizeof(path), p);
	return stat(path, &st) == 0;
}

static void check_dpdk_service(struct doctor *d)
{
	static const char *const dirs[] = { "/etc/systemd/system", "/lib/systemd/system", "/usr/lib/systemd/system" };
	const char *found = NULL;
	char p[256];
	for (unsigned i = 0; i < 3 && !found; i++) {
		snprintf(p, sizeof(p), "%s/dpdk.service", dirs[i]);
		if (exists(d, p))
			found = dirs[i];
	}
	if (!found) {
		report(d, WARN, "dpdk.service", "apt install dpdk (it reserves hugepages and binds NICs from /etc/dpdk), "
		       "or do both by hand", "not installed");
		return;
	}
	char pat[4096];
	glob_t g;
	path_of(d, pat, sizeof(pat), "/etc/systemd/system/*.wants/dpdk.service");
	bool enabled = glob(pat, 0, NULL, &g) == 0 && g.gl_pathc > 0;
	globfree(&g);
	if (enabled)
		report(d, OK, "dpdk.service", NULL, "installed (%s) and enabled", found);
	else
		report(d, WARN, "dpdk.service", "systemctl enable --now dpdk.service", "installed (%s) but not enabled",
		       found);
}

/* The EAL arguments and shm_name of the dataplane config that apply here. */
struct dp_info {
	bool have;
	char shm_name[128];
	uint8_t lcore[MAX_CPUS];   /* 1: in the lcore list */
	int main_lcore;            /* -1: the first of the list */
	bool lcores_known;
	char allow[16][32];        /* -a PCI addresses */
	unsigned n_allow;
};

/* "0-3,5" into set (1 per CPU); false if it is not such a list. */
static bool parse_cpu_list(const char *s, uint8_t *set)
{
	memset(set, 0, MAX_CPUS);
	if (!*s)
		return false;
	while (*s) {
		char *end;
		long a = strtol(s, &end, 10), b = a;
		if (end == s || a < 0 || a >= MAX_CPUS)
			return false;
		s = end;
		if (*s == '-') {
			b = strtol(s + 1, &end, 10);
			if (end == s + 1 || b < a || b >= MAX_CPUS)
				return false;
			s = end;
		}
		for (long c = a; c <= b; c++)
			set[c] = 1;
		if (*s == ',')
			s++;
		else if (*s)
			return false;
	}
	return true;
}

static void list_of(const uint8_t *set, char *buf, size_t len)
{
	size_t o = 0;
	buf[0] = '\0';
	for (int c = 0; c < MAX_CPUS && o + 8 < len; c++)
		if (set[c])
			o += (size_t)snprintf(buf + o, len - o, "%s%d", o ? "," : "", c);
}

static bool load_dp_config(struct doctor *d, const char *file, bool explicit_, struct dp_info *dp)
{
	memset(dp, 0, sizeof(*dp));
	dp->main_lcore = -1;
	snprintf(dp->shm_name, sizeof(dp->shm_name), "%s", MMR_SHM_DEFAULT_NAME);
	char path[4096];
	path_of(d, path, sizeof(path), file);
	if (!explicit_ && access(path, F_OK) != 0) {
		report(d, WARN, "dataplane config", "pass --dataplane-config FILE", "%s absent: lcores and NICs unchecked",
		       file);
		return false;
	}
	config_t cf;
	config_init(&cf);
	if (!config_read_file(&cf, path)) {
		if (config_error_type(&cf) == CONFIG_ERR_FILE_IO)
			report(d, FAIL, "dataplane config", "install one (config/host/dataplane.conf)", "cannot read %s",
			       file);
		else
			report(d, FAIL, "dataplane config", "fix the file (mmr-dataplane reports the same)", "%s:%d: %s",
			       file, config_error_line(&cf), config_error_text(&cf));
		config_destroy(&cf);
		return false;
	}
	const char *shm;
	if (config_lookup_string(&cf, "shm_name", &shm))
		snprintf(dp->shm_name, sizeof(dp->shm_name), "%s", shm);
	config_setting_t *eal = config_lookup(&cf, "eal");
	int n = eal ? config_setting_length(eal) : 0;
	bool bad = false;
	for (int i = 0; i < n; i++) {
		const char *a = config_setting_get_string_elem(eal, i);
		const char *next = i + 1 < n ? config_setting_get_string_elem(eal, i + 1) : NULL;
		if (!a)
			continue;
		const char *val = NULL;
		int kind = 0;   /* 1 -l, 2 --lcores, 3 -c, 4 -a, 5 --main-lcore */
		static const struct { const char *opt; int kind; } opts[] = {
			{ "-l", 1 }, { "--lcores", 2 }, { "-c", 3 }, { "-a", 4 }, { "--allow", 4 }, { "--main-lcore", 5 },
		};
		for (unsigned k = 0; k < sizeof(opts) / sizeof(opts[0]) && !kind; k++) {
			size_t ol = strlen(opts[k].opt);
			if (strcmp(a, opts[k].opt) == 0) {
				kind = opts[k].kind;
				val = next;
				i++;
			} else if (strncmp(a, opts[k].opt, ol) == 0 && (a[ol] == '=' || (ol == 2 && a[ol]))) {
				kind = opts[k].kind;
				val = a + ol + (a[ol] == '=');
			}
		}
		if (!kind || !val)
			continue;
		if (kind == 1 || kind == 2) {
			/* --lcores with '@' or '(' maps lcores to other CPUs: not checked */
			if (strpbrk(val, "@()") || !parse_cpu_list(val, dp->lcore))
				bad = true;
			else
				dp->lcores_known = true;
		} else if (kind == 3) {
			unsigned long long m = strtoull(val, NULL, 16);
			memset(dp->lcore, 0, sizeof(dp->lcore));
			for (int c = 0; c < 64; c++)
				dp->lcore[c] = (m >> c) & 1;
			dp->lcores_known = m != 0;
		} else if (kind == 4 && dp->n_allow < 16) {
			snprintf(dp->allow[dp->n_allow], sizeof(dp->allow[0]), "%.*s", (int)strcspn(val, ","), val);
			dp->n_allow++;
		} else if (kind == 5) {
			dp->main_lcore = atoi(val);
		}
	}
	config_destroy(&cf);
	char l[256];
	list_of(dp->lcore, l, sizeof(l));
	if (bad)
		report(d, WARN, "dataplane config", "use -l with a plain list (0,2-3) to have it checked",
		       "%s: lcore list not understood", file);
	else if (!dp->lcores_known)
		report(d, WARN, "dataplane config", "add \"-l\", \"0,1\" to eal", "%s: no lcore list in eal", file);
	else
		report(d, OK, "dataplane config", NULL, "%s: lcores %s, %u NIC(s) allowed, shm %s", file, l, dp->n_allow,
		       dp->shm_name);
	dp->have = true;
	return true;
}

static bool is_dpdk_driver(const char *drv)
{
	return strcmp(drv, "vfio-pci") == 0 || strcmp(drv, "uio_pci_generic") == 0 || strcmp(drv, "igb_uio") == 0;
}

/* Mellanox/NVIDIA mlx4/mlx5 NICs work through their kernel driver (bifurcated). */
static bool is_bifurcated(const char *drv)
{
	return strcmp(drv, "mlx5_core") == 0 || strcmp(drv, "mlx4_core") == 0;
}

static void check_nics(struct doctor *d, const struct dp_info *dp)
{
	char dir[4096];
	path_of(d, dir, sizeof(dir), "/sys/bus/pci/devices");
	DIR *dd = opendir(dir);
	unsigned nics = 0, usable = 0;
	bool allowed_seen[16] = { false };
	struct dirent *e;
	while (dd && (e = readdir(dd))) {
		if (e->d_name[0] == '.')
			continue;
		char p[512], cls[32] = "";
		snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/class", e->d_name);
		char *c = slurp(d, p);
		if (c) {
			snprintf(cls, sizeof(cls), "%s", c);
			free(c);
		}
		if (strncmp(cls, "0x02", 4) != 0)   /* network controllers only */
			continue;
		nics++;
		char link[4096], target[4096] = "";
		snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/driver", e->d_name);
		path_of(d, link, sizeof(link), p);
		ssize_t n = readlink(link, target, sizeof(target) - 1);
		const char *drv = "none";
		if (n > 0) {
			target[n] = '\0';
			const char *s = strrchr(target, '/');
			drv = s ? s + 1 : target;
		}
		bool wanted = dp->n_allow == 0;
		for (unsigned i = 0; i < dp->n_allow; i++)
			if (strcmp(dp->allow[i], e->d_name) == 0 ||
			    (strncmp(e->d_name, "0000:", 5) == 0 && strcmp(dp->allow[i], e->d_name + 5) == 0)) {
				wanted = true;
				allowed_seen[i] = true;
			}
		char check[300], fix[400];
		snprintf(check, sizeof(check), "nic %s", e->d_name);
		snprintf(fix, sizeof(fix), "dpdk-devbind.py -b vfio-pci %s (or list it in /etc/dpdk/interfaces)", e->d_name);
		if (is_dpdk_driver(drv) || is_bifurcated(drv)) {
			usable++;
			report(d, OK, check, NULL, "driver %s%s", drv, is_bifurcated(drv) ? " (bifurcated, DPDK-usable)" : "");
		} else if (dp->n_allow && wanted) {
			report(d, FAIL, check, fix, "driver %s, but the dataplane config allows it (-a)", drv);
		} else {
			report(d, dp->n_allow ? OK : WARN, check, dp->n_allow ? NULL : fix, "driver %s (kernel%s)", drv,
			       dp->n_allow ? ", not the dataplane's" : "");
		}
	}
	if (dd)
		closedir(dd);
	for (unsigned i = 0; i < dp->n_allow; i++)
		if (!allowed_seen[i])
			report(d, FAIL, "nic", "fix -a in the dataplane config (lspci -D lists the NICs)",
			       "%s (-a in the dataplane config) is not a network device on this host", dp->allow[i]);
	if (nics == 0)
		report(d, FAIL, "nics", "a DPDK-capable NIC (or a vdev such as net_af_packet in eal for a test)",
		       "no network PCI device found under /sys/bus/pci/devices");
	else if (usable == 0)
		report(d, FAIL, "nics", "bind one to vfio-pci: dpdk-devbind.py -b vfio-pci ADDR",
		       "%u network device(s), none bound to a DPDK driver", nics);
	if (exists(d, "/sys/bus/pci/drivers/vfio-pci"))
		report(d, OK, "vfio-pci", NULL, "driver loaded");
	else
		report(d, usable ? OK : WARN, "vfio-pci", usable ? NULL : "modprobe vfio-pci (and add it to /etc/modules)",
		       "driver not loaded");
}

static bool cmdline_param(const char *cmdline, const char *key, char *val, size_t len)
{
	size_t kl = strlen(key);
	for (const char *p = cmdline; p && *p;) {
		p += strspn(p, " \t\n");
		if (strncmp(p, key, kl) == 0 && p[kl] == '=') {
			snprintf(val, len, "%.*s", (int)strcspn(p + kl + 1, " \t\n"), p + kl + 1);
			return true;
		}
		if (strncmp(p, "--", 2) == 0 && (p[2] == ' ' || p[2] == '\n' || !p[2]))
			break;   /* the rest is init's */
		p += strcspn(p, " \t\n");
	}
	return false;
}

static void check_iommu(struct doctor *d, const char *cmdline)
{
	char dir[4096], v[64] = "";
	path_of(d, dir, sizeof(dir), "/sys/kernel/iommu_groups");
	unsigned groups = 0;
	DIR *dd = opendir(dir);
	struct dirent *e;
	while (dd && (e = readdir(dd)))
		groups += e->d_name[0] != '.';
	if (dd)
		closedir(dd);
	bool on_cmd = (cmdline_param(cmdline, "intel_iommu", v, sizeof(v)) && strcmp(v, "on") == 0) ||
		      cmdline_param(cmdline, "amd_iommu", v, sizeof(v));
	char *noiommu = slurp(d, "/sys/module/vfio/parameters/enable_unsafe_noiommu_mode");
	bool unsafe = noiommu && noiommu[0] == 'Y';
	free(noiommu);
	if (groups)
		report(d, OK, "iommu", NULL, "%u IOMMU groups%s", groups, on_cmd ? "" : " (kernel default)");
	else if (unsafe)
		report(d, WARN, "iommu", "enable VT-d/AMD-Vi and boot with intel_iommu=on iommu=pt",
		       "no IOMMU groups; vfio runs in unsafe no-IOMMU mode");
	else
		report(d, FAIL, "iommu", on_cmd ? "enable VT-d/AMD-Vi in the firmware" :
		       "enable VT-d/AMD-Vi in the firmware and add intel_iommu=on iommu=pt to GRUB_CMDLINE_LINUX, "
		       "update-grub, reboot", "no IOMMU groups: vfio-pci cannot bind%s",
		       on_cmd ? " (the kernel command line asks for one)" : "");
}

/* isolcpus takes flags first ("managed_irq,domain,2-3"): the list is what starts with a digit. */
static bool isol_list(const char *val, uint8_t *set)
{
	const char *p = val;
	while (*p && !(*p >= '0' && *p <= '9')) {
		const char *c = strchr(p, ',');
		if (!c)
			return false;
		p = c + 1;
	}
	return parse_cpu_list(p, set);
}

static void check_cores(struct doctor *d, const char *cmdline, const struct dp_info *dp)
{
	static uint8_t online[MAX_CPUS], isol[MAX_CPUS], nohz[MAX_CPUS];
	char *on = slurp(d, "/sys/devices/system/cpu/online");
	bool have_online = false;
	if (on) {
		on[strcspn(on, "\n")] = '\0';
		have_online = parse_cpu_list(on, online);
		free(on);
	}
	char v[256];
	bool have_isol = cmdline_param(cmdline, "isolcpus", v, sizeof(v)) && isol_list(v, isol);
	bool have_nohz = cmdline_param(cmdline, "nohz_full", v, sizeof(v)) && parse_cpu_list(v, nohz);
	if (!dp->have || !dp->lcores_known) {
		if (have_isol)
			report(d, OK, "cpu isolation", NULL, "isolcpus set (lcore list unchecked)");
		else
			report(d, WARN, "cpu isolation", "boot with isolcpus=W nohz_full=W rcu_nocbs=W for the worker lcores W",
			       "no isolcpus on the kernel command line");
		return;
	}
	char all[256], bad[256], workers[256];
	uint8_t w[MAX_CPUS], missing[MAX_CPUS], off[MAX_CPUS];
	int main_lc = dp->main_lcore;
	for (int c = 0; c < MAX_CPUS && main_lc < 0; c++)
		if (dp->lcore[c])
			main_lc = c;
	bool any_missing = false, any_off = false;
	for (int c = 0; c < MAX_CPUS; c++) {
		w[c] = dp->lcore[c] && c != main_lc;
		missing[c] = w[c] && (!isol[c] || (have_nohz && !nohz[c]) || !have_nohz);
		off[c] = have_online && dp->lcore[c] && !online[c];
		any_missing |= missing[c];
		any_off |= off[c];
	}
	list_of(dp->lcore, all, sizeof(all));
	if (any_off) {
		list_of(off, bad, sizeof(bad));
		report(d, FAIL, "lcores", "change -l in the dataplane config to online CPUs (lscpu)",
		       "lcores %s: CPU(s) %s not online", all, bad);
	} else {
		report(d, OK, "lcores", NULL, "lcores %s online (main %d)", all, main_lc);
	}
	list_of(w, workers, sizeof(workers));
	char fix[1024];
	snprintf(fix, sizeof(fix), "boot with isolcpus=%s nohz_full=%s rcu_nocbs=%s", workers, workers, workers);
	if (!*workers) {
		report(d, WARN, "cpu isolation", "give the dataplane a worker lcore (-l MAIN,WORKER)",
		       "only the main lcore %d: no worker lcore to isolate", main_lc);
	} else if (any_missing) {
		list_of(missing, bad, sizeof(bad));
		report(d, WARN, "cpu isolation", fix, "worker lcore(s) %s not in isolcpus%s", bad,
		       have_nohz ? "/nohz_full" : " and no nohz_full");
	} else {
		report(d, OK, "cpu isolation", NULL, "worker lcores %s in isolcpus and nohz_full", workers);
	}
}

static void check_runtime(struct doctor *d, const struct dp_info *dp, const char *sock)
{
	char p[300];
	const char *name = dp->shm_name[0] == '/' ? dp->shm_name + 1 : dp->shm_name;
	snprintf(p, sizeof(p), "/dev/shm/%s", name);
	if (exists(d, p))
		report(d, OK, "shared segment", NULL, "%s present (the dataplane runs, or one left it behind)", p);
	else
		report(d, WARN, "shared segment", "systemctl start mmr-dataplane", "%s absent: the dataplane is not running",
		       p);
	char path[4096];
	struct stat st;
	path_of(d, path, sizeof(path), sock);
	if (stat(path, &st) != 0) {
		report(d, WARN, "controller socket", "systemctl start mmr-controller", "%s absent: the controller is not "
		       "running", sock);
		return;
	}
	if (!S_ISSOCK(st.st_mode)) {
		report(d, FAIL, "controller socket", "remove it, or point -S at the socket", "%s is not a socket", sock);
		return;
	}
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(sa.sun_path)) {
		report(d, WARN, "controller socket", NULL, "%s: path too long to try", sock);
		return;
	}
	strcpy(sa.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int rc = fd < 0 ? -1 : connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	int e = errno;
	if (fd >= 0)
		close(fd);
	if (rc == 0)
		report(d, OK, "controller socket", NULL, "%s accepts connections", sock);
	else if (e == EACCES || e == EPERM)
		report(d, WARN, "controller socket", "run as root or as a member of the controller's admin_group",
		       "%s: %s", sock, strerror(e));
	else
		report(d, FAIL, "controller socket", "systemctl restart mmr-controller", "%s: %s (a stale socket?)", sock,
		       strerror(e));
}

int doctor_main(int argc, char **argv, bool json, const char *sock, char *err, size_t errlen)
{
	struct doctor d = { .root = "", .json = json };
	const char *conf = "/etc/mmr/dataplane.conf";
	bool conf_given = false;
	for (int i = 0; i < argc; i++) {
		if ((strcmp(argv[i], "--root") == 0 || strcmp(argv[i], "--dataplane-config") == 0) && i + 1 < argc) {
			if (argv[i][2] == 'r') {
				d.root = argv[++i];
			} else {
				conf = argv[++i];
				conf_given = true;
			}
		} else {
			snprintf(err, errlen, "usage: mmrctl [--json] doctor [--dataplane-config FILE] [--root DIR] "
				 "(bad argument '%s')", argv[i]);
			return -1;
		}
	}
	if (d.root[0] && d.root[0] != '/') {
		snprintf(err, errlen, "--root needs an absolute path");
		return -1;
	}
	ob_init(&d.out);
	if (d.json)
		ob_puts(&d.out, "{\"checks\": [");
	char *cmdline = slurp(&d, "/proc/cmdline");
	if (!cmdline)
		report(&d, WARN, "kernel command line", NULL, "cannot read /proc/cmdline");
	check_hugepages(&d);
	check_dpdk_service(&d);
	struct dp_info dp;
	{
		/* the config is read where it is named (a test's file) or under root (the default) */
		const char *saved = d.root;
		if (conf_given)
			d.root = "";
		load_dp_config(&d, conf, conf_given, &dp);
		d.root = saved;
	}
	check_nics(&d, &dp);
	check_iommu(&d, cmdline ? cmdline : "");
	check_cores(&d, cmdline ? cmdline : "", &dp);
	check_runtime(&d, &dp, sock);
	free(cmdline);
	if (d.json)
		ob_printf(&d.out, "\n], \"fail\": %u, \"warn\": %u, \"ok\": %u}\n", d.n_fail, d.n_warn,
			  d.n_checks - d.n_fail - d.n_warn);
	else
		ob_printf(&d.out, "%u checks: %u FAIL, %u warn\n", d.n_checks, d.n_fail, d.n_warn);
	if (d.out.oom) {
		ob_free(&d.out);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	fwrite(d.out.p, 1, d.out.len, stdout);
	ob_free(&d.out);
	return d.n_fail ? 1 : 0;
}
