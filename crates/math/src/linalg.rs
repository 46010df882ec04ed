//! Dense linear algebra for small exact computations.

use thiserror::Error;

/// The matrix is singular to working precision.
#[derive(Debug, Error, PartialEq)]
#[error("matrix is singular (pivot {pivot} in column {column})")]
pub struct Singular {
    /// Column where elimination failed.
    pub column: usize,
    /// The tiny pivot.
    pub pivot: f64,
}

/// Solves `A x = b` in place by LU with partial pivoting. `a` is `n × n` row-major and is
/// overwritten; `b` becomes `x`.
pub fn solve_in_place(a: &mut [f64], n: usize, b: &mut [f64]) -> Result<(), Singular> {
    assert_eq!(a.len(), n * n, "matrix size");
    assert_eq!(b.len(), n, "right-hand side size");
    for col in 0..n {
        let (mut piv, mut best) = (col, a[col * n + col].abs());
        for r in col + 1..n {
            let v = a[r * n + col].abs();
            if v > best {
                best = v;
                piv = r;
            }
        }
        if best < 1e-300 {
            return Err(Singular {
                column: col,
                pivot: best,
            });
        }
        if piv != col {
            for j in 0..n {
                a.swap(col * n + j, piv * n + j);
            }
            b.swap(col, piv);
        }
        let d = a[col * n + col];
        for r in col + 1..n {
            let f = a[r * n + col] / d;
            if f != 0.0 {
                a[r * n + col] = 0.0;
                for j in col + 1..n {
                    a[r * n + j] -= f * a[col * n + j];
                }
                b[r] -= f * b[col];
            }
        }
    }
    for col in (0..n).rev() {
        let mut s = b[col];
        for j in col + 1..n {
            s -= a[col * n + j] * b[j];
        }
        b[col] = s / a[col * n + col];
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn solves_with_pivoting() {
        let mut a = vec![0.0, 2.0, 1.0, 1.0, 1.0, 0.0, 2.0, 0.0, 3.0];
        let x = [1.0, -2.0, 0.5];
        let mut b: Vec<f64> = (0..3)
            .map(|r| (0..3).map(|c| a[r * 3 + c] * x[c]).sum())
            .collect();
        solve_in_place(&mut a, 3, &mut b).unwrap();
        for (u, v) in b.iter().zip(x) {
            assert!((u - v).abs() < 1e-14);
        }
        let mut s = vec![1.0, 2.0, 2.0, 4.0];
        assert!(solve_in_place(&mut s, 2, &mut [1.0, 1.0]).is_err());
    }
}
