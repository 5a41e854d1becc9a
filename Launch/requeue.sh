# Sourced by Launch/slurm.sbatch and Launch/pbs.sh: whether a batch job that ended with status 0
# should go back in the queue. It should exactly when the run is unfinished (a stop signal ended it
# before --epochs, as the status file written by `train --status-file` says) and it wrote a checkpoint
# newer than the one it started from; otherwise a time limit too short for one epoch, or a run with
# nothing left to do, would requeue itself forever.

# The newest complete checkpoint's folder name in $1 (numeric order, as the trainer's), or "none".
newest_checkpoint() {
  local name
  name=$(ls -d "$1"/epoch-*/COMPLETE 2>/dev/null | sed 's|/COMPLETE$||; s|.*/||' | sort -V | tail -1 || true)
  echo "${name:-none}"
}

# requeue_decision STATUS_FILE BEFORE AFTER: prints "requeue" or "done", and a reason on stderr.
requeue_decision() {
  local status_file=$1 before=$2 after=$3
  if [ ! -s "$status_file" ]; then
    echo "deepcluster: no status file ($status_file); not requeued" >&2; echo done; return
  fi
  if grep -q '"finished":true' "$status_file"; then
    echo "deepcluster: finished (newest checkpoint $after)" >&2; echo done; return
  fi
  if [ "$after" = "$before" ]; then
    echo "deepcluster: stopped before the end without a checkpoint newer than $before (the time limit is shorter than the work between two checkpoints: give the job more time, or --checkpoint-every N steps); not requeued" >&2
    echo done; return
  fi
  echo "deepcluster: stopped before the end; newest checkpoint $after (was $before); requeueing" >&2
  echo requeue
}
