# RealBasicVSR training data (Chan et al., CVPR 2022): REDS loading and the stochastic
# degradation pipeline, built from mmrbvsr's transforms and MMagic's loaders, crops,
# flips and PackInputs. Both training stages use the same data (as MMagic and the
# authors' configs). Variables meant for configs that `_base_` this file:
#
#   train_pipeline               MMagic's order: load L/2 = 15 frames, mirror them to
#                                L = 30, degrade all 30 (drift runs over 30 frames).
#   train_pipeline_mirror_after  load 15, degrade the 15, then mirror img, gt and
#                                gt_unsharp to 30: half the degradation cost, and a
#                                palindromic LQ so BasicVSR reuses backward flows.
#   train_pipeline_stage1 / train_pipeline_stage2
#                                the paper's stage 1 (no GAN) and stage 2 (GAN):
#                                both are train_pipeline.
#   degradations                 the degradation transforms alone (CopyValues .. Clip),
#                                shared by both pipelines.
#   degradations_gpu / train_pipeline_gpu
#                                the same degradations with the frames as CUDA tensors
#                                from FramesToTensor on: blur, resize, noise, JPEG and
#                                clip run batched on the GPU, only the codec on the CPU.
#                                Needs CUDA in the process that runs the pipeline: a
#                                dataloader with num_workers=0, or workers started with
#                                multiprocessing_context='spawn'.
#   reds_train_dataset           MMagic's BasicFramesDataset on REDS train_sharp_sub
#                                (480x480 sub-images), 15 frames per sample.
#   num_input_frames, gt_crop_size, scale
#
# Results keys follow MMagic: `img` (LQ, list of HWC RGB float32 0-255, 64x64),
# `gt` (uint8 256x256), `gt_unsharp` (float32, the USM-sharpened GT).
# Randomness: `mmrbvsr.SetRandomGenerator` puts one numpy Generator per sample into
# results['rng'] (keyed on seed, rank, worker seed, sample index and a counter);
# every mmrbvsr degradation draws from it.
default_scope = 'mmagic'
custom_imports = dict(imports=['mmrbvsr'], allow_failed_imports=False)

scale = 4
num_input_frames = 15
gt_crop_size = 256
lq_size = gt_crop_size // scale

_kernel_sizes = [7, 9, 11, 13, 15, 17, 19, 21]
_kernel_list = [
    'iso', 'aniso', 'generalized_iso', 'generalized_aniso', 'plateau_iso', 'plateau_aniso',
    'sinc'
]
_kernel_prob = [0.405, 0.225, 0.108, 0.027, 0.108, 0.027, 0.1]
_interp = ['bilinear', 'area', 'bicubic']
_interp_prob = [1 / 3., 1 / 3., 1 / 3.]
_video = dict(
    type='mmrbvsr.RandomVideoCompression',
    params=dict(
        codec=['libx264', 'h264', 'mpeg4'],  # PyAV's h264 encoder is libx264
        codec_prob=[1 / 3., 1 / 3., 1 / 3.],
        bitrate=[1e4, 1e5],
        frame_size='first'),
    keys=['img'])


def _blur(prob, sigma, sizes=_kernel_sizes, kernels=_kernel_list, probs=_kernel_prob):
    return dict(
        type='mmrbvsr.RandomBlur',
        params=dict(
            prob=prob,
            kernel_size=sizes,
            kernel_list=kernels,
            kernel_prob=probs,
            sigma_x=sigma,
            sigma_y=sigma,
            rotate_angle=[-3.1416, 3.1416],
            beta_gaussian=[0.5, 4],
            beta_plateau=[1, 2],
            sigma_x_step=0.02,
            sigma_y_step=0.02,
            rotate_angle_step=0.31416,
            beta_gaussian_step=0.05,
            beta_plateau_step=0.1,
            omega_step=0.0628),
        keys=['img'])


def _resize(mode_prob, scale_range, step, interp=_interp, interp_prob=_interp_prob):
    return dict(
        type='mmrbvsr.RandomResize',
        params=dict(
            resize_mode_prob=mode_prob,  # up, down, keep
            resize_scale=scale_range,
            resize_opt=interp,
            resize_prob=interp_prob,
            resize_step=step,
            is_size_even=True),
        keys=['img'])


def _noise(sigma, poisson_scale):
    return dict(
        type='mmrbvsr.RandomNoise',
        params=dict(
            noise_type=['gaussian', 'poisson'],
            noise_prob=[0.5, 0.5],
            gaussian_sigma=sigma,
            gaussian_gray_noise_prob=0.4,
            poisson_scale=poisson_scale,
            poisson_gray_noise_prob=0.4,
            gaussian_sigma_step=0.1,
            poisson_scale_step=0.005),
        keys=['img'])


_jpeg = dict(
    type='mmrbvsr.RandomJPEGCompression',
    params=dict(quality=[30, 95], quality_step=3),
    keys=['img'])

degradations = [
    dict(type='CopyValues', src_keys=['gt_unsharp'], dst_keys=['img']),
    # first order
    _blur(1, [0.2, 3]),
    _resize([0.2, 0.7, 0.1], [0.15, 1.5], 0.015),
    _noise([1, 30], [0.05, 3]),
    _jpeg,
    _video,
    # second order
    _blur(0.8, [0.2, 1.5]),
    _resize([0.3, 0.4, 0.3], [0.3, 1.2], 0.03),
    _noise([1, 25], [0.05, 2.5]),
    _jpeg,
    # last stage, in random order: [video] and [resize to the LQ size, sinc blur]
    dict(
        type='mmrbvsr.DegradationsWithShuffle',
        degradations=[
            _video,
            [
                dict(
                    type='mmrbvsr.RandomResize',
                    params=dict(
                        target_size=(lq_size, lq_size),
                        resize_opt=_interp,
                        resize_prob=_interp_prob)),
                dict(
                    type='mmrbvsr.RandomBlur',
                    params=dict(
                        prob=0.8,
                        kernel_size=_kernel_sizes,
                        kernel_list=['sinc'],
                        kernel_prob=[1],
                        omega=[3.1416 / 3, 3.1416],
                        omega_step=0.0628)),
            ],
        ],
        keys=['img']),
    dict(type='mmrbvsr.Clip', keys=['img']),
]

_load = [
    dict(type='mmrbvsr.SetRandomGenerator'),
    dict(type='GenerateSegmentIndices', interval_list=[1]),
    # an unreadable frame stops the run naming its file and clip; on_error='skip' (or
    # tools/train.py --on-data-error skip) drops such samples, each logged and counted
    dict(type='mmrbvsr.LoadImageFromFile', key='gt', channel_order='rgb', on_error='raise'),
    dict(type='SetValues', dictionary=dict(scale=scale)),
    # frames smaller than the crop are an error naming both sizes (MMagic's would shrink it)
    dict(type='mmrbvsr.FixedCrop', keys=['gt'], crop_size=(gt_crop_size, gt_crop_size)),
    dict(type='Flip', keys=['gt'], flip_ratio=0.5, direction='horizontal'),
    dict(type='Flip', keys=['gt'], flip_ratio=0.5, direction='vertical'),
    dict(type='RandomTransposeHW', keys=['gt'], transpose_ratio=0.5),
    # per-frame and deterministic: sharpening the 15 loaded frames then mirroring
    # equals MMagic's mirror-then-sharpen, at half the cost
    dict(
        type='mmrbvsr.UnsharpMasking',
        keys=['gt'],
        kernel_size=51,
        sigma=0,
        weight=0.5,
        threshold=10),
]

train_pipeline = [
    *_load,
    dict(type='mmrbvsr.MirrorSequence', keys=['gt', 'gt_unsharp']),
    *degradations,
    dict(type='PackInputs'),
]

degradations_gpu = [
    degradations[0],
    dict(type='mmrbvsr.FramesToTensor', keys=['img'], device='cuda'),
    *degradations[1:],
    dict(type='mmrbvsr.FramesToNumpy', keys=['img']),
]

train_pipeline_gpu = [
    *_load,
    dict(type='mmrbvsr.MirrorSequence', keys=['gt', 'gt_unsharp']),
    *degradations_gpu,
    dict(type='PackInputs'),
]

train_pipeline_mirror_after = [
    *_load,
    *degradations,
    dict(type='mmrbvsr.MirrorSequence', keys=['img', 'gt', 'gt_unsharp']),
    dict(type='PackInputs'),
]

train_pipeline_stage1 = train_pipeline
train_pipeline_stage2 = train_pipeline

reds_train_dataset = dict(
    type='BasicFramesDataset',
    metainfo=dict(dataset_type='reds', task_name='vsr'),
    data_root='data/REDS',
    data_prefix=dict(img='train_sharp_sub', gt='train_sharp_sub'),
    depth=1,
    num_input_frames=num_input_frames,
    pipeline=train_pipeline)

# keep the helpers out of the configs that inherit this file
del _kernel_sizes, _kernel_list, _kernel_prob, _interp, _interp_prob, _video, _jpeg, _load
del _blur, _resize, _noise
