//! Small software renderers for the classic-control envs: the same pictures as gymnasium's
//! `render_mode="rgb_array"` (same geometry and colours), drawn at 40 % of gymnasium's size
//! (240×160 or 200×200) so a dashboard can show whole episodes cheaply.
//!
//! Drawing happens in gymnasium's pixel coordinates before its vertical flip: `x` to the right,
//! `y` up from the bottom edge, then scaled by [`SCALE`].

use mirrorflow_core::Frame;
use std::f64::consts::FRAC_PI_2;

/// Frames are gymnasium's size times this.
pub(crate) const SCALE: f64 = 0.4;

type Rgb = [u8; 3];
const WHITE: Rgb = [255, 255, 255];
const BLACK: Rgb = [0, 0, 0];

/// An RGB canvas with the origin at the bottom-left corner.
pub(crate) struct Canvas {
    w: usize,
    h: usize,
    rgb: Vec<u8>,
}

impl Canvas {
    /// A white canvas of gymnasium's size `w x h`, scaled by [`SCALE`].
    pub(crate) fn new(gym_w: f64, gym_h: f64) -> Self {
        let (w, h) = (
            (gym_w * SCALE).round() as usize,
            (gym_h * SCALE).round() as usize,
        );
        let mut rgb = vec![0; w * h * 3];
        for px in rgb.chunks_exact_mut(3) {
            px.copy_from_slice(&WHITE);
        }
        Self { w, h, rgb }
    }

    fn put(&mut self, x: usize, y: usize, c: Rgb) {
        let row = self.h - 1 - y;
        let i = (row * self.w + x) * 3;
        self.rgb[i..i + 3].copy_from_slice(&c);
    }

    /// Fills a polygon given in gymnasium pixels (even-odd rule, sampled at pixel centres).
    pub(crate) fn polygon(&mut self, pts: &[(f64, f64)], c: Rgb) {
        let pts: Vec<(f64, f64)> = pts.iter().map(|&(x, y)| (x * SCALE, y * SCALE)).collect();
        let (lo, hi) = pts
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), p| {
                (lo.min(p.1), hi.max(p.1))
            });
        let y0 = lo.floor().max(0.0) as usize;
        let y1 = (hi.ceil().max(0.0) as usize).min(self.h);
        let mut xs = Vec::with_capacity(8);
        for y in y0..y1 {
            let py = y as f64 + 0.5;
            xs.clear();
            for k in 0..pts.len() {
                let (a, b) = (pts[k], pts[(k + 1) % pts.len()]);
                if (a.1 <= py) != (b.1 <= py) {
                    xs.push(a.0 + (py - a.1) / (b.1 - a.1) * (b.0 - a.0));
                }
            }
            xs.sort_by(f64::total_cmp);
            for pair in xs.chunks_exact(2) {
                let from = (pair[0] - 0.5).ceil().max(0.0) as usize;
                let to = ((pair[1] - 0.5).floor() + 1.0).clamp(0.0, self.w as f64) as usize;
                for x in from..to {
                    self.put(x, y, c);
                }
            }
        }
    }

    /// Fills a disc (gymnasium pixels).
    pub(crate) fn circle(&mut self, (cx, cy): (f64, f64), r: f64, c: Rgb) {
        let n = 24;
        let pts: Vec<(f64, f64)> = (0..n)
            .map(|k| {
                let a = k as f64 * std::f64::consts::TAU / n as f64;
                (cx + r * a.cos(), cy + r * a.sin())
            })
            .collect();
        self.polygon(&pts, c);
    }

    /// A line of `width` gymnasium pixels through `pts`.
    pub(crate) fn polyline(&mut self, pts: &[(f64, f64)], width: f64, c: Rgb) {
        for seg in pts.windows(2) {
            let ((x0, y0), (x1, y1)) = (seg[0], seg[1]);
            let len = ((x1 - x0).powi(2) + (y1 - y0).powi(2)).sqrt().max(1e-12);
            let (nx, ny) = (
                -(y1 - y0) / len * width / 2.0,
                (x1 - x0) / len * width / 2.0,
            );
            self.polygon(
                &[
                    (x0 + nx, y0 + ny),
                    (x1 + nx, y1 + ny),
                    (x1 - nx, y1 - ny),
                    (x0 - nx, y0 - ny),
                ],
                c,
            );
        }
    }

    /// The finished frame.
    pub(crate) fn frame(self) -> Frame {
        Frame {
            width: self.w as u32,
            height: self.h as u32,
            rgb: self.rgb,
        }
    }
}

/// Rotates `(x, y)` by `angle` (counter-clockwise, radians) and translates it by `to`.
fn place(pts: &[(f64, f64)], angle: f64, to: (f64, f64)) -> Vec<(f64, f64)> {
    let (s, c) = angle.sin_cos();
    pts.iter()
        .map(|&(x, y)| (x * c - y * s + to.0, x * s + y * c + to.1))
        .collect()
}

/// The rectangle `left..right x bottom..top` as a polygon.
fn rect(l: f64, r: f64, t: f64, b: f64) -> [(f64, f64); 4] {
    [(l, b), (l, t), (r, t), (r, b)]
}

/// CartPole at cart position `x` and pole angle `theta` (gymnasium: 600×400).
pub(crate) fn cartpole(x: f64, theta: f64, x_threshold: f64, half_length: f64) -> Frame {
    let (w, h) = (600.0, 400.0);
    let mut cv = Canvas::new(w, h);
    let scale = w / (2.0 * x_threshold);
    let (pole_w, pole_len) = (10.0, scale * 2.0 * half_length);
    let (cart_w, cart_h) = (50.0, 30.0);
    let cart_x = x * scale + w / 2.0;
    let cart_y = 100.0;
    let axle = cart_h / 4.0;
    cv.polyline(&[(0.0, cart_y), (w, cart_y)], 1.0 / SCALE, BLACK);
    let cart = rect(-cart_w / 2.0, cart_w / 2.0, cart_h / 2.0, -cart_h / 2.0);
    cv.polygon(&place(&cart, 0.0, (cart_x, cart_y)), BLACK);
    let pole = rect(
        -pole_w / 2.0,
        pole_w / 2.0,
        pole_len - pole_w / 2.0,
        -pole_w / 2.0,
    );
    cv.polygon(
        &place(&pole, -theta, (cart_x, cart_y + axle)),
        [202, 152, 101],
    );
    cv.circle((cart_x, cart_y + axle), pole_w / 2.0, [129, 132, 203]);
    cv.frame()
}

/// Pendulum at angle `theta` (0 = upright; gymnasium: 500×500).
pub(crate) fn pendulum(theta: f64) -> Frame {
    let size = 500.0;
    let mut cv = Canvas::new(size, size);
    let scale = size / (2.0 * 2.2);
    let o = (size / 2.0, size / 2.0);
    let (len, width) = (scale, 0.2 * scale);
    let rod = rect(0.0, len, width / 2.0, -width / 2.0);
    let red = [204, 77, 77];
    cv.polygon(&place(&rod, theta + FRAC_PI_2, o), red);
    cv.circle(o, width / 2.0, red);
    let tip = place(&[(len, 0.0)], theta + FRAC_PI_2, o)[0];
    cv.circle(tip, width / 2.0, red);
    cv.circle(o, 0.05 * scale, BLACK);
    cv.frame()
}

/// Mountain car at `position` with the flag at `goal` (gymnasium: 600×400).
pub(crate) fn mountain_car(position: f64, goal: f64, min: f64, max: f64) -> Frame {
    let (w, h) = (600.0, 400.0);
    let mut cv = Canvas::new(w, h);
    let scale = w / (max - min);
    let height = |x: f64| (3.0 * x).sin() * 0.45 + 0.55;
    let curve: Vec<(f64, f64)> = (0..100)
        .map(|k| {
            let x = min + (max - min) * k as f64 / 99.0;
            ((x - min) * scale, height(x) * scale)
        })
        .collect();
    cv.polyline(&curve, 1.5 / SCALE, BLACK);
    let (car_w, car_h, clearance) = (40.0, 20.0, 10.0);
    let at = (
        (position - min) * scale,
        clearance + height(position) * scale,
    );
    let angle = (3.0 * position).cos();
    let body = rect(-car_w / 2.0, car_w / 2.0, car_h, 0.0);
    cv.polygon(&place(&body, angle, at), BLACK);
    for dx in [car_w / 4.0, -car_w / 4.0] {
        let c = place(&[(dx, 0.0)], angle, at)[0];
        cv.circle(c, car_h / 2.5, [128, 128, 128]);
    }
    let flag_x = (goal - min) * scale;
    let flag_y1 = height(goal) * scale;
    let flag_y2 = flag_y1 + 50.0;
    cv.polyline(&[(flag_x, flag_y1), (flag_x, flag_y2)], 1.0 / SCALE, BLACK);
    cv.polygon(
        &[
            (flag_x, flag_y2),
            (flag_x, flag_y2 - 10.0),
            (flag_x + 25.0, flag_y2 - 5.0),
        ],
        [204, 204, 0],
    );
    cv.frame()
}

/// Acrobot with joint angles `theta1`, `theta2` (0, 0 = hanging down; gymnasium: 500×500).
pub(crate) fn acrobot(theta1: f64, theta2: f64, l1: f64, l2: f64) -> Frame {
    let size = 500.0;
    let mut cv = Canvas::new(size, size);
    let bound = l1 + l2 + 0.2;
    let scale = size / (2.0 * bound);
    let o = size / 2.0;
    cv.polyline(
        &[(-2.2 * scale + o, scale + o), (2.2 * scale + o, scale + o)],
        1.0 / SCALE,
        BLACK,
    );
    let p1 = (l1 * theta1.sin(), -l1 * theta1.cos());
    let links = [
        ((0.0, 0.0), theta1 - FRAC_PI_2, l1),
        (p1, theta1 + theta2 - FRAC_PI_2, l2),
    ];
    for ((x, y), th, len) in links {
        let at = (x * scale + o, y * scale + o);
        let link = rect(0.0, len * scale, 0.1 * scale, -0.1 * scale);
        cv.polygon(&place(&link, th, at), [0, 204, 204]);
        cv.circle(at, 0.1 * scale, [204, 204, 0]);
    }
    cv.frame()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(f: &Frame, c: Rgb) -> usize {
        f.rgb.chunks_exact(3).filter(|p| *p == c).count()
    }

    /// Column range of the pixels of colour `c`.
    fn columns(f: &Frame, c: Rgb) -> (usize, usize) {
        let xs = f
            .rgb
            .chunks_exact(3)
            .enumerate()
            .filter(|(_, p)| *p == c)
            .map(|(i, _)| i % f.width as usize);
        xs.fold((usize::MAX, 0), |(lo, hi), x| (lo.min(x), hi.max(x)))
    }

    #[test]
    fn rectangles_cover_their_area() {
        let mut cv = Canvas::new(100.0 / SCALE, 50.0 / SCALE);
        let r = rect(10.0, 30.0, 20.0, 10.0).map(|(x, y)| (x / SCALE, y / SCALE));
        cv.polygon(&r, BLACK);
        let f = cv.frame();
        assert_eq!((f.width, f.height), (100, 50));
        assert_eq!(count(&f, BLACK), 20 * 10);
        // y is measured from the bottom: rows 30..40 from the top
        let rows: Vec<usize> = f
            .rgb
            .chunks_exact(3)
            .enumerate()
            .filter(|(_, p)| *p == BLACK)
            .map(|(i, _)| i / 100)
            .collect();
        assert_eq!((rows[0], rows[rows.len() - 1]), (30, 39));
    }

    #[test]
    fn the_cart_moves_with_x_and_the_pole_tilts_with_theta() {
        let pole = [202, 152, 101];
        let centre = cartpole(0.0, 0.0, 2.4, 0.5);
        let right = cartpole(1.2, 0.0, 2.4, 0.5);
        let (c0, c1) = columns(&centre, pole);
        let (r0, _) = columns(&right, pole);
        assert_eq!(r0 - c0, 60, "1.2 m is a quarter of the 240 px track");
        assert!(c1 - c0 <= 5, "upright pole is 4 px wide");
        let tilted = cartpole(0.0, 0.2, 2.4, 0.5);
        let (_, t1) = columns(&tilted, pole);
        assert!(t1 > c1 + 5, "a positive angle leans the pole right");
    }

    #[test]
    fn every_env_picture_has_its_parts() {
        let p = pendulum(0.0);
        assert_eq!((p.width, p.height), (200, 200));
        assert!(count(&p, [204, 77, 77]) > 300);
        let m = mountain_car(-0.5, 0.5, -1.2, 0.6);
        assert!(count(&m, [204, 204, 0]) > 10, "flag");
        assert!(count(&m, [128, 128, 128]) > 10, "wheels");
        let a = acrobot(0.3, 0.4, 1.0, 1.0);
        assert!(count(&a, [0, 204, 204]) > 300);
    }
}
