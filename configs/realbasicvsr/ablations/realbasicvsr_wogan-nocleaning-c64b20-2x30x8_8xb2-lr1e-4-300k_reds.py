# Ablation: no image pre-cleaning (Sec. 3.1 of the paper): a plain BasicVSR with 20 blocks
# per direction trained like stage 1 on the same degradations, without the cleaning loss.
# Long-term propagation then amplifies noise and artifacts of real inputs.
_base_ = '../realbasicvsr_wogan-c64b20-2x30x8_8xb2-lr1e-4-300k_reds.py'

experiment_name = 'realbasicvsr_wogan-nocleaning-c64b20-2x30x8_8xb2-lr1e-4-300k_reds'
work_dir = f'./work_dirs/{experiment_name}'

model = dict(
    generator=dict(
        _delete_=True,
        type='mmrbvsr.BasicVSRNet',
        mid_channels=64,
        num_blocks=20,
        spynet_pretrained=_base_.spynet_pretrained),
    cleaning_loss=None)
