//! Run-time backend selection among those compiled in.

use burn::prelude::*;

use crate::config::BackendKind;
use crate::error::{Result, TrainError};

/// The inference device for `kind` (training uses `device.autodiff()`), or a clear error
/// when the backend's cargo feature was not enabled.
pub fn device(kind: BackendKind) -> Result<Device> {
    match kind {
        BackendKind::Flex => Ok(Device::flex()),
        BackendKind::Ndarray => ndarray_device(),
        BackendKind::Wgpu => wgpu_device(),
    }
}

/// Backends this build can use.
pub fn available() -> Vec<BackendKind> {
    let mut v = vec![BackendKind::Flex];
    if cfg!(feature = "ndarray") {
        v.push(BackendKind::Ndarray);
    }
    if cfg!(feature = "wgpu") {
        v.push(BackendKind::Wgpu);
    }
    v
}

#[cfg(feature = "ndarray")]
fn ndarray_device() -> Result<Device> {
    // Deprecated upstream in favour of Flex; kept for the speed comparison.
    #[allow(deprecated)]
    Ok(Device::ndarray())
}

#[cfg(not(feature = "ndarray"))]
fn ndarray_device() -> Result<Device> {
    Err(TrainError::BackendUnavailable {
        name: "ndarray".into(),
    })
}

#[cfg(feature = "wgpu")]
fn wgpu_device() -> Result<Device> {
    Ok(Device::wgpu(burn::tensor::DeviceKind::DefaultDevice))
}

#[cfg(not(feature = "wgpu"))]
fn wgpu_device() -> Result<Device> {
    Err(TrainError::BackendUnavailable {
        name: "wgpu".into(),
    })
}
