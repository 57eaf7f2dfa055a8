# Validation of a trained RealBasicVSR on UDM10 (BIx4, PSNR/SSIM on RGB), the reference's
# validation set during training, as a test config:
#   python tools/test.py configs/realbasicvsr/realbasicvsr_udm10_val.py CHECKPOINT \
#       --cfg-options test_dataloader.dataset.data_root=data/UDM10
# Layout: <data_root>/BIx4/<clip>/0000.png ..., <data_root>/GT/<clip>/0000.png ...
_base_ = './realbasicvsr_wogan-c64b20-2x30x8_8xb2-lr1e-4-300k_reds.py'

experiment_name = 'realbasicvsr_udm10_val'
work_dir = f'./work_dirs/{experiment_name}'

# only the generator is built; its weights (SPyNet included) come from the checkpoint
model = dict(generator=dict(spynet_pretrained=None))

test_dataloader = _base_.val_dataloader
test_evaluator = _base_.val_evaluator
custom_hooks = []
