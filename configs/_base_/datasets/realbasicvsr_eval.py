# Evaluation data of RealBasicVSR: validation on UDM10 (BIx4, PSNR/SSIM on RGB) during
# training, the reference's choice, and test on VideoLQ (50 real clips without ground
# truth, NIQE on the Y channel), the paper's benchmark.
#   UDM10:   <data_root>/BIx4/<clip>/0000.png ..., <data_root>/GT/<clip>/0000.png ...
#   VideoLQ: <data_root>/<clip>/00000000.png ...


def _clips(data_root, data_prefix, dataset_type, pipeline):
    # one whole clip per batch, in order
    return dict(
        num_workers=1,
        batch_size=1,
        persistent_workers=False,
        sampler=dict(type='DefaultSampler', shuffle=False),
        dataset=dict(
            type='BasicFramesDataset',
            metainfo=dict(dataset_type=dataset_type, task_name='vsr'),
            data_root=data_root,
            data_prefix=data_prefix,
            pipeline=pipeline))


val_pipeline = [
    dict(type='GenerateSegmentIndices', interval_list=[1], filename_tmpl='{:04d}.png'),
    # an unreadable frame stops the evaluation naming its file and clip
    dict(type='mmrbvsr.LoadImageFromFile', key='img', channel_order='rgb'),
    dict(type='mmrbvsr.LoadImageFromFile', key='gt', channel_order='rgb'),
    dict(type='PackInputs'),
]
val_dataloader = _clips('data/UDM10', dict(img='BIx4', gt='GT'), 'udm10', val_pipeline)
val_evaluator = dict(type='Evaluator', metrics=[dict(type='PSNR'), dict(type='SSIM')])
val_cfg = dict(type='MultiValLoop')

# VideoLQ has no ground truth (gt and img read the same frames), 8-digit frame names
test_pipeline = [dict(val_pipeline[0], filename_tmpl='{:08d}.png'), *val_pipeline[1:]]
test_dataloader = _clips('data/VideoLQ', dict(img='', gt=''), 'video_lq', test_pipeline)
test_evaluator = dict(type='Evaluator', metrics=[dict(type='NIQE', input_order='CHW',
                                                      convert_to='Y')])
test_cfg = dict(type='MultiTestLoop')

# low-quality frames only (no GT): what MMagic's MMagicInferencer / VideoRestorationInferencer
# use on a folder of frames or a video
demo_pipeline = [
    dict(type='GenerateSegmentIndices', interval_list=[1]),
    dict(type='LoadImageFromFile', key='img', channel_order='rgb'),
    dict(type='PackInputs'),
]
