//! A word-at-a-time `memcmp` for the component.
//!
//! Rust compares strings and byte slices (`==`, `cmp`, `HashMap` keys, `match` on `&str`)
//! through `memcmp`, and the one wasi-libc links into `wasm32-wasip2` components compares one
//! byte per loop turn. Mods compare ids all day (match ids, player UUIDs, event kinds, world
//! names): a profile of Capture The Zone's `player.tick` under wasmtime put 10 % of the time in
//! that loop, against a vectorised `memcmp` natively. This one compares eight bytes per turn;
//! defining the symbol in the SDK keeps wasi-libc's out of the link.
//!
//! [`compare`] is plain Rust, tested natively against `Ord for [u8]`; only the `memcmp`
//! symbol is wasm-only.

/// `memcmp`'s contract: the sign of the difference of the first differing bytes (as unsigned
/// bytes), or 0 when the first `n` bytes are equal.
///
/// # Safety
/// `a` and `b` must be valid for reads of `n` bytes.
#[inline]
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
pub(crate) unsafe fn compare(a: *const u8, b: *const u8, n: usize) -> i32 {
    let mut i = 0;
    while i + 8 <= n {
        // SAFETY: i + 8 <= n and both are readable for n bytes; no alignment is assumed.
        let (x, y) = unsafe {
            (
                u64::from_le_bytes(a.add(i).cast::<[u8; 8]>().read_unaligned()),
                u64::from_le_bytes(b.add(i).cast::<[u8; 8]>().read_unaligned()),
            )
        };
        if x != y {
            // Little-endian: the lowest differing bits belong to the first differing byte.
            let shift = (x ^ y).trailing_zeros() & !7;
            return ((x >> shift) & 0xff) as i32 - ((y >> shift) & 0xff) as i32;
        }
        i += 8;
    }
    while i < n {
        // SAFETY: i < n.
        let (p, q) = unsafe { (*a.add(i), *b.add(i)) };
        if p != q {
            return i32::from(p) - i32::from(q);
        }
        i += 1;
    }
    0
}

/// The symbol the component's code calls.
///
/// # Safety
/// As for C's `memcmp`.
#[cfg(target_arch = "wasm32")]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn memcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    // SAFETY: forwarded from the caller.
    unsafe { compare(a, b, n) }
}

#[cfg(test)]
mod tests {
    use super::compare;

    fn sign(x: i32) -> std::cmp::Ordering {
        x.cmp(&0)
    }

    #[test]
    fn agrees_with_slice_ordering_at_every_length_and_position() {
        // Every length up to 40 (both word and tail paths), a difference at every position,
        // in both directions, and bytes above 0x7f (unsigned comparison).
        for n in 0..=40usize {
            let a: Vec<u8> = (0..n).map(|i| (i * 37 + 11) as u8).collect();
            assert_eq!(unsafe { compare(a.as_ptr(), a.as_ptr(), n) }, 0);
            for at in 0..n {
                for delta in [1u8, 0x80, 0xff] {
                    let mut b = a.clone();
                    b[at] = b[at].wrapping_add(delta);
                    let got = unsafe { compare(a.as_ptr(), b.as_ptr(), n) };
                    assert_eq!(sign(got), a.cmp(&b), "n={n} at={at} delta={delta}");
                    assert_eq!(got, i32::from(a[at]) - i32::from(b[at]));
                    let back = unsafe { compare(b.as_ptr(), a.as_ptr(), n) };
                    assert_eq!(back, -got);
                }
            }
        }
    }

    #[test]
    fn only_the_first_difference_counts() {
        let a = *b"abcdefgh-12345678-xyz";
        let mut b = a;
        b[3] = b'z'; // a[3] = 'd' < 'z'
        b[12] = b'0'; // a later difference the other way
        assert!(unsafe { compare(a.as_ptr(), b.as_ptr(), a.len()) } < 0);
        // Unaligned starts.
        assert_eq!(
            unsafe { compare(a.as_ptr().add(1), b.as_ptr().add(1), 2) },
            0
        );
        assert!(unsafe { compare(a.as_ptr().add(1), b.as_ptr().add(1), 19) } < 0);
    }
}
