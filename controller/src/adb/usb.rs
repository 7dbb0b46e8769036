//! USB without an adb server (cargo feature `usb`): finding phones on the station's USB
//! buses and opening adb_client's `ADBUSBDevice` for one of them.
//!
//! A phone is named by its bus and device address (`usb:BUS-ADDR`), not by vendor and
//! product id: ten phones of one model share those, and adb_client's own constructor takes
//! the first match. Its serial number (the USB `iSerial` string, what `adb devices` shows)
//! is read when the device can be opened.
//!
//! Needs read/write access to the phones' USB device nodes (Debian's
//! `android-sdk-platform-tools-common` udev rules and the `plugdev` group) and no adb
//! server holding them. Not exercised by the tests: the simulator has no USB side.

use adb_client::usb::{ADBUSBDevice, USBTransport};
use rusb::UsbContext;

use super::{AdbError, Station};

/// ADB's USB interface: vendor-specific class, subclass 0x42, protocol 1.
const ADB_CLASS: u8 = 0xff;
const ADB_SUBCLASS: u8 = 0x42;
const ADB_PROTOCOL: u8 = 0x01;

/// A phone found on USB.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsbPhone {
    pub bus: u8,
    pub address: u8,
    /// The USB serial number, when the device node could be opened.
    pub serial: Option<String>,
    /// Manufacturer and product strings, when readable.
    pub description: String,
}

fn usb_error(phone: &str, e: impl std::fmt::Display) -> AdbError {
    AdbError::Unreachable {
        phone: phone.to_owned(),
        reason: format!(
            "USB: {e} (check the cable, the udev rules and the plugdev group, and that no adb server holds the phone)"
        ),
    }
}

fn is_adb(device: &rusb::Device<rusb::Context>) -> bool {
    let Ok(descriptor) = device.device_descriptor() else {
        return false;
    };
    (0..descriptor.num_configurations()).any(|i| {
        device.config_descriptor(i).is_ok_and(|config| {
            config.interfaces().any(|interface| {
                interface.descriptors().any(|d| {
                    d.class_code() == ADB_CLASS
                        && d.sub_class_code() == ADB_SUBCLASS
                        && d.protocol_code() == ADB_PROTOCOL
                })
            })
        })
    })
}

/// Every device on the station's USB buses that offers an ADB interface.
pub fn list() -> Result<Vec<UsbPhone>, AdbError> {
    let context = rusb::Context::new().map_err(|e| usb_error("usb", e))?;
    let devices = context.devices().map_err(|e| usb_error("usb", e))?;
    let mut phones = Vec::new();
    for device in devices.iter().filter(is_adb) {
        let (mut serial, mut description) = (None, String::from("unknown device"));
        if let (Ok(handle), Ok(descriptor)) = (device.open(), device.device_descriptor()) {
            serial = handle.read_serial_number_string_ascii(&descriptor).ok();
            let maker = handle
                .read_manufacturer_string_ascii(&descriptor)
                .unwrap_or_default();
            let product = handle
                .read_product_string_ascii(&descriptor)
                .unwrap_or_default();
            description = format!("{maker} {product}").trim().to_owned();
        }
        phones.push(UsbPhone {
            bus: device.bus_number(),
            address: device.address(),
            serial,
            description,
        });
    }
    Ok(phones)
}

/// Opens the phone at `bus`/`address` with the station's key (the phone shows the "Allow
/// USB debugging?" prompt for it the first time).
pub fn open(station: &Station, bus: u8, address: u8) -> Result<ADBUSBDevice, AdbError> {
    let name = format!("usb:{bus}-{address}");
    let context = rusb::Context::new().map_err(|e| usb_error(&name, e))?;
    let devices = context.devices().map_err(|e| usb_error(&name, e))?;
    let device = devices
        .iter()
        .find(|d| d.bus_number() == bus && d.address() == address)
        .ok_or_else(|| AdbError::NotFound {
            phone: name.clone(),
            server: "USB".into(),
        })?;
    ADBUSBDevice::new_from_transport(
        USBTransport::new_from_device(device),
        Some(station.key.clone()),
    )
    .map_err(|e| AdbError::from_tcp_handshake(&name, &e))
}
