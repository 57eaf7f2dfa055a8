# RealBasicVSR stage 2 (GAN): adds the VGG19 perceptual loss and a U-Net discriminator
# with spectral normalisation; 150k iterations, 8 GPUs x batch 1 x 30 frames,
# lr 5e-5 (G) / 1e-4 (D), initialised from stage 1 (the authors' setting; MMagic's config
# keeps batch 2 and comments load_from out).
_base_ = [
    './realbasicvsr_wogan-c64b20-2x30x8_8xb2-lr1e-4-300k_reds.py',
    '../_base_/models/realbasicvsr_gan.py'
]

experiment_name = 'realbasicvsr_c64b20-1x30x8_8xb1-lr5e-5-150k_reds'
work_dir = f'./work_dirs/{experiment_name}'

# the EMA weights of stage 1 initialise both generator and generator_ema
load_from = ('./work_dirs/realbasicvsr_wogan-c64b20-2x30x8_8xb2-lr1e-4-300k_reds/'
             'iter_300000.pth')

model = _base_.gan_model
optim_wrapper = _base_.gan_optim_wrapper
train_dataloader = dict(batch_size=1)
train_cfg = dict(type='IterBasedTrainLoop', max_iters=150_000, val_interval=5000)
auto_scale_lr = dict(enable=False, base_batch_size=8)
