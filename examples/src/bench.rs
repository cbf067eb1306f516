//! What the benchmarks (`cmapbench`, `cpgbench`) share: the CPU clock they read and the
//! statistics they print.
//!
//! Both compare the safe API with raw C calls by alternating batches of each on one thread,
//! taking turns at going first. The difference they report is the median, over cycles of
//! turns, of the safe − raw CPU per operation of batches run back to back: a batch that the
//! host slowed down (another guest on the CPU, an interrupt storm) moves that one
//! difference, not a total, and going first or second weighs the same on both sides.

use std::time::Duration;

/// User + system CPU time of the calling thread so far (`CLOCK_THREAD_CPUTIME_ID`, counted
/// in nanoseconds by the scheduler; `getrusage`'s figures are samples of timer ticks, too
/// coarse for a difference of a few nanoseconds per operation). Both sides of a comparison
/// make the same system calls, so their difference is the user-space work of the layer.
pub fn thread_cpu() -> Duration {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is writable for the call; the clock exists on every Linux.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) };
    Duration::new(now.tv_sec as u64, now.tv_nsec as u32)
}

/// The median of `values` (the upper one of an even count); NaN for none.
///
/// ```
/// use corosync_examples::bench::median;
/// assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
/// assert!(median(Vec::new()).is_nan());
/// ```
pub fn median(mut values: Vec<f64>) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// Paired per-batch figures of the two sides of a comparison, in the same unit (say µs of
/// CPU per operation): `safe[i]` and `raw[i]` come from batches run back to back.
///
/// The benchmarks take turns at which side runs first, in a cycle of `turns` batches, since
/// the first batch after other work (a pause, the writer's requests) runs on colder caches
/// and branch predictors: for cmap track events that was worth +0.6 µs per event to the side
/// going first, both ways. A difference is therefore taken over a whole cycle, where each
/// side held each place once and the bias cancels.
#[derive(Debug, Clone)]
pub struct Paired {
    turns: usize,
    safe: Vec<f64>,
    raw: Vec<f64>,
}

impl Paired {
    /// Pairs from batches that change which side goes first in a cycle of `turns` (2 for
    /// two sides alternating, 3 for three in rotation; 1 if the order never changes).
    ///
    /// # Panics
    /// If `turns` is 0.
    pub fn in_turns(turns: usize) -> Self {
        assert!(turns > 0, "a cycle of turns has at least one batch");
        Paired {
            turns,
            safe: Vec::new(),
            raw: Vec::new(),
        }
    }

    /// Records one pair of batches.
    pub fn push(&mut self, safe: f64, raw: f64) {
        self.safe.push(safe);
        self.raw.push(raw);
    }

    /// The median of the safe side's batches.
    pub fn safe(&self) -> f64 {
        median(self.safe.clone())
    }

    /// The median of the raw side's batches.
    pub fn raw(&self) -> f64 {
        median(self.raw.clone())
    }

    /// The median, over whole cycles of turns, of each cycle's mean difference safe − raw
    /// (pairs after the last whole cycle are left out; NaN for less than one cycle).
    ///
    /// ```
    /// use corosync_examples::bench::Paired;
    /// let mut p = Paired::in_turns(2);
    /// // The side going first pays 0.5, and one cycle was slowed by the host: neither moves
    /// // the difference (0.03).
    /// let pairs = [(1.53, 1.0), (1.03, 1.5), (1.53, 1.0), (1.03, 1.5), (9.0, 1.0), (1.03, 1.5)];
    /// for (safe, raw) in pairs {
    ///     p.push(safe, raw);
    /// }
    /// assert!((p.difference() - 0.03).abs() < 1e-9);
    /// ```
    pub fn difference(&self) -> f64 {
        median(self.cycle_differences())
    }

    /// [`difference`](Self::difference) and the half-width of its approximate 95 %
    /// confidence interval ([`median_interval`] over the cycles' mean differences).
    ///
    /// ```
    /// use corosync_examples::bench::Paired;
    /// let mut p = Paired::in_turns(1);
    /// for d in [0.1, 0.3, 0.2, 0.4, 0.2] {
    ///     p.push(1.0 + d, 1.0);
    /// }
    /// let (difference, half_width) = p.difference_interval();
    /// assert!((difference - 0.2).abs() < 1e-9);
    /// assert!(half_width > 0.0 && half_width < 0.2);
    /// ```
    pub fn difference_interval(&self) -> (f64, f64) {
        median_interval(self.cycle_differences())
    }

    /// [`difference_interval`](Self::difference_interval) as text, `+difference ± half-width`,
    /// with `decimals` decimals.
    ///
    /// ```
    /// use corosync_examples::bench::Paired;
    /// let mut p = Paired::in_turns(1);
    /// for d in [0.1, 0.3, 0.2, 0.4, 0.2] {
    ///     p.push(1.0 + d, 1.0);
    /// }
    /// assert_eq!(p.difference_text(1), "+0.2 ± 0.1");
    /// ```
    pub fn difference_text(&self, decimals: usize) -> String {
        let (difference, half_width) = self.difference_interval();
        format!("{difference:+.decimals$} ± {half_width:.decimals$}")
    }

    /// The mean difference safe − raw of each whole cycle of turns.
    fn cycle_differences(&self) -> Vec<f64> {
        let differences: Vec<f64> = self
            .safe
            .iter()
            .zip(&self.raw)
            .map(|(s, r)| s - r)
            .collect();
        differences
            .chunks_exact(self.turns)
            .map(|cycle| cycle.iter().sum::<f64>() / self.turns as f64)
            .collect()
    }
}

/// The median of `values` and the half-width of an approximate 95 % confidence interval for
/// it, 1.58 × the interquartile range / √n (the notches of a box plot: McGill, Tukey and
/// Larsen, "Variations of Box Plots", 1978), which needs no assumption about the shape of the
/// distribution beyond a roughly symmetric middle. NaN for no values.
///
/// ```
/// use corosync_examples::bench::median_interval;
/// let (median, half_width) = median_interval((1..=100).map(f64::from).collect());
/// assert_eq!(median, 51.0);
/// // Quartiles 26 and 75: 1.58 × 49 / 10.
/// assert!((half_width - 7.742).abs() < 1e-9);
/// ```
pub fn median_interval(mut values: Vec<f64>) -> (f64, f64) {
    if values.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    values.sort_by(f64::total_cmp);
    let iqr = percentile(&values, 0.75) - percentile(&values, 0.25);
    (
        values[values.len() / 2],
        1.58 * iqr / (values.len() as f64).sqrt(),
    )
}

/// The value at fraction `p` (0 to 1) of `sorted`, which is sorted ascending: the nearest
/// rank, `sorted[round((len − 1) × p)]`.
///
/// # Panics
/// If `sorted` is empty.
///
/// ```
/// use corosync_examples::bench::percentile;
/// let sorted = [1.0, 2.0, 3.0, 4.0, 5.0];
/// assert_eq!(percentile(&sorted, 0.5), 3.0);
/// assert_eq!(percentile(&sorted, 0.9), 5.0);
/// assert_eq!(percentile(&sorted, 0.0), 1.0);
/// ```
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}
