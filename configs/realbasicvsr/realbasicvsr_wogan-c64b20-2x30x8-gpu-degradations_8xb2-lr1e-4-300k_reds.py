# Stage 1 with the degradations' blur, resize, noise, JPEG and clip on the GPU (batched
# torch ops, frames as CUDA tensors); only the video codec stays on the CPU. The
# dataloader workers are spawned (CUDA cannot be used in forked workers) and kept
# alive; each holds a CUDA context on its rank's GPU (LOCAL_RANK).
_base_ = './realbasicvsr_wogan-c64b20-2x30x8_8xb2-lr1e-4-300k_reds.py'

experiment_name = 'realbasicvsr_wogan-c64b20-2x30x8-gpu-degradations_8xb2-lr1e-4-300k_reds'
work_dir = f'./work_dirs/{experiment_name}'

train_dataloader = dict(
    num_workers=4,
    persistent_workers=True,
    multiprocessing_context='spawn',
    dataset=dict(pipeline=_base_.train_pipeline_gpu))
