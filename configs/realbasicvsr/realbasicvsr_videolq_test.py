# RealBasicVSR on VideoLQ (50 real clips, no ground truth): NIQE on the Y channel, on frames
# 0, 50 and 99 of every clip (the paper's protocol, reported as NIQE) and on all frames
# (NIQE_all). Each clip is restored whole, as in the paper.
#   python tools/test.py configs/realbasicvsr/realbasicvsr_videolq_test.py CHECKPOINT \
#       --cfg-options test_dataloader.dataset.data_root=data/VideoLQ
# Any folder laid out like VideoLQ works as data_root: <root>/<clip>/00000000.png, ...
# Clips shorter than 100 frames: add test_evaluator.metrics.0.frame_indices=None (all frames).
# The paper's refinement threshold: model.generator.dynamic_refine_thres=1.5 (the released
# configs, and MMagic's reported NIQE 3.7662, use 255: one cleaning pass).
_base_ = './realbasicvsr_wogan-c64b20-2x30x8_8xb2-lr1e-4-300k_reds.py'

experiment_name = 'realbasicvsr_videolq_test'
work_dir = f'./work_dirs/{experiment_name}'

# the generator only (no discriminator, no VGG19); SPyNet's weights come with the checkpoint,
# which holds generator_ema (used for testing) as MMagic's and the authors' releases do
model = dict(generator=dict(spynet_pretrained=None))

test_dataloader = dict(dataset=dict(data_root='data/VideoLQ'))
test_evaluator = dict(
    type='Evaluator',
    metrics=[dict(type='mmrbvsr.VideoNIQE', frame_indices=(0, 50, 99), all_frames=True,
                  convert_to='y')])

# no training-time hooks: nothing to average, no visualisations of 4x frames
custom_hooks = []
