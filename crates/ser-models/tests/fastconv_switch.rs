//! `fastconv::set_enabled` is process-wide, so it is tested in its own test binary (a unit
//! test flipping it would race the other unit tests of the library).
#![cfg(feature = "flex-conv")]

use burn::nn::PaddingConfig2d;
use burn::nn::conv::Conv2dConfig;
use burn::prelude::*;
use burn::tensor::Distribution;
use ser_models::fastconv;

fn bits(t: Tensor<4>) -> Vec<u32> {
    t.into_data()
        .try_to_vec::<f32>()
        .expect("f32 tensor")
        .into_iter()
        .map(f32::to_bits)
        .collect()
}

#[test]
fn switched_off_every_layer_is_burns_own_bit_for_bit() {
    let device = Device::flex();
    let conv = Conv2dConfig::new([16, 8], [3, 3])
        .with_padding(PaddingConfig2d::Same)
        .init(&device);
    let x = Tensor::<4>::random([2, 16, 12, 20], Distribution::Normal(0.0, 1.0), &device);
    let burn = bits(conv.forward(x.clone()));

    assert!(fastconv::is_enabled(), "on by default");
    let ours = bits(fastconv::conv2d(x.clone(), &conv));
    // 144-term sums in another order: some outputs differ in their last bits (this is what
    // the switch is for), none by more than rounding.
    assert_ne!(ours, burn, "the kernel should have run");

    fastconv::set_enabled(false);
    assert_eq!(bits(fastconv::conv2d(x, &conv)), burn);
    fastconv::set_enabled(true);
}
