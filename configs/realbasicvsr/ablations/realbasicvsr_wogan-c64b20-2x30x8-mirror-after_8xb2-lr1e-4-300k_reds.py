# Variant of the stochastic degradation scheme: load L/2 = 15 frames, degrade those 15 and
# mirror the degraded clip (LQ and GT) to 30, halving the degradation cost; the LQ is then
# palindromic, so BasicVSR reuses its backward flows as forward flows. MMagic and the
# stage configs mirror the GT before degrading (all 30 frames are degraded).
_base_ = '../realbasicvsr_wogan-c64b20-2x30x8_8xb2-lr1e-4-300k_reds.py'

experiment_name = 'realbasicvsr_wogan-c64b20-2x30x8-mirror-after_8xb2-lr1e-4-300k_reds'
work_dir = f'./work_dirs/{experiment_name}'

train_dataloader = dict(dataset=dict(pipeline=_base_.train_pipeline_mirror_after))
