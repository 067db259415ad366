#!/usr/bin/env bash
# One GPU session for graphkit, run from the repository root on a machine with one CUDA GPU:
#   1. timing-critical checks, one at a time on an idle GPU: GNP vs sum / PowerMean on a
#      10M-edge layer (fp32 and bf16 autocast), residual-kind overhead (Cora and a 100k-node
#      graph at width 256) with CUDA peak memory, GPN vs EdgePooling epochs with the parse share;
#   2. accuracy jobs side by side on the GPU: the rest of issue #4's depth sweep (sharded, resuming
#      from the CPU result files), GPN vs PyG's pools with the GPN paper's recipe (issue #6), and
#      the trainer / AMP check through the CLI (benchmarks/gpu_trainer.py).
# Every job has its own time limit and writes its own file; everything ends up in
# $OUT/device_results.tgz. Data: $GRAPHKIT_DATA (default ./.devdata, a copy of ../shared/data).
#   bash benchmarks/device_check.sh [PHASE1_S] [PHASE2_S]
#   bash benchmarks/device_check.sh smoke      # a one-minute check that every path runs on the GPU
set -u
MODE=full
[ "${1:-}" = smoke ] && { MODE=smoke; shift; }
P1=${1:-170}
P2=${2:-330}
OUT=${OUT:-/tmp/gk_device_out}
W=$(mktemp -d /tmp/gk_device.XXXX)
mkdir -p "$OUT" "$W/depth" "$W/link" "$W/logs"
export PYTHONUNBUFFERED=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
export GRAPHKIT_DATA=${GRAPHKIT_DATA:-$PWD/.devdata}
export GRAPHKIT_CACHE=${GRAPHKIT_CACHE:-$W/cache}
PY=${PYTHON:-python3}
DEV=${DEV:-cuda}
pack() { tar czf "$OUT/device_results.tgz" -C "$W" --exclude cache . 2>/dev/null; }
trap pack EXIT

if [ -d .whl ]; then   # torch_geometric 2.8.1 and ogb, as used here (the image's torch stays)
  $PY -m pip install -q --no-index --no-deps --no-compile --target /tmp/site .whl/*.whl \
    >"$W/logs/pip.log" 2>&1
  export PYTHONPATH=/tmp/site
  if ! $PY -c "import torch_geometric, graphkit" >>"$W/logs/pip.log" 2>&1; then
    rm -rf /tmp/site/torch_geometric*   # fall back to the image's PyG
  fi
fi
export PYTHONPATH=$PWD:${PYTHONPATH:-}
{
  date; nvidia-smi; nproc; free -g
  $PY -c "import torch, torch_geometric, graphkit; print('torch', torch.__version__, 'cuda', \
torch.version.cuda, torch.cuda.get_device_name(0), 'pyg', torch_geometric.__version__)"
} >"$W/logs/env.log" 2>&1
cat "$W/logs/env.log"

if [ $MODE = smoke ]; then
  for job in "residual_depth.py --plan smoke --epochs 2 --patience 2 --gcnii-epochs 2 --out $W/s.jsonl" \
      "link_auc.py --datasets usair --methods walkpool seal gae --splits 0 --epochs 1 --steps 2 --gae-epochs 2 --out $W/l.jsonl" \
      "gpn_speed.py --parts epoch --datasets mutag --methods gpn,edge --repeats 1 --out $W/g.jsonl" \
      "gnp_speed.py --edges 100000 --nodes 10000 --reps 1 --amp"; do
    echo "== $job"; timeout 60 $PY benchmarks/$job --device "$DEV" 2>&1 | tail -n 4
  done
  echo "== graphkit train (amp)"
  timeout 60 $PY -m graphkit train --no-progress --out-dir "$W/t" examples/configs/proteins_gin.yaml \
    data.splits=[0] train.epochs=3 train.device="$DEV" train.amp=true 2>&1 | tail -n 4
  exit
fi

t0=$SECONDS
step() {  # step NAME LIMIT_S CMD...: one timing job, skipped once the phase budget is spent
  local name=$1 limit=$2; shift 2
  local left=$((P1 - (SECONDS - t0)))
  [ "$left" -lt 10 ] && { echo "skip $name (phase 1 budget spent)"; return; }
  [ "$limit" -gt "$left" ] && limit=$left
  echo "== $name (limit ${limit}s)"
  timeout "$limit" "$@" >"$W/logs/$name.log" 2>&1
  echo "   rc=$? after $((SECONDS - t0))s"; tail -n 12 "$W/logs/$name.log"
}
step gnp_fp32 35 $PY benchmarks/gnp_speed.py --device "$DEV" --reps 5 --out "$W/gnp_speed.jsonl"
step gnp_bf16 35 $PY benchmarks/gnp_speed.py --device "$DEV" --reps 5 --amp --out "$W/gnp_speed.jsonl"
step gnp_c64 35 $PY benchmarks/gnp_speed.py --device "$DEV" --reps 5 --channels 64 \
  --out "$W/gnp_speed.jsonl"
step overhead_cora 30 $PY benchmarks/residual_overhead.py --device "$DEV" --depth 16 --rounds 20 \
  --out "$W/residual_overhead_cuda.json"
step overhead_big 40 $PY benchmarks/residual_overhead.py --device "$DEV" --depth 16 --hidden 256 \
  --rounds 10 --dataset random:100000:2000000 --out "$W/residual_overhead_cuda_big.json" \
  --kinds plain preact rezero laurel_rw laurel_lr laurel_pa hc_static hc_dynamic mhc gcnii
step gpn_epoch 60 $PY benchmarks/gpn_speed.py --device "$DEV" --parts epoch --datasets proteins,nci1 \
  --methods gpn,edge --repeats 2 --out "$W/gpn_speed_cuda.jsonl"

echo "== phase 2: parallel accuracy jobs (limit ${P2}s)"
# what the CPU could not finish: issue #4's remaining kinds (ReZero, LAuReL-LR, mHC, JK, dense)
# on all three graphs, skipping every run already in the CPU result files; GPN against PyG's
# pools on PROTEINS then NCI1 with the paper's recipe (10 folds, 500 epochs, patience 50, cosine,
# clip 1.0; use_node_attr); the trainer / AMP check through the CLI.
R=benchmarks/results
DONE="$R/residual_depth_rest_s0.jsonl $R/residual_depth_rest_s1.jsonl $R/residual_depth_seeds5_cpu_s0.jsonl \
$R/residual_depth_seeds5_cpu_s1.jsonl $R/residual_depth_seeds5_cpu_citeseer.jsonl \
$R/residual_depth_seeds5_cpu_citeseer_s1.jsonl $R/residual_depth_deep64.jsonl \
$R/residual_depth_deep64_cpu.jsonl $R/residual_depth_deep64_citeseer_cpu.jsonl \
$R/residual_depth_deep64_citeseer_seed4_cpu.jsonl $R/residual_depth_deep64_csbm_cpu.jsonl \
$R/residual_depth_gcnii64_cpu.jsonl $R/gpu_h200/residual_depth_full_partial.jsonl \
$R/residual_depth_rest_cpu_cc.jsonl $R/residual_depth_rest_cpu_cc0.jsonl $R/residual_depth_rest_cpu_cc1.jsonl"
NS=${DEPTH_SHARDS:-6}
for i in $(seq 0 $((NS - 1))); do
  # shellcheck disable=SC2086
  timeout "$P2" $PY benchmarks/residual_depth.py --plan rest --device "$DEV" --shard "$i/$NS" \
    --normalize-features --gcnii-select loss --gcnii-epochs 500 --epochs 200 --patience 50 \
    --budget-min 60 --out "$W/depth/rest$i.jsonl" --also-done $DONE \
    >"$W/logs/depth$i.log" 2>&1 &
done
mkdir -p "$W/gpn"
t2=$SECONDS
for i in 0 1 2 3 4; do
  ( for ds in proteins nci1; do   # each run limited to what is left of the phase
      left=$((P2 - (SECONDS - t2))); [ "$left" -lt 10 ] && break
      hid=128; bs=128; drop=0.1; [ $ds = nci1 ] && { hid=256; bs=256; drop=0.4; }
      timeout "$left" $PY benchmarks/gpn_accuracy.py --device "$DEV" --datasets $ds --large none \
        --node-attr proteins --methods gpn,topk,sag,asap --folds $i,$((i + 5)) --epochs 500 \
        --patience 50 --hidden $hid --batch-size $bs --dropout $drop --lr 5e-4 \
        --scheduler cosine --grad-clip 1.0 --out "$W/gpn/paper_$ds.$i.jsonl"
    done ) >"$W/logs/gpn$i.log" 2>&1 &
done
timeout "$P2" $PY benchmarks/gpu_trainer.py --out "$W/gpu_trainer.json" --timeout 120 \
  >"$W/logs/gpu_trainer.log" 2>&1 &
wait
echo "phase 2 done after $((SECONDS - t0))s"
tail -n 3 "$W"/logs/depth*.log "$W"/logs/gpn*.log
tail -n 25 "$W/logs/gpu_trainer.log"
wc -l "$W"/depth/*.jsonl "$W"/gpn/*.jsonl
