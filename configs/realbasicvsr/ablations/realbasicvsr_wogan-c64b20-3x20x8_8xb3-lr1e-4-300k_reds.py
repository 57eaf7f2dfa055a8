# Ablation: batch size vs sequence length at an equal budget of 60 frames per GPU and
# iteration (Sec. 3.3): batch 3 x 20 frames (10 loaded and mirrored) instead of 2 x 30.
_base_ = '../realbasicvsr_wogan-c64b20-2x30x8_8xb2-lr1e-4-300k_reds.py'

experiment_name = 'realbasicvsr_wogan-c64b20-3x20x8_8xb3-lr1e-4-300k_reds'
work_dir = f'./work_dirs/{experiment_name}'

train_dataloader = dict(batch_size=3, dataset=dict(num_input_frames=10))
auto_scale_lr = dict(base_batch_size=24)
