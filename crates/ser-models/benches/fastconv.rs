//! Criterion benches of the conv-block layers, forward + backward on `Autodiff<Flex>`, with
//! ser's kernels (`fastconv`) and with burn's own ops (`fastconv::set_enabled(false)`), at the
//! shapes of the reference-width CRNN (batch 32, 64 mel bands, 300 frames; conv 32-64-128-128,
//! stride-2 stem, 2x2 pools). One thread, as a training process runs:
//!
//! ```sh
//! RAYON_NUM_THREADS=1 taskset -c 0 cargo bench -p ser-models --bench fastconv
//! ```

use std::hint::black_box;
use std::time::Duration;

use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::MaxPool2dConfig;
use burn::nn::{BatchNormConfig, PaddingConfig2d};
use burn::prelude::*;
use burn::tensor::Distribution;
use criterion::{Criterion, criterion_group, criterion_main};
use ser_models::fastconv;

const BATCH: usize = 32;

/// `(name, c_in, c_out, input height, input width, stride)` of the four conv layers.
const CONVS: [(&str, usize, usize, usize, usize, usize); 4] = [
    ("conv 1-32 s2 on 64x300", 1, 32, 64, 300, 2),
    ("conv 32-64 on 32x150", 32, 64, 32, 150, 1),
    ("conv 64-128 on 16x75", 64, 128, 16, 75, 1),
    ("conv 128-128 on 8x37", 128, 128, 8, 37, 1),
];

fn conv(c_in: usize, c_out: usize, stride: usize, device: &Device) -> Conv2d {
    let padding = if stride > 1 {
        PaddingConfig2d::Explicit(1, 1, 1, 1)
    } else {
        PaddingConfig2d::Same
    };
    Conv2dConfig::new([c_in, c_out], [3, 3])
        .with_stride([stride, stride])
        .with_padding(padding)
        .init(device)
}

/// Benches `step` (a forward + backward) with the kernels on and off.
fn both(c: &mut Criterion, name: &str, step: impl Fn()) {
    let mut group = c.benchmark_group(name);
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));
    for (label, on) in [("fastconv", true), ("burn", false)] {
        fastconv::set_enabled(on);
        group.bench_function(label, |b| b.iter(&step));
    }
    fastconv::set_enabled(true);
    group.finish();
}

fn layers(c: &mut Criterion) {
    let device = Device::flex().autodiff();
    let normal = Distribution::Normal(0.0, 1.0);
    for (name, c_in, c_out, h, w, stride) in CONVS {
        let layer = conv(c_in, c_out, stride, &device);
        let x = Tensor::<4>::random([BATCH, c_in, h, w], normal, &device).require_grad();
        both(c, name, || {
            let grads = fastconv::conv2d(x.clone(), &layer).sum().backward();
            black_box(layer.weight.grad(&grads));
        });
    }
    // Batch norm and max pool where they are largest: the second block's output.
    let x = Tensor::<4>::random([BATCH, 64, 32, 150], normal, &device).require_grad();
    let norm = BatchNormConfig::new(64).init(&device);
    both(c, "batch norm on 64x32x150", || {
        let grads = fastconv::batch_norm(x.clone(), &norm).sum().backward();
        black_box(x.grad(&grads));
    });
    let pool = MaxPool2dConfig::new([2, 2]).init();
    both(c, "max pool 2x2 on 64x32x150", || {
        let grads = fastconv::max_pool2d(x.clone(), &pool).sum().backward();
        black_box(x.grad(&grads));
    });
}

criterion_group!(benches, layers);
criterion_main!(benches);
