//! Count statistics: Poisson upper-tail surprise through the regularized incomplete gamma
//! function, with a quasi-Poisson dispersion factor for over-dispersed counts.
//!
//! `surprise(x, mu, phi)` is `-log10 P(X >= x)` for `X ~ Poisson(mu)`, computed on the scale
//! `x/phi, mu/phi` (quasi-Poisson): a dispersion `phi > 1` widens the null distribution the
//! way real per-officer counts are wider than Poisson. Values are comparable across features
//! and officers: 6 means "one in a million under the null".

/// Natural log of the gamma function (Lanczos, g = 7, n = 9), for `x > 0`.
pub fn ln_gamma(x: f64) -> f64 {
    const G: f64 = 7.0;
    const C: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Reflection.
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut a = C[0];
    let t = x + G + 0.5;
    for (i, c) in C.iter().enumerate().skip(1) {
        a += c / (x + i as f64);
    }
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

/// `ln P(a, x)`: log of the regularized lower incomplete gamma function.
pub fn ln_gamma_p(a: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return f64::NEG_INFINITY;
    }
    if a <= 0.0 {
        return 0.0;
    }
    let gln = ln_gamma(a);
    if x < a + 1.0 {
        // Series: P = e^{-x} x^a / Γ(a+1) · Σ x^n / ((a+1)…(a+n)).
        let mut ap = a;
        let mut sum = 1.0 / a;
        let mut del = sum;
        for _ in 0..1000 {
            ap += 1.0;
            del *= x / ap;
            sum += del;
            if del.abs() < sum.abs() * 1e-15 {
                break;
            }
        }
        sum.ln() - x + a * x.ln() - gln
    } else {
        // Continued fraction for Q; P = 1 - Q.
        let tiny = 1e-300;
        let mut b = x + 1.0 - a;
        let mut c = 1.0 / tiny;
        let mut d = 1.0 / b;
        let mut h = d;
        for i in 1..1000 {
            let an = -(i as f64) * (i as f64 - a);
            b += 2.0;
            d = an * d + b;
            if d.abs() < tiny {
                d = tiny;
            }
            c = b + an / c;
            if c.abs() < tiny {
                c = tiny;
            }
            d = 1.0 / d;
            let del = d * c;
            h *= del;
            if (del - 1.0).abs() < 1e-15 {
                break;
            }
        }
        let q = (-x + a * x.ln() - gln).exp() * h;
        (1.0 - q).max(1e-300).ln()
    }
}

/// `-log10 P(X >= x)` for `X ~ Poisson(mu)` on the quasi-Poisson scale `phi` (>= 1).
/// Zero when `x` is not above what `mu` predicts.
pub fn surprise(x: f64, mu: f64, phi: f64) -> f64 {
    let phi = phi.max(1.0);
    let (x, mu) = (x / phi, mu.max(1e-9) / phi);
    if x <= mu || x <= 0.0 {
        return 0.0;
    }
    // P(Poisson(mu) >= k) = P(k, mu) (regularized lower gamma) for integer k; smooth in k.
    let lp = ln_gamma_p(x, mu);
    (-lp / std::f64::consts::LN_10).clamp(0.0, 300.0)
}

/// Mean of the values after dropping the top `trim` fraction (robust to a few outliers).
pub fn upper_trimmed_mean(values: &mut [f64], trim: f64) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(|a, b| a.total_cmp(b));
    let keep = ((values.len() as f64) * (1.0 - trim)).ceil().max(1.0) as usize;
    let kept = &values[..keep.min(values.len())];
    kept.iter().sum::<f64>() / kept.len() as f64
}

/// Median (of a scratch slice, reordered).
pub fn median(values: &mut [f64]) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(|a, b| a.total_cmp(b));
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn poisson_tail_exact(k: u64, mu: f64) -> f64 {
        // 1 - Σ_{i<k} e^{-mu} mu^i / i!
        let mut term = (-mu).exp();
        let mut cdf = 0.0;
        for i in 0..k {
            cdf += term;
            term *= mu / (i + 1) as f64;
        }
        1.0 - cdf
    }

    #[test]
    fn gamma_matches_factorials() {
        for n in 1..20u64 {
            let f: f64 = (1..n).map(|i| i as f64).product();
            assert!((ln_gamma(n as f64) - f.ln()).abs() < 1e-9, "{n}");
        }
    }

    #[test]
    fn surprise_matches_exact_poisson_tails() {
        for (k, mu) in [(3u64, 0.5), (10, 2.0), (5, 4.0), (30, 10.0), (2, 0.1)] {
            let want = -poisson_tail_exact(k, mu).log10();
            let got = surprise(k as f64, mu, 1.0);
            assert!((got - want).abs() < 1e-6, "k={k} mu={mu}: {got} vs {want}");
        }
        assert_eq!(surprise(1.0, 5.0, 1.0), 0.0);
        // Tiny probabilities stay finite and ordered.
        assert!(surprise(200.0, 1.0, 1.0) > surprise(100.0, 1.0, 1.0));
        assert!(surprise(200.0, 1.0, 1.0) < 300.1);
        // Dispersion makes the same excess less surprising.
        assert!(surprise(20.0, 5.0, 3.0) < surprise(20.0, 5.0, 1.0));
    }

    #[test]
    fn robust_summaries() {
        let mut v = vec![1.0, 2.0, 3.0, 4.0, 100.0];
        assert_eq!(median(&mut v.clone()), 3.0);
        assert!((upper_trimmed_mean(&mut v, 0.2) - 2.5).abs() < 1e-12);
    }
}
