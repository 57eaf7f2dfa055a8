# Ablation: batch size vs sequence length at an equal budget of 60 frames per GPU and
# iteration (Sec. 3.3): batch 6 x 10 frames (5 loaded and mirrored). The paper reports
# colour artifacts with such short sequences (L = 10).
_base_ = '../realbasicvsr_wogan-c64b20-2x30x8_8xb2-lr1e-4-300k_reds.py'

experiment_name = 'realbasicvsr_wogan-c64b20-6x10x8_8xb6-lr1e-4-300k_reds'
work_dir = f'./work_dirs/{experiment_name}'

train_dataloader = dict(batch_size=6, dataset=dict(num_input_frames=5))
auto_scale_lr = dict(base_batch_size=48)
