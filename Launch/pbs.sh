#!/usr/bin/env bash
# DeepCluster under PBS Pro / OpenPBS: mpirun over the allocation's nodes ($PBS_NODEFILE).
#   qsub -v EPOCHS=100 Launch/pbs.sh      (the epoch count as EPOCHS, not --epochs: the script checks it)
# PBS sends SIGTERM at the walltime and SIGKILL a few seconds later (kill_delay) — too soon for a
# checkpoint. So the script asks for one itself: MARGIN seconds before the walltime it sends SIGUSR1 to
# mpirun, which forwards it to every rank; the ranks stop after the same step, rank 0 writes the
# checkpoint, and the job is resubmitted (qrerun) to continue with --resume. It is rerun exactly when
# the run is unfinished and wrote a checkpoint newer than the one it started from (Launch/requeue.sh).
#PBS -N deepcluster
#PBS -l select=2:ncpus=16:mpiprocs=4:ompthreads=4
#PBS -l walltime=24:00:00
#PBS -r y
#PBS -j oe
set -euo pipefail
cd "${PBS_O_WORKDIR:-.}"
run=${DEEPCLUSTER_RUN:-runs/${PBS_JOBNAME:-deepcluster}}
epochs=${EPOCHS:-100}
margin=${MARGIN:-600}
threads=${OMP_NUM_THREADS:-4}
program=${DEEPCLUSTER:-.build/release/deepcluster}
mkdir -p "$run"
source "$(dirname "${BASH_SOURCE[0]}")/requeue.sh" 2>/dev/null || source Launch/requeue.sh
# The walltime in seconds, from qstat (hh:mm:ss), or WALLTIME_SECONDS.
walltime=${WALLTIME_SECONDS:-$(qstat -f "${PBS_JOBID:-}" 2>/dev/null | awk -F'= ' '/Resource_List.walltime/ {split($2,t,":"); print t[1]*3600+t[2]*60+t[3]}' || true)}
# Export OpenBLAS's kernel choice only where it is set (mpirun warns about unset ones).
export_flags=(-x LD_LIBRARY_PATH)
for v in OPENBLAS_CORETYPE OPENBLAS_L2_SIZE; do [ -n "${!v:-}" ] && export_flags+=(-x "$v"); done
before=$(newest_checkpoint "$run/checkpoints")
status_file="$run/status-${PBS_JOBID:-0}.json"
rm -f "$status_file"
# TCP keepalive on mpirun's links to its daemons, so a lost node ends the job in minutes, not 15.
mpirun --hostfile "$PBS_NODEFILE" --map-by "slot:PE=$threads" --bind-to core "${export_flags[@]}" \
  --mca oob_tcp_keepalive_time 30 --mca oob_tcp_keepalive_intvl 10 --mca oob_tcp_keepalive_probes 3 \
  "$program" train --threads "$threads" --epochs "$epochs" --checkpoint-dir "$run/checkpoints" \
  --metrics "$run/metrics.jsonl" --log-dir "$run/logs" --resume --status-file "$status_file" "$@" &
job=$!
if [ -n "$walltime" ] && [ "$walltime" -gt "$margin" ]; then
  ( sleep $(( walltime - margin )); echo "deepcluster: walltime near: asking for a checkpoint"; kill -USR1 "$job" 2>/dev/null ) &
  timer=$!
fi
status=0
wait "$job" || status=$?
[ -n "${timer:-}" ] && kill "$timer" 2>/dev/null || true
[ "$status" -eq 0 ] || { echo "deepcluster: failed with status $status"; exit "$status"; }
if [ "$(requeue_decision "$status_file" "$before" "$(newest_checkpoint "$run/checkpoints")")" = requeue ]; then
  qrerun "$PBS_JOBID"
fi
