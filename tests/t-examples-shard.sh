#!/bin/bash
# t-examples-shard: the examples that split one configuration over many
# machines with --shard (the copies make builds in examples/, which make
# install installs).
#  - kubernetes/popfetch-cronjob.yaml: valid YAML (PyYAML; the check is
#    skipped with a note where python3 has no yaml module); a CronJob with
#    concurrencyPolicy Forbid whose Job is Indexed with completions N and
#    a parallelism, a container running popfetch with "--shard
#    $(JOB_COMPLETION_INDEX)/N" (the same N), JOB_COMPLETION_INDEX an env
#    variable of the container, the configuration from a ConfigMap or
#    Secret volume, state_dir on a volume from a PersistentVolumeClaim
#    the file defines; the configuration it carries passes --check-config
#    and its N shards are disjoint and hold every account;
#  - slurm/popfetch-array.sh: bash -n; "#SBATCH --array=0-M" with M + 1
#    equal to the N of its "--shard $SLURM_ARRAY_TASK_ID/N"; it runs the
#    popfetch make install installs, on a configuration whose state_dir is
#    the shared directory the script names; run with a stub popfetch, it
#    passes the shard of its array task.
. "$(dirname "$0")/lib.sh"
t_init
setup_tmp t-examples-shard
trap t_cleanup EXIT

EX=$TOP_BUILDDIR/examples
K8S=$EX/kubernetes/popfetch-cronjob.yaml
SLURM=$EX/slurm/popfetch-array.sh
[ -f "$K8S" ] || fail "$K8S is not built (make)"
[ -f "$SLURM" ] || fail "$SLURM is not built (make)"
export HOME=$T/home
mkdir -p "$HOME"

note "kubernetes: the CronJob"
if ! "$PYTHON" -c 'import yaml' 2>/dev/null; then
	note "python3 has no yaml module (Debian: python3-yaml): the Kubernetes example is not checked"
else
	"$PYTHON" - "$K8S" "$T" <<'EOF' || fail "the Kubernetes example: see above"
import re, sys, yaml
path, t = sys.argv[1], sys.argv[2]
docs = [d for d in yaml.safe_load_all(open(path)) if d is not None]
bad = []
def need(cond, what):
    if not cond:
        bad.append(what)
kinds = {}
for d in docs:
    need(isinstance(d, dict) and "apiVersion" in d and "kind" in d and
         "metadata" in d and "name" in d["metadata"],
         "every document has apiVersion, kind and metadata.name")
    kinds.setdefault(d.get("kind"), []).append(d)
cron = kinds.get("CronJob", [])
need(len(cron) == 1, "one CronJob")
cj = cron[0]
need(cj["apiVersion"] == "batch/v1", "CronJob apiVersion batch/v1")
spec = cj["spec"]
need(isinstance(spec.get("schedule"), str) and len(spec["schedule"].split()) == 5,
     "a five-field schedule")
need(spec.get("concurrencyPolicy") == "Forbid", "concurrencyPolicy: Forbid")
job = spec["jobTemplate"]["spec"]
need(job.get("completionMode") == "Indexed", "completionMode: Indexed")
n = job.get("completions")
need(isinstance(n, int) and n >= 2, "completions: N >= 2")
need(isinstance(job.get("parallelism"), int) and 1 <= job["parallelism"] <= n,
     "parallelism between 1 and completions")
pod = job["template"]["spec"]
need(pod.get("restartPolicy") in ("Never", "OnFailure"), "restartPolicy Never or OnFailure")
cs = pod["containers"]
need(len(cs) == 1, "one container")
c = cs[0]
argv = list(c.get("command", [])) + list(c.get("args", []))
need(any(re.search(r"(^|/)popfetch$", a) for a in argv), "the container runs popfetch")
shard = [argv[i + 1] for i, a in enumerate(argv[:-1]) if a == "--shard"]
need(shard == ["$(JOB_COMPLETION_INDEX)/%d" % n],
     "--shard $(JOB_COMPLETION_INDEX)/N with N = completions (%d): got %r" % (n, shard))
env = {e["name"]: e for e in c.get("env", [])}
need("JOB_COMPLETION_INDEX" in env, "JOB_COMPLETION_INDEX is an env variable of the container")
cfgi = argv.index("-c") + 1 if "-c" in argv else None
need(cfgi is not None, "popfetch -c FILE")
cfgpath = argv[cfgi]
mounts = {m["mountPath"]: m for m in c.get("volumeMounts", [])}
vols = {v["name"]: v for v in pod.get("volumes", [])}
def volume_of(p):
    best = None
    for mp, m in mounts.items():
        if p == mp or p.startswith(mp.rstrip("/") + "/"):
            if best is None or len(mp) > len(best[0]):
                best = (mp, m)
    return best
cm = volume_of(cfgpath)
need(cm is not None, "the configuration file is on a volume")
cv = vols[cm[1]["name"]]
need("configMap" in cv or "secret" in cv, "the configuration from a ConfigMap or Secret")
src = cv.get("configMap", {}).get("name") or cv.get("secret", {}).get("secretName")
holders = [d for d in kinds.get("ConfigMap", []) + kinds.get("Secret", [])
           if d["metadata"]["name"] == src]
need(len(holders) == 1, "the ConfigMap/Secret %r is in the file" % src)
key = cm[1].get("subPath") or cfgpath[len(cm[0]):].lstrip("/")
data = holders[0].get("data") or holders[0].get("stringData") or {}
need(key in data, "the configuration %r is in %r" % (key, src))
conf = yaml.safe_load(data[key])
sd = (conf.get("defaults") or {}).get("state_dir")
need(sd is not None and all(a.get("state_dir", sd) == sd for a in conf["accounts"]),
     "one state_dir for every account")
sv = volume_of(sd)
need(sv is not None and "persistentVolumeClaim" in vols[sv[1]["name"]],
     "state_dir %r on a PersistentVolumeClaim" % sd)
claim = vols[sv[1]["name"]]["persistentVolumeClaim"]["claimName"]
pvcs = [d for d in kinds.get("PersistentVolumeClaim", []) if d["metadata"]["name"] == claim]
need(len(pvcs) == 1, "the PersistentVolumeClaim %r is in the file" % claim)
need("ReadWriteMany" in pvcs[0]["spec"].get("accessModes", []),
     "the state claim is ReadWriteMany (pods on several nodes)")
for e in c.get("env", []):
    if "valueFrom" in e and "secretKeyRef" in e["valueFrom"]:
        s = e["valueFrom"]["secretKeyRef"]["name"]
        need(any(d["metadata"]["name"] == s for d in kinds.get("Secret", [])),
             "the Secret %r is in the file" % s)
for b in bad:
    print("kubernetes example: " + b, file=sys.stderr)
if bad:
    sys.exit(1)
# For the shell: N, the configuration, the env variables it needs.
open(t + "/k8s.n", "w").write("%d\n" % n)
open(t + "/k8s.yaml", "w").write(data[key])
open(t + "/k8s.env", "w").write("".join(
    "%s\n" % e["name"] for e in c.get("env", [])))
EOF
	n=$(cat "$T/k8s.n")
	# The ConfigMap's configuration, its absolute paths moved under
	# $T/root, checked whole and shard by shard.
	sed -E "s#^([[:space:]-]*(maildir|mbox|state_dir):[[:space:]]*)/#\\1$T/root/#" \
		"$T/k8s.yaml" >"$T/k8s-config.yaml"
	chmod 600 "$T/k8s-config.yaml"
	while read -r v; do export "$v=example-$v"; done <"$T/k8s.env"
	run_popfetch -c "$T/k8s-config.yaml" --check-config
	expect_rc 0 "the Kubernetes configuration: --check-config"
	grep '^account ' "$T/out" | sort >"$T/k8s.all"
	[ -s "$T/k8s.all" ] || fail "the Kubernetes configuration has no account"
	: >"$T/k8s.union"
	for ((k = 0; k < n; k++)); do
		run_popfetch -c "$T/k8s-config.yaml" --check-config --shard "$k/$n"
		expect_rc 0 "the Kubernetes configuration: --shard $k/$n"
		grep '^account ' "$T/out" >>"$T/k8s.union" || true
	done
	sort "$T/k8s.union" >"$T/k8s.union.sorted"
	assert_file_eq "$T/k8s.all" "$T/k8s.union.sorted" "the $n shards of the Kubernetes configuration"
fi

note "slurm: the job array script"
bash -n "$SLURM" || fail "bash -n $SLURM"
arr=$(sed -n 's/^#SBATCH --array=\([0-9-]*\).*/\1/p' "$SLURM")
[[ $arr =~ ^0-([0-9]+)$ ]] || fail "slurm: '#SBATCH --array=0-M' not found (got '$arr')"
m=${BASH_REMATCH[1]}
sn=$(sed -n 's/^SHARDS=\([0-9]*\)$/\1/p' "$SLURM")
[ -n "$sn" ] || fail "slurm: no SHARDS=N line"
assert_eq "$sn" "$((m + 1))" "slurm: N (SHARDS) against the array 0-$m"
grep -q -- '--shard "\$SLURM_ARRAY_TASK_ID/\$SHARDS"' "$SLURM" ||
	fail "slurm: popfetch is not run with --shard \"\$SLURM_ARRAY_TASK_ID/\$SHARDS\""
bin=$(sed -n 's/^POPFETCH=//p' "$SLURM")
if [ -n "${POPFETCH_BINDIR:-}" ]; then
	assert_eq "$POPFETCH_BINDIR/popfetch" "$bin" "slurm: the installed popfetch"
fi
# Run it as Slurm would, with a stub popfetch that prints its arguments.
mkdir -p "$T/stub"
printf '#!/bin/sh\nprintf "%%s\\n" "$@"\n' >"$T/stub/popfetch"
chmod 755 "$T/stub/popfetch"
sed "s#^POPFETCH=.*#POPFETCH=$T/stub/popfetch#" "$SLURM" >"$T/slurm.sh"
rc=0
SLURM_ARRAY_TASK_ID=$m SLURM_ARRAY_TASK_COUNT=$((m + 1)) SLURM_ARRAY_TASK_MIN=0 \
	SLURM_ARRAY_TASK_MAX=$m bash "$T/slurm.sh" >"$T/slurm.out" 2>"$T/slurm.err" || rc=$?
[ "$rc" = 0 ] || { cat "$T/slurm.err" >&2; fail "slurm: the script exited $rc"; }
assert_grep "^$m/$sn\$" "$T/slurm.out" "slurm: the shard passed to popfetch"
cfg=$(grep -A1 -x -- -c "$T/slurm.out" | tail -1)
note "slurm: an array of another size is refused before popfetch runs"
rc=0
SLURM_ARRAY_TASK_ID=0 SLURM_ARRAY_TASK_COUNT=$((m + 2)) SLURM_ARRAY_TASK_MIN=0 \
	SLURM_ARRAY_TASK_MAX=$((m + 1)) bash "$T/slurm.sh" >"$T/slurm.out" 2>"$T/slurm.err" || rc=$?
assert_eq 64 "$rc" "slurm: exit for an array of $((m + 2)) tasks"
assert_empty "$T/slurm.out" "slurm: popfetch must not run"
assert_grep 'SHARDS' "$T/slurm.err" "slurm: the message names SHARDS"
[ -n "$cfg" ] || fail "slurm: popfetch is not given -c FILE"
exit 0
