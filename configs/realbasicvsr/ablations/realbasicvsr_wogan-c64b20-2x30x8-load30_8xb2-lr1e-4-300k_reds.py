# Ablation of the stochastic degradation scheme (Sec. 3.2): load all L = 30 frames instead
# of L/2 = 15 frames mirrored to 30. Same degradations; twice the loading and cropping cost.
_base_ = '../realbasicvsr_wogan-c64b20-2x30x8_8xb2-lr1e-4-300k_reds.py'

experiment_name = 'realbasicvsr_wogan-c64b20-2x30x8-load30_8xb2-lr1e-4-300k_reds'
work_dir = f'./work_dirs/{experiment_name}'

train_dataloader = dict(
    dataset=dict(
        num_input_frames=30,
        pipeline=[
            t for t in _base_.train_pipeline if t['type'] != 'mmrbvsr.MirrorSequence'
        ]))
