# RealBasicVSR stage 1 (no GAN): output + cleaning losses, 300k iterations,
# 8 GPUs x batch 2 x 30 frames (15 loaded and mirrored), Adam lr 1e-4, EMA 0.999.
_base_ = ['../_base_/default_runtime.py', '../_base_/realbasicvsr_pipeline.py']

default_scope = 'mmagic'
custom_imports = dict(imports=['mmrbvsr'], allow_failed_imports=False)

experiment_name = 'realbasicvsr_wogan-c64b20-2x30x8_8xb2-lr1e-4-300k_reds'
work_dir = f'./work_dirs/{experiment_name}'

# data roots: data/REDS/train_sharp_sub, data/UDM10/{BIx4,GT}, data/VideoLQ/<clip>;
# override with e.g. --cfg-options train_dataloader.dataset.data_root=/path/REDS
data_root = 'data'
spynet_pretrained = ('https://download.openmmlab.com/mmediting/restorers/basicvsr/'
                     'spynet_20210409-c6c1bd09.pth')

model = dict(
    type='mmrbvsr.RealBasicVSR',
    generator=dict(
        type='mmrbvsr.RealBasicVSRNet',
        mid_channels=64,
        num_propagation_blocks=20,
        num_cleaning_blocks=20,
        dynamic_refine_thres=255,  # one cleaning pass in training (paper's test value: 1.5)
        spynet_pretrained=spynet_pretrained,
        is_fix_cleaning=False,
        is_sequential_cleaning=False),
    pixel_loss=dict(type='mmrbvsr.L1Loss', loss_weight=1.0, reduction='mean'),
    cleaning_loss=dict(
        type='mmrbvsr.CleaningLoss',
        criterion='l1',
        loss_weight=1.0,
        scale=4,
        downsample_mode='area'),
    is_use_sharpened_gt_in_pixel=True,
    is_use_ema=True,
    data_preprocessor=dict(type='DataPreprocessor', mean=[0., 0., 0.], std=[255., 255., 255.]))

val_pipeline = [
    dict(type='GenerateSegmentIndices', interval_list=[1], filename_tmpl='{:04d}.png'),
    dict(type='LoadImageFromFile', key='img', channel_order='rgb'),
    dict(type='LoadImageFromFile', key='gt', channel_order='rgb'),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='GenerateSegmentIndices', interval_list=[1], filename_tmpl='{:08d}.png'),
    dict(type='LoadImageFromFile', key='gt', channel_order='rgb'),
    dict(type='LoadImageFromFile', key='img', channel_order='rgb'),
    dict(type='PackInputs'),
]
# low-quality frames only (no GT): what MMagic's MMagicInferencer / VideoRestorationInferencer
# use on a folder of frames or a video; every config based on this one inherits it
demo_pipeline = [
    dict(type='GenerateSegmentIndices', interval_list=[1]),
    dict(type='LoadImageFromFile', key='img', channel_order='rgb'),
    dict(type='PackInputs'),
]

train_dataloader = dict(
    num_workers=10,
    batch_size=2,
    persistent_workers=False,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type='BasicFramesDataset',
        metainfo=dict(dataset_type='reds', task_name='vsr'),
        data_root=f'{data_root}/REDS',
        data_prefix=dict(img='train_sharp_sub', gt='train_sharp_sub'),
        depth=1,
        num_input_frames=15,  # L/2: MirrorSequence makes 30
        pipeline=_base_.train_pipeline))

val_dataloader = dict(
    num_workers=1,
    batch_size=1,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='BasicFramesDataset',
        metainfo=dict(dataset_type='udm10', task_name='vsr'),
        data_root=f'{data_root}/UDM10',
        data_prefix=dict(img='BIx4', gt='GT'),
        pipeline=val_pipeline))

test_dataloader = dict(
    num_workers=1,
    batch_size=1,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='BasicFramesDataset',
        metainfo=dict(dataset_type='video_lq', task_name='vsr'),
        data_root=f'{data_root}/VideoLQ',
        data_prefix=dict(img='', gt=''),
        pipeline=test_pipeline))

val_evaluator = dict(type='Evaluator', metrics=[dict(type='PSNR'), dict(type='SSIM')])
test_evaluator = dict(type='Evaluator', metrics=[dict(type='NIQE', input_order='CHW',
                                                      convert_to='Y')])

train_cfg = dict(type='IterBasedTrainLoop', max_iters=300_000, val_interval=5000)
val_cfg = dict(type='MultiValLoop')
test_cfg = dict(type='MultiTestLoop')

# constant learning rate; 'generator' is the key the model's train_step reads
optim_wrapper = dict(
    constructor='MultiOptimWrapperConstructor',
    generator=dict(type='OptimWrapper', optimizer=dict(type='Adam', lr=1e-4, betas=(0.9, 0.99))))

custom_hooks = [
    dict(type='BasicVisualizationHook', interval=5),
    # generator_ema <- generator_ema + 0.001 * (generator - generator_ema): decay 0.999
    dict(type='ExponentialMovingAverageHook', module_keys=('generator_ema', ), interval=1,
         interp_cfg=dict(momentum=0.001)),
]

model_wrapper_cfg = dict(
    type='MMSeparateDistributedDataParallel', broadcast_buffers=False,
    find_unused_parameters=False)

# total batch 16 clips (8 GPUs x 2); --auto-scale-lr rescales lr for other totals
auto_scale_lr = dict(enable=False, base_batch_size=16)

randomness = dict(seed=None, deterministic=False)
