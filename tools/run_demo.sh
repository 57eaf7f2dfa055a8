#!/usr/bin/env bash
# The main job, on CPU in a few minutes and without downloads:
#   1. film a small training set from scikit-image's photographs (tools/prepare_demo_data.py)
#   2. stage 1 (no GAN) and 3. stage 2 (GAN, VGG19 without weights) for a few iterations,
#      with the paper's losses and degradation pipeline (configs/realbasicvsr/demo/)
#   4. evaluate the EMA generator on the held-out clips (PSNR/SSIM)
#   5. restore a held-out degraded clip (PNG frames and an .mp4)
#   6. write the loss curves of both stages (CSV and PNG)
# Usage: tools/run_demo.sh [OUT_DIR]   (default work_dirs/demo; needs tools/setup_env.sh first)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PY="${PYTHON:-$ROOT/.venv/bin/python}"
OUT="${1:-work_dirs/demo}"
DATA="${DEMO_DATA:-$OUT/data}"
CFG=configs/realbasicvsr/demo
start=$(date +%s)
step() { echo; echo "== [$(( $(date +%s) - start ))s] $*"; }

step "1/6 demo data -> $DATA"
"$PY" tools/prepare_demo_data.py --out "$DATA" --size 160
step "2/6 stage 1 (no GAN)"
"$PY" tools/train.py "$CFG/realbasicvsr_demo_stage1.py" --work-dir "$OUT/stage1" \
    --cfg-options train_dataloader.dataset.data_root="$DATA" \
    val_dataloader.dataset.data_root="$DATA/val" test_dataloader.dataset.data_root="$DATA/val"
stage1_ckpt="$(cat "$OUT/stage1/last_checkpoint")"
step "3/6 stage 2 (GAN) from $stage1_ckpt"
"$PY" tools/train.py "$CFG/realbasicvsr_demo_stage2.py" --work-dir "$OUT/stage2" \
    --cfg-options load_from="$stage1_ckpt" train_dataloader.dataset.data_root="$DATA" \
    val_dataloader.dataset.data_root="$DATA/val" test_dataloader.dataset.data_root="$DATA/val"
stage2_ckpt="$(cat "$OUT/stage2/last_checkpoint")"
step "4/6 evaluation on the held-out clips"
"$PY" tools/test.py "$CFG/realbasicvsr_demo_stage2.py" "$stage2_ckpt" --work-dir "$OUT/test" \
    --cfg-options test_dataloader.dataset.data_root="$DATA/val" 2>&1 | tee "$OUT/test.log"
step "5/6 restored clip"
"$PY" tools/restore_video.py "$CFG/realbasicvsr_demo_stage2.py" "$stage2_ckpt" \
    "$DATA/test/LQ/000" "$OUT/restored_frames" --overwrite
"$PY" tools/restore_video.py "$CFG/realbasicvsr_demo_stage2.py" "$stage2_ckpt" \
    "$DATA/test/LQ/000" "$OUT/restored.mp4" --overwrite
step "6/6 loss curves"
"$PY" tools/plot_loss_curves.py "$OUT/stage1" "$OUT/stage2" --names stage1 stage2 \
    --out "$OUT/loss_curves"
step "done: $OUT/{loss_curves.png,loss_curves.csv,restored.mp4,restored_frames/,test.log}"
