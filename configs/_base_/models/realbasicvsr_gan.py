# The parts RealBasicVSR's stage 2 adds to stage 1: the Real-ESRGAN U-Net discriminator
# with spectral normalisation, the VGG19 perceptual loss (conv1_2, conv2_2, conv3_4,
# conv4_4, conv5_4 before ReLU, weights 0.1, 0.1, 1, 1, 1) and the vanilla GAN loss
# (weight 0.05 on the generator); the sharpened GT for the pixel and perceptual losses,
# the plain GT for the GAN; Adam for both networks. A stage-2 config inherits its stage 1
# and this file, then merges these into its model and optimiser:
#     model = _base_.gan_model
#     optim_wrapper = _base_.gan_optim_wrapper
gan_model = dict(
    discriminator=dict(
        type='mmrbvsr.UNetDiscriminatorWithSpectralNorm',
        in_channels=3,
        mid_channels=64,
        skip_connection=True),
    perceptual_loss=dict(
        type='mmrbvsr.PerceptualLoss',
        layer_weights={'2': 0.1, '7': 0.1, '16': 1.0, '25': 1.0, '34': 1.0},
        vgg_type='vgg19',
        perceptual_weight=1.0,
        style_weight=0,
        norm_img=False,
        # VGG19 ImageNet weights: torchvision://vgg19, an http(s) URL or a local .pth path
        pretrained='torchvision://vgg19'),
    gan_loss=dict(
        type='mmrbvsr.GANLoss',
        gan_type='vanilla',
        loss_weight=5e-2,
        real_label_val=1.0,
        fake_label_val=0),
    is_use_sharpened_gt_in_pixel=True,
    is_use_sharpened_gt_in_percep=True,
    is_use_sharpened_gt_in_gan=False)

# lr 5e-5 (G) / 1e-4 (D); replaces stage 1's generator-only wrapper
gan_optim_wrapper = dict(
    _delete_=True,
    constructor='MultiOptimWrapperConstructor',
    generator=dict(type='OptimWrapper', optimizer=dict(type='Adam', lr=5e-5, betas=(0.9, 0.99))),
    discriminator=dict(
        type='OptimWrapper', optimizer=dict(type='Adam', lr=1e-4, betas=(0.9, 0.99))))
