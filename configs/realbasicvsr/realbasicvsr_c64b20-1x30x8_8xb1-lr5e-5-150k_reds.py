# RealBasicVSR stage 2 (GAN): adds the VGG19 perceptual loss and a U-Net discriminator
# with spectral normalisation; 150k iterations, 8 GPUs x batch 1 x 30 frames,
# lr 5e-5 (G) / 1e-4 (D), initialised from stage 1 (the authors' setting; MMagic's config
# keeps batch 2 and comments load_from out).
_base_ = './realbasicvsr_wogan-c64b20-2x30x8_8xb2-lr1e-4-300k_reds.py'

experiment_name = 'realbasicvsr_c64b20-1x30x8_8xb1-lr5e-5-150k_reds'
work_dir = f'./work_dirs/{experiment_name}'

# the EMA weights of stage 1 initialise both generator and generator_ema
load_from = ('./work_dirs/realbasicvsr_wogan-c64b20-2x30x8_8xb2-lr1e-4-300k_reds/'
             'iter_300000.pth')
# VGG19 ImageNet weights: torchvision://vgg19, an http(s) URL or a local .pth path
vgg_pretrained = 'torchvision://vgg19'

model = dict(
    discriminator=dict(
        type='mmrbvsr.UNetDiscriminatorWithSpectralNorm',
        in_channels=3,
        mid_channels=64,
        skip_connection=True),
    perceptual_loss=dict(
        type='mmrbvsr.PerceptualLoss',
        # conv1_2, conv2_2, conv3_4, conv4_4, conv5_4 of VGG19 (before ReLU)
        layer_weights={'2': 0.1, '7': 0.1, '16': 1.0, '25': 1.0, '34': 1.0},
        vgg_type='vgg19',
        perceptual_weight=1.0,
        style_weight=0,
        norm_img=False,
        pretrained=vgg_pretrained),
    gan_loss=dict(
        type='mmrbvsr.GANLoss',
        gan_type='vanilla',
        loss_weight=5e-2,
        real_label_val=1.0,
        fake_label_val=0),
    is_use_sharpened_gt_in_pixel=True,
    is_use_sharpened_gt_in_percep=True,
    is_use_sharpened_gt_in_gan=False)

train_dataloader = dict(batch_size=1)

optim_wrapper = dict(
    _delete_=True,
    constructor='MultiOptimWrapperConstructor',
    generator=dict(type='OptimWrapper', optimizer=dict(type='Adam', lr=5e-5, betas=(0.9, 0.99))),
    discriminator=dict(
        type='OptimWrapper', optimizer=dict(type='Adam', lr=1e-4, betas=(0.9, 0.99))))

train_cfg = dict(type='IterBasedTrainLoop', max_iters=150_000, val_interval=5000)

auto_scale_lr = dict(enable=False, base_batch_size=8)
