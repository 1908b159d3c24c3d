#!/bin/bash
# popfetch as a Slurm job array: one configuration, its accounts split
# over N array tasks. Task i runs "popfetch --shard i/N": the accounts
# whose name hashes to shard i (popfetch(1), --shard); together the N
# tasks run every account exactly once.
#
# N is written twice: in "--array=0-(N-1)" and in SHARDS. Change both
# together (the script refuses to run when the array has another size).
#
# The configuration's state_dir (and the mail stores) must be on storage
# every node mounts, e.g. NFS whose server honours fcntl locks (see
# popfetch(1), SHARED STATE DIRECTORIES), so that an account finds its
# journal whichever node runs it:
#
#   defaults:
#     state_dir: /shared/popfetch/state
#
# Submit:                 sbatch popfetch-array.sh
# Every ten minutes, with scrontab (Slurm 20.11 and later):
#   */10 * * * * sbatch --quiet /shared/popfetch/popfetch-array.sh
#
#SBATCH --job-name=popfetch
#SBATCH --array=0-7
#SBATCH --ntasks=1
#SBATCH --cpus-per-task=1
#SBATCH --mem=256M
#SBATCH --time=00:09:00
#SBATCH --output=/shared/popfetch/log/%x-%A_%a.out
set -eu

SHARDS=8
POPFETCH=/usr/local/bin/popfetch
CONFIG=/shared/popfetch/config.yaml

if [ -z "${SLURM_ARRAY_TASK_ID:-}" ]; then
	echo "popfetch-array.sh: not a Slurm array task (submit with sbatch)" >&2
	exit 64
fi
if [ "${SLURM_ARRAY_TASK_COUNT:-$SHARDS}" != "$SHARDS" ] ||
	[ "${SLURM_ARRAY_TASK_MIN:-0}" != 0 ] ||
	[ "${SLURM_ARRAY_TASK_MAX:-$((SHARDS - 1))}" != "$((SHARDS - 1))" ]; then
	echo "popfetch-array.sh: the array is not 0-$((SHARDS - 1)):" \
		"set --array and SHARDS to the same N" >&2
	exit 64
fi
exec "$POPFETCH" -q -c "$CONFIG" --shard "$SLURM_ARRAY_TASK_ID/$SHARDS"
