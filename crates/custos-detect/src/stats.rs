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
    let Some((x, mu)) = excess(x, mu, phi) else { return 0.0 };
    // P(Poisson(mu) >= k) = P(k, mu) (regularized lower gamma) for integer k; smooth in k.
    let lp = ln_gamma_p(x, mu);
    (-lp / std::f64::consts::LN_10).clamp(0.0, 300.0)
}

/// `x` and `mu` on the quasi-Poisson scale `phi` (>= 1), when `x` is above `mu` (otherwise
/// nothing is surprising).
fn excess(x: f64, mu: f64, phi: f64) -> Option<(f64, f64)> {
    let phi = phi.max(1.0);
    let (x, mu) = (x / phi, mu.max(1e-9) / phi);
    (x > mu && x > 0.0).then_some((x, mu))
}

/// An upper bound of [`surprise`] at the cost of a logarithm and a log-gamma, for screens:
/// the tail `P(X >= x)` is at least `P(X >= k)` for `k = ⌈x⌉` (the tail falls as `x` grows),
/// which is at least the point probability `e^-mu mu^k / k!`.
pub fn surprise_bound(x: f64, mu: f64, phi: f64) -> f64 {
    let Some((x, mu)) = excess(x, mu, phi) else { return 0.0 };
    let k = x.ceil();
    ((mu - k * mu.ln() + ln_factorial(k)) / std::f64::consts::LN_10).max(0.0)
}

/// `ln k!` for a whole `k >= 0`: from a table for the small counts screens meet nearly always.
fn ln_factorial(k: f64) -> f64 {
    static TABLE: std::sync::LazyLock<[f64; 64]> = std::sync::LazyLock::new(|| {
        let mut t = [0.0; 64];
        for i in 1..64 {
            t[i] = t[i - 1] + (i as f64).ln();
        }
        t
    });
    if k < 64.0 {
        TABLE[k as usize]
    } else {
        ln_gamma(k + 1.0)
    }
}

/// Surprise of several tests taken together: `-log10` of the truncated-product p-value
/// (Zaykin, Zhivotovsky, Westfall & Weir 2002). `surprises` holds `-log10 p` of each of `L`
/// independent tests (those not given count as `p = 1`); the statistic is the product of the
/// p-values at or below `tau`, and its tail is exact under the null, so picking out the
/// tests that look surprising is paid for. Fisher's method is the case `tau = 1`.
pub fn truncated_product(surprises: &[f64], tests: usize, tau: f64) -> f64 {
    let l = tests.max(surprises.len());
    let cut = -tau.log10();
    let ln_w: f64 = -surprises.iter().filter(|&&s| s >= cut).sum::<f64>() * std::f64::consts::LN_10;
    if ln_w >= 0.0 || l == 0 {
        return 0.0;
    }
    let ln_tau = tau.ln();
    let mut p = 0.0f64;
    let mut binom = 1.0f64; // C(l, k), updated as k grows
    for k in 1..=l {
        binom *= (l + 1 - k) as f64 / k as f64;
        let kf = k as f64;
        let rest = (1.0 - tau).powi((l - k) as i32);
        let term = if ln_w <= kf * ln_tau {
            // w · Σ_{s<k} (k ln τ − ln w)^s / s!, summed in logs to stay finite.
            let y = kf * ln_tau - ln_w;
            let (mut acc, mut t) = (1.0f64, 1.0f64);
            for s in 1..k {
                t *= y / s as f64;
                acc += t;
            }
            (ln_w + acc.ln()).exp()
        } else {
            tau.powi(k as i32)
        };
        p += binom * rest * term;
    }
    (-p.clamp(1e-300, 1.0).log10()).max(0.0)
}

/// Mean of the values after dropping the top `trim` fraction (robust to a few outliers). The
/// values kept are left first in the slice, in no particular order.
pub fn upper_trimmed_mean(values: &mut [f64], trim: f64) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    let keep = (((values.len() as f64) * (1.0 - trim)).ceil().max(1.0) as usize).min(values.len());
    // A selection, not a sort: the smallest `keep` first, in linear time.
    if keep < values.len() {
        values.select_nth_unstable_by(keep - 1, f64::total_cmp);
    }
    let kept = &values[..keep];
    kept.iter().sum::<f64>() / kept.len() as f64
}

/// Median (of a scratch slice, reordered).
pub fn median(values: &mut [f64]) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_unstable_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

/// How often an item comes back, as a beta-geometric law: each item comes back once more with
/// a chance `p` of its own, and `p` varies between items as `Beta(a, b)` (a few people are an
/// officer's daily work, most a one-off). `P(K >= k) = Π_{i < k-1} (a + i) / (a + b + i)`: the
/// tail falls as a power of the count (`k^-b`), not geometrically, so that a few items coming
/// back often are what the law expects when the data show a mix of habits.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BetaGeometric {
    /// The beta's first shape (`p`'s weight towards coming back).
    pub a: f64,
    /// The beta's second shape (the tail's power).
    pub b: f64,
}

impl BetaGeometric {
    /// Fewest items that came back at least once more before a fit is made: with fewer, the
    /// tail is not known.
    pub const MIN_RETURNED: u64 = 20;
    /// Items beyond the last count that at least this many reached are held as censored.
    pub const TAIL_HELD: u64 = 10;

    /// `log10 P(K >= k)`, for a count `k >= 1`.
    pub fn log10_tail(&self, k: u32) -> f64 {
        (0..k.saturating_sub(1))
            .map(|i| {
                let i = f64::from(i);
                ((self.a + i) / (self.a + self.b + i)).log10()
            })
            .sum()
    }

    /// The log-likelihood of counts `hist[k]` (items seen exactly `k` times, `hist[0]` unused;
    /// the last bin holds those seen at least that often).
    fn log_likelihood(a: f64, b: f64, hist: &[u64], censored: bool) -> f64 {
        let last = if censored { hist.len() - 1 } else { usize::MAX };
        let (mut ln_tail, mut ll) = (0.0, 0.0);
        for (k, &n) in hist.iter().enumerate().skip(1) {
            let shift = k as f64 - 1.0;
            if n > 0 {
                let ln_p = if k == last { ln_tail } else { ln_tail + b.ln() - (a + b + shift).ln() };
                ll += n as f64 * ln_p;
            }
            ln_tail += (a + shift).ln() - (a + b + shift).ln();
        }
        ll
    }

    /// The maximum-likelihood law for counts `hist[k]` of items seen exactly `k` times
    /// (`hist[0]` unused; the last bin holds those seen at least that often): a coarse grid
    /// over `ln a` and `ln b`, refined twice around its best point. `None` while fewer than
    /// [`Self::MIN_RETURNED`] items came back.
    pub fn fit(hist: &[u64]) -> Option<Self> {
        let top = hist.iter().rposition(|&n| n > 0)?;
        let mut censored = top + 1 == hist.len();
        let mut hist = hist.get(..=top)?.to_vec();
        if hist.iter().skip(2).sum::<u64>() < Self::MIN_RETURNED {
            return None;
        }
        // The sparse far tail is held only as "at least this often": a few items far out (the
        // very ones a caller asks about) would otherwise bend the law towards themselves.
        // The last count at least `TAIL_HELD` items reached (two, at worst: `MIN_RETURNED`
        // reached it).
        let mut reach = 0;
        let held = (2..hist.len())
            .rev()
            .find(|&k| {
                reach += hist[k];
                reach >= Self::TAIL_HELD
            })
            .unwrap_or(2);
        if held + 1 < hist.len() {
            let rest: u64 = hist[held + 1..].iter().sum();
            hist.truncate(held + 2);
            hist[held + 1] = rest;
            censored = true;
        }
        let hist = &hist[..];
        let (mut best, mut at) = (f64::NEG_INFINITY, (0.0, 0.0));
        let mut centre = (0.0, 2.0);
        for (span, step) in [(6.0, 0.5), (0.5, 0.1), (0.1, 0.02)] {
            let n = (span / step) as i32;
            for i in -n..=n {
                for j in -n..=n {
                    let (la, lb) = (centre.0 + f64::from(i) * step, centre.1 + f64::from(j) * step);
                    let ll = Self::log_likelihood(la.exp(), lb.exp(), hist, censored);
                    if ll > best {
                        (best, at) = (ll, (la, lb));
                    }
                }
            }
            centre = at;
        }
        Some(Self { a: at.0.exp(), b: at.1.exp() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn a_beta_geometric_fit_is_a_law_whatever_the_counts(
            hist in proptest::collection::vec(0u64..1_000_000, 0..64),
        ) {
            if let Some(law) = BetaGeometric::fit(&hist) {
                prop_assert!(law.a.is_finite() && law.a > 0.0 && law.b.is_finite() && law.b > 0.0, "{law:?}");
                let mut last = 0.0;
                for k in 1..80 {
                    let t = law.log10_tail(k);
                    prop_assert!(t <= last + 1e-12 && t.is_finite(), "{law:?}: log10 P(K >= {k}) = {t} after {last}");
                    last = t;
                }
            }
        }

        #[test]
        fn the_screens_bound_is_never_below_the_surprise(
            x in 0.0f64..200.0, mu in 0.0f64..100.0, phi in 0.5f64..20.0,
        ) {
            let (s, b) = (surprise(x, mu, phi), surprise_bound(x, mu, phi));
            prop_assert!(b + 1e-9 >= s, "surprise {s} above its bound {b} at x {x}, mu {mu}, phi {phi}");
        }
    }

    /// Expected counts of `n` items under a law, to `top` (the last bin the rest).
    fn expected_counts(law: BetaGeometric, n: f64, top: usize) -> Vec<u64> {
        let tail = |k: usize| 10f64.powf(law.log10_tail(k as u32));
        let mut hist: Vec<u64> = (0..=top)
            .map(|k| if k == 0 { 0 } else { (n * (tail(k) - tail(k + 1))).round() as u64 })
            .collect();
        hist[top] = (n * tail(top)).round() as u64;
        hist
    }

    #[test]
    fn a_beta_geometric_fit_finds_the_law_its_counts_came_from() {
        for law in [
            BetaGeometric { a: 0.3, b: 4.0 },
            BetaGeometric { a: 2.0, b: 1.5 },
            BetaGeometric { a: 0.05, b: 0.8 },
        ] {
            let hist = expected_counts(law, 1e6, 63);
            let fit = BetaGeometric::fit(&hist).unwrap();
            for k in [2, 5, 20] {
                let (want, got) = (law.log10_tail(k), fit.log10_tail(k));
                assert!(
                    (want - got).abs() < 0.05 * (1.0 - want),
                    "{law:?} fitted as {fit:?}: log10 P(K >= {k}) {got} vs {want}"
                );
            }
        }
    }

    #[test]
    fn a_mix_of_habits_gives_a_heavier_tail_than_one_habit() {
        // The same share comes back once; in the second, a few items keep coming back.
        let one = [0, 10_000, 500, 25, 1];
        let mixed = [0, 10_000, 500, 60, 30, 20, 15, 10, 8];
        let (one, mixed) = (BetaGeometric::fit(&one).unwrap(), BetaGeometric::fit(&mixed).unwrap());
        assert!(one.log10_tail(12) < -8.0, "{one:?}: {}", one.log10_tail(12));
        assert!(mixed.log10_tail(12) > one.log10_tail(12) + 4.0, "{mixed:?} vs {one:?}");
        assert!(mixed.log10_tail(12) < -2.0, "{mixed:?}: {}", mixed.log10_tail(12));
    }

    #[test]
    fn one_item_far_out_does_not_bend_the_law_towards_itself() {
        // One in ten comes back once more, again and again; then one item came back 30 times.
        let mut hist = vec![0, 90_000, 9_000, 900, 90, 9, 1];
        let without = BetaGeometric::fit(&hist).unwrap();
        hist.resize(31, 0);
        hist[30] = 1;
        let with = BetaGeometric::fit(&hist).unwrap();
        let (a, b) = (without.log10_tail(30), with.log10_tail(30));
        assert!(b < -20.0 && (a - b).abs() < 2.0, "{without:?} {a} vs {with:?} {b}");
    }

    #[test]
    fn no_beta_geometric_fit_without_enough_returns() {
        assert_eq!(BetaGeometric::fit(&[0, 5_000, 10, 3]), None);
        assert_eq!(BetaGeometric::fit(&[]), None);
        assert_eq!(BetaGeometric::fit(&[0, 0, 0]), None);
        assert!(BetaGeometric::fit(&[0, 5_000, 15, 5]).is_some());
    }

    #[test]
    fn log_factorials_from_the_table_match_log_gamma() {
        for k in 0..80 {
            let k = f64::from(k);
            assert!((ln_factorial(k) - ln_gamma(k + 1.0)).abs() < 1e-9 * (1.0 + k * k), "ln {k}!");
        }
    }

    #[test]
    fn the_screens_bound_is_close_for_rare_counts() {
        // Three events where 0.01 are expected: the tail is nearly all point mass.
        let (s, b) = (surprise(3.0, 0.01, 1.0), surprise_bound(3.0, 0.01, 1.0));
        assert!(s > 6.7 && b - s < 0.01, "surprise {s}, bound {b}");
    }

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
    fn truncated_product_is_fisher_at_tau_one_and_one_test_is_itself() {
        // One test: its own p-value.
        assert!((truncated_product(&[4.0], 1, 0.05) - 4.0).abs() < 1e-9);
        // Fisher, two tests of p = 0.01: P = w (1 - ln w) with w = 1e-4.
        let w: f64 = 1e-4;
        let want = -(w * (1.0 - w.ln())).log10();
        assert!((truncated_product(&[2.0, 2.0], 2, 1.0) - want).abs() < 1e-9);
        // Nothing at or below tau: no evidence.
        assert_eq!(truncated_product(&[1.0, 0.5], 5, 0.05), 0.0);
        // Looking at more tests costs; the sum of surprises is never reached.
        let two = truncated_product(&[4.0, 3.0], 2, 0.05);
        let five = truncated_product(&[4.0, 3.0], 5, 0.05);
        assert!(five < two && two < 7.0, "{two} {five}");
    }

    #[test]
    fn truncated_product_is_calibrated_under_the_null() {
        // Five independent uniform p-values, many times: the combined p-value must fall at or
        // below a level about that share of the time.
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut uniform = || {
            x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = x;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            ((z >> 11) as f64 + 0.5) / (1u64 << 53) as f64
        };
        let n = 200_000;
        let (mut at_2, mut at_3) = (0usize, 0usize);
        for _ in 0..n {
            let s: Vec<f64> = (0..5).map(|_| -uniform().log10()).collect();
            let c = truncated_product(&s, 5, 0.05);
            at_2 += usize::from(c >= 2.0);
            at_3 += usize::from(c >= 3.0);
        }
        let (r2, r3) = (at_2 as f64 / n as f64, at_3 as f64 / n as f64);
        assert!((0.008..0.012).contains(&r2), "P(p <= 1e-2) = {r2}");
        assert!((0.0006..0.0014).contains(&r3), "P(p <= 1e-3) = {r3}");
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
