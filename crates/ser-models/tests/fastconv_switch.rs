//! `fastconv::set_enabled` is process-wide, so it is tested in its own test binary (a unit
//! test flipping it would race the other unit tests of the library).
#![cfg(feature = "flex-conv")]

use burn::nn::conv::Conv2dConfig;
use burn::nn::pool::MaxPool2dConfig;
use burn::nn::{BatchNormConfig, BiGruConfig, PaddingConfig2d};
use burn::prelude::*;
use burn::tensor::Distribution;
use burn::tensor::activation::relu;
use ser_models::fastconv;
use ser_models::{Family, ModelConfig};
use std::sync::Mutex;

/// The switch is process-wide: tests that flip it take turns.
static SWITCH: Mutex<()> = Mutex::new(());

fn bits<const D: usize>(t: Tensor<D>) -> Vec<u32> {
    t.into_data()
        .try_to_vec::<f32>()
        .expect("f32 tensor")
        .into_iter()
        .map(f32::to_bits)
        .collect()
}

#[test]
fn switched_off_every_layer_is_burns_own_bit_for_bit() {
    let _turn = SWITCH.lock().unwrap_or_else(|e| e.into_inner());
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

    // Batch norm (training mode needs an autodiff device) and max pool, on and off.
    let ad = device.clone().autodiff();
    let norm = BatchNormConfig::new(8).init(&ad);
    let pool = MaxPool2dConfig::new([2, 2]).init();
    let h = Tensor::<4>::random([2, 8, 12, 20], Distribution::Normal(1.0, 2.0), &ad);
    let (norm_burn, pool_burn) = (bits(norm.forward(h.clone())), bits(pool.forward(h.clone())));
    assert_ne!(bits(fastconv::batch_norm(h.clone(), &norm)), norm_burn);

    // The inference-only paths: the fused conv block and the BiGRU.
    let inference_norm = BatchNormConfig::new(8).init(&device);
    let block_burn = bits(pool.forward(relu(inference_norm.forward(conv.forward(x.clone())))));
    let block = || {
        bits(fastconv::conv_block(
            x.clone(),
            &conv,
            &inference_norm,
            &pool,
        ))
    };
    assert_ne!(block(), block_burn, "the fused block should have run");
    let gru = BiGruConfig::new(6, 5, true).init(&device);
    let seq = Tensor::<3>::random([2, 7, 6], Distribution::Normal(0.0, 1.0), &device);
    let gru_burn = bits(gru.forward(seq.clone(), None).0);
    assert_ne!(bits(fastconv::bi_gru(seq.clone(), &gru)), gru_burn);

    fastconv::set_enabled(false);
    assert_eq!(bits(fastconv::conv2d(x.clone(), &conv)), burn);
    assert_eq!(bits(fastconv::batch_norm(h.clone(), &norm)), norm_burn);
    assert_eq!(bits(fastconv::max_pool2d(h, &pool)), pool_burn);
    assert_eq!(block(), block_burn);
    assert_eq!(bits(fastconv::bi_gru(seq, &gru)), gru_burn);
    fastconv::set_enabled(true);
}

/// Largest absolute difference relative to `b`'s largest magnitude.
fn rel<const D: usize>(a: Tensor<D>, b: Tensor<D>) -> f32 {
    let scale = b.clone().abs().max().into_scalar::<f32>();
    a.sub(b).abs().max().into_scalar::<f32>() / scale
}

/// The default CRNN for 64 bins and 8 classes.
fn default_crnn() -> ser_models::crnn::CrnnConfig {
    let ModelConfig::Crnn(config) = ModelConfig::default_for(Family::Crnn, 64, 8) else {
        unreachable!("a CRNN config")
    };
    config
}

/// A whole training step of the CRNN (dropout off so both passes see the same network; batch
/// norm in training mode; padded clips): loss, input gradient (every layer's backward) and the
/// gradients of the first and last conv blocks' weights agree with burn's ops to f32 rounding.
#[test]
fn a_crnn_training_step_matches_burns_ops() {
    let _turn = SWITCH.lock().unwrap_or_else(|e| e.into_inner());
    let device = Device::flex().autodiff();
    // A fixed draw. The two paths round differently, so where a value sits within rounding of
    // a kink (a max-pool window whose top two values are nearly tied, a ReLU input within
    // ~1e-7 of 0) they can take the two sides of it and route that element's gradient
    // differently: both are correct, and the input gradient of the affected clip then differs
    // by a few percent. Unseeded, 2 of 20 runs of this test failed, and the failing draw we
    // examined looks like that (seed 5 of 0-39: dx off by 2% of its largest value in 1405 of
    // the 6144 elements of one clip and ~100 of each other clip, through batch norm, while
    // the loss still agreed to 2e-7); the other seeds of 0-39 agree to ~1e-6.
    // With this seed, scaling batch norm's dβ term in `fastconv::norm` by 0.999 still fails
    // the test (on the last conv weight gradient).
    device.seed(0);
    let config = default_crnn();
    // The running statistics a pass updates are not used by the next training-mode pass
    // (batch norm uses the batch's own), so both passes see the same network.
    let model = config.with_dropout(0.0).init(&device);
    let x = Tensor::<3>::random([4, 64, 96], Distribution::Normal(0.0, 1.0), &device);
    let lengths = [96, 80, 64, 96];
    let weights = Tensor::<2>::random([4, 8], Distribution::Normal(0.0, 1.0), &device);

    let run = |fast: bool| {
        fastconv::set_enabled(fast);
        let x = x.clone().require_grad();
        let loss = (model.forward(x.clone(), &lengths) * weights.clone()).sum();
        let grads = loss.backward();
        let first = model.blocks[0]
            .conv
            .weight
            .grad(&grads)
            .expect("first conv grad");
        let last = model
            .blocks
            .last()
            .expect("blocks")
            .conv
            .weight
            .grad(&grads);
        (
            loss.into_scalar::<f32>(),
            x.grad(&grads).expect("input grad"),
            first,
            last.expect("last conv grad"),
        )
    };
    let (loss_f, dx_f, w0_f, w1_f) = run(true);
    let (loss_b, dx_b, w0_b, w1_b) = run(false);
    fastconv::set_enabled(true);

    // The two passes took different paths (else the comparison below proves nothing): the
    // weight gradient sums ~10^4 products in another order, so its bits differ.
    assert_ne!(
        bits(w0_f.clone()),
        bits(w0_b.clone()),
        "the switch changed nothing"
    );
    // f32 sums of up to ~10^4 terms in a different order, through 3 blocks and a GRU:
    // relative differences of ~1e-6 expected; 1e-4 still rules out any wrong term.
    const REL_TOL: f32 = 1e-4;
    assert!(
        (loss_f - loss_b).abs() <= REL_TOL * loss_b.abs().max(1.0),
        "{loss_f} vs {loss_b}"
    );
    assert!(rel(dx_f, dx_b) < REL_TOL, "input gradient");
    assert!(rel(w0_f, w0_b) < REL_TOL, "first conv weight gradient");
    assert!(rel(w1_f, w1_b) < REL_TOL, "last conv weight gradient");
}

/// CRNN inference (no autodiff: the fused conv blocks and the slice BiGRU) on padded clips
/// gives burn's logits to f32 rounding, with batch norm's running statistics moved away from
/// their initial values by a few training-mode passes.
#[test]
fn crnn_inference_matches_burns_ops() {
    let _turn = SWITCH.lock().unwrap_or_else(|e| e.into_inner());
    let device = Device::flex().autodiff();
    device.seed(1);
    let config = default_crnn();
    let model = config.init(&device);
    for _ in 0..3 {
        let x = Tensor::<3>::random([4, 64, 96], Distribution::Normal(0.5, 2.0), &device);
        let _ = model.forward(x, &[96; 4]);
    }
    let model = model.valid();
    let inner = Device::flex();
    let x = Tensor::<3>::random([3, 64, 120], Distribution::Normal(0.0, 1.0), &inner);
    let lengths = [120, 77, 100];
    fastconv::set_enabled(true);
    let fast = model.forward(x.clone(), &lengths);
    fastconv::set_enabled(false);
    let burn = model.forward(x, &lengths);
    fastconv::set_enabled(true);
    assert_ne!(
        bits(fast.clone()),
        bits(burn.clone()),
        "the switch changed nothing"
    );
    // Sums of up to ~10^3 terms in another order through four blocks and a GRU.
    assert!(rel(fast, burn) < 1e-4);
}
