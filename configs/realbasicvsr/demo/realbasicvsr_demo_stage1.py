# Demo stage 1: the paper's stage-1 config shrunk to run in a minute or two on 2 CPU cores,
# on the demo set that tools/prepare_demo_data.py films from scikit-image's photographs.
# Everything but sizes and lengths is the paper's (losses, degradations, EMA, optimiser).
_base_ = '../realbasicvsr_wogan-c64b20-2x30x8_8xb2-lr1e-4-300k_reds.py'

experiment_name = 'realbasicvsr_demo_stage1'
work_dir = './work_dirs/demo/stage1'
demo_root = 'data/demo'
gt_size = 128  # GT crops (the paper: 256); LQ 32x32, the smallest the generator takes
iters = 30


def _resized(pipeline, size):
    # a top-level import would switch MMEngine to its lazy-import config syntax
    from mmrbvsr.datasets.demo import resize_pipeline
    return resize_pipeline(pipeline, size)


model = dict(
    generator=dict(
        mid_channels=16, num_propagation_blocks=2, num_cleaning_blocks=2,
        spynet_pretrained=None))  # no downloads: SPyNet keeps its random (frozen) weights

train_dataloader = dict(
    batch_size=2,
    num_workers=2,
    persistent_workers=False,
    dataset=dict(
        data_root=demo_root,
        data_prefix=dict(img='train', gt='train'),
        num_input_frames=3,  # mirrored to 6
        pipeline=_resized(_base_.train_pipeline, gt_size)))

# the demo's held-out clips are laid out like UDM10, with 8-digit frame names
val_dataloader = dict(
    num_workers=0,
    dataset=dict(
        metainfo=dict(dataset_type='demo', task_name='vsr'),
        data_root=f'{demo_root}/val',
        data_prefix=dict(img='BIx4', gt='GT'),
        pipeline=[dict(_base_.val_pipeline[0], filename_tmpl='{:08d}.png'),
                  *_base_.val_pipeline[1:]]))
test_dataloader = val_dataloader
test_evaluator = dict(type='Evaluator', metrics=[dict(type='PSNR'), dict(type='SSIM')])

train_cfg = dict(max_iters=iters, val_interval=iters)
default_hooks = dict(
    logger=dict(interval=1),
    checkpoint=dict(interval=iters, max_keep_ckpts=1, save_best=None))
custom_hooks = [
    dict(type='ExponentialMovingAverageHook', module_keys=('generator_ema', ), interval=1,
         interp_cfg=dict(momentum=0.001)),
]
log_processor = dict(window_size=1)
randomness = dict(seed=0)
