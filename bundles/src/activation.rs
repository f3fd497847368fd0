//! Checks that bundles can be active together: no two may own overlapping roots.

use crate::{Bundle, Error, roots};

/// Refuses a set of bundles whose roots overlap, naming the first pair found.
///
/// # Errors
/// [`Error::OverlappingBundles`].
pub fn check_overlap(bundles: &[&Bundle]) -> Result<(), Error> {
    for (i, first) in bundles.iter().enumerate() {
        for second in &bundles[i + 1..] {
            for a in first.manifest.effective_roots() {
                for b in second.manifest.effective_roots() {
                    if roots::overlap(&a, &b) {
                        return Err(Error::OverlappingBundles {
                            first: first.name.clone(),
                            second: second.name.clone(),
                            first_root: a,
                            second_root: b,
                        });
                    }
                }
            }
        }
    }
    Ok(())
}
