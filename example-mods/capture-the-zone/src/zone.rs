//! The capture zone: an upright cylinder, the Java mod's shape.
//!
//! Horizontally inside means `dx² + dz² ≤ r²` (inclusive) around the centre; vertically the band
//! `[min_y, max_y]`, both ends inclusive. The corners of the legacy square (`|dx| ≤ r` and
//! `|dz| ≤ r`) are outside. Non-finite coordinates are outside.

use crate::Config;

/// The zone's geometry, taken from the configuration.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Zone {
    /// Centre X.
    pub center_x: f64,
    /// Centre Z.
    pub center_z: f64,
    /// Horizontal radius.
    pub radius: f64,
    /// Lowest Y inside (inclusive).
    pub min_y: f64,
    /// Highest Y inside (inclusive).
    pub max_y: f64,
}

impl Zone {
    /// The zone of a configuration.
    pub fn from_config(config: &Config) -> Self {
        Zone {
            center_x: config.capture_center_x,
            center_z: config.capture_center_z,
            radius: config.capture_radius,
            min_y: config.capture_min_y,
            max_y: config.capture_max_y,
        }
    }

    /// `true` if the vertical band holds `y` (inclusive).
    pub fn contains_y(&self, y: f64) -> bool {
        y >= self.min_y && y <= self.max_y
    }

    /// `true` if `(x, z)` is within the radius of the centre (inclusive).
    pub fn contains_xz(&self, x: f64, z: f64) -> bool {
        let dx = x - self.center_x;
        let dz = z - self.center_z;
        dx * dx + dz * dz <= self.radius * self.radius
    }

    /// `true` if the position is inside the cylinder.
    pub fn contains(&self, x: f64, y: f64, z: f64) -> bool {
        self.contains_y(y) && self.contains_xz(x, z)
    }

    /// Why a position is outside, for the throttled debug log (`None` if inside).
    pub fn outside_reason(&self, x: f64, y: f64, z: f64) -> Option<String> {
        if self.contains(x, y, z) {
            return None;
        }
        let dx = x - self.center_x;
        let dz = z - self.center_z;
        Some(format!(
            "outside_zone distXZ={:.2} y={y:.2}",
            (dx * dx + dz * dz).sqrt()
        ))
    }
}
