//! The component's global allocator: free lists for small blocks in front of the system one.
//!
//! A rules mod allocates and frees many small, short-lived blocks per callback (the strings of
//! every game event, parsed JSON, HUD text); so does the canonical ABI, which allocates every
//! string the host passes in through the same allocator. wasi-libc's dlmalloc costs several
//! times glibc's `malloc` for them: a profile of Capture The Zone's `player.tick` put 14 % of
//! the guest time in `malloc`/`free`. Here a block of up to 512 bytes goes back to a free list
//! of its size class when freed and is handed out again by the next allocation of that class,
//! without searching or coalescing; larger blocks go straight to dlmalloc. Freed small blocks
//! stay in their class (an instance serves one match and then ends, so that memory is not
//! missed). Components are single-threaded, which is why the lists need no lock.
//!
//! It is on with the SDK's default `small-object-allocator` feature; a mod that brings its own
//! `#[global_allocator]` turns the feature off.

#![cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]

use core::alloc::{GlobalAlloc, Layout};
use core::cell::UnsafeCell;
use std::alloc::System;

/// Block sizes; a request takes the smallest class that fits it.
const CLASSES: [usize; 10] = [8, 16, 24, 32, 48, 64, 96, 128, 256, 512];
/// Blocks are aligned to this, which covers every type a Rust mod allocates on wasm32.
const ALIGN: usize = 16;

/// The size class of a request, if it has one.
#[inline]
pub(crate) fn class_of(layout: Layout) -> Option<usize> {
    if layout.align() > ALIGN || layout.size() > CLASSES[CLASSES.len() - 1] {
        return None;
    }
    CLASSES.iter().position(|&size| layout.size() <= size)
}

pub struct SmallObjectAllocator {
    /// The head of each class's free list; a free block's first word points to the next.
    free: UnsafeCell<[*mut u8; CLASSES.len()]>,
}

// SAFETY: wasm32 components run on one thread (there is no `std::thread::spawn` on wasip2 and
// the component model gives an instance one thread), so the lists are never shared.
unsafe impl Sync for SmallObjectAllocator {}

impl SmallObjectAllocator {
    pub const fn new() -> Self {
        Self {
            free: UnsafeCell::new([core::ptr::null_mut(); CLASSES.len()]),
        }
    }
}

impl Default for SmallObjectAllocator {
    fn default() -> Self {
        Self::new()
    }
}

// SAFETY: every block handed out is at least `layout.size()` bytes, aligned to `ALIGN` (or to
// the layout's own alignment on the system path), and a block is on a free list only after
// `dealloc` with a layout of its own class (`realloc` keeps a block only within its class).
unsafe impl GlobalAlloc for SmallObjectAllocator {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let Some(class) = class_of(layout) else {
            // SAFETY: forwarded.
            return unsafe { System.alloc(layout) };
        };
        // SAFETY: single-threaded (see `Sync`), and no reference into the array outlives this.
        let free = unsafe { &mut *self.free.get() };
        let head = free[class];
        if head.is_null() {
            // SAFETY: a non-zero size with a valid alignment.
            unsafe { System.alloc(Layout::from_size_align_unchecked(CLASSES[class], ALIGN)) }
        } else {
            // SAFETY: a free block's first word holds the next free block.
            free[class] = unsafe { head.cast::<*mut u8>().read() };
            head
        }
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        let Some(class) = class_of(layout) else {
            // SAFETY: forwarded; it came from `System` with this layout.
            return unsafe { System.dealloc(ptr, layout) };
        };
        // SAFETY: as in `alloc`; the block is at least 8 bytes and 16-aligned, so it can hold
        // the link.
        let free = unsafe { &mut *self.free.get() };
        unsafe { ptr.cast::<*mut u8>().write(free[class]) };
        free[class] = ptr;
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller guarantees a valid layout for the new size.
        let new = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        match (class_of(layout), class_of(new)) {
            // Both large: dlmalloc can often grow in place.
            // SAFETY: forwarded.
            (None, None) => unsafe { System.realloc(ptr, layout, new_size) },
            // Same class: the block is already right. (A block kept for a smaller class would
            // later be freed into that class's list and never come back to its own.)
            (Some(old), Some(fits)) if fits == old => ptr,
            _ => {
                // SAFETY: a fresh block, then the old one's bytes, then the old one freed.
                unsafe {
                    let block = self.alloc(new);
                    if !block.is_null() {
                        core::ptr::copy_nonoverlapping(ptr, block, layout.size().min(new_size));
                        self.dealloc(ptr, layout);
                    }
                    block
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_takes_the_smallest_class_that_fits_and_big_or_overaligned_ones_none() {
        let class = |size, align| class_of(Layout::from_size_align(size, align).unwrap());
        assert_eq!(class(1, 1), Some(0));
        assert_eq!(class(8, 8), Some(0));
        assert_eq!(class(9, 1), Some(1));
        assert_eq!(class(36, 1), Some(4), "a UUID string: the 48-byte class");
        assert_eq!(class(512, 16), Some(9));
        assert_eq!(class(513, 1), None);
        assert_eq!(class(16, 32), None);
    }

    #[test]
    fn freed_blocks_are_reused_by_their_class_and_keep_their_contents_apart() {
        let a = SmallObjectAllocator::new();
        let layout = Layout::from_size_align(40, 8).unwrap();
        unsafe {
            let x = a.alloc(layout);
            let y = a.alloc(layout);
            assert_ne!(x, y);
            assert_eq!(x as usize % ALIGN, 0);
            x.write_bytes(0xaa, 40);
            y.write_bytes(0xbb, 40);
            a.dealloc(x, layout);
            // The same class gets the freed block back; another class does not.
            let other = a.alloc(Layout::from_size_align(100, 8).unwrap());
            assert_ne!(other, x);
            let z = a.alloc(Layout::from_size_align(33, 1).unwrap());
            assert_eq!(z, x);
            assert_eq!(*y.add(39), 0xbb);
            // Growing past the class moves the bytes; shrinking within it stays put.
            z.write_bytes(0x11, 33);
            let grown = a.realloc(z, Layout::from_size_align(33, 1).unwrap(), 200);
            assert_ne!(grown, z);
            assert!((0..33).all(|i| *grown.add(i) == 0x11));
            let same = a.realloc(grown, Layout::from_size_align(200, 1).unwrap(), 150);
            assert_eq!(same, grown, "150 bytes are in the 256 class too");
            // Shrinking into a smaller class moves to a block of that class.
            let small = a.alloc(Layout::from_size_align(300, 1).unwrap());
            small.write_bytes(0x22, 300);
            let shrunk = a.realloc(small, Layout::from_size_align(300, 1).unwrap(), 8);
            assert_ne!(shrunk, small);
            assert!((0..8).all(|i| *shrunk.add(i) == 0x22));
            let reused = a.alloc(Layout::from_size_align(400, 1).unwrap());
            assert_eq!(reused, small, "the 512 block went back to its own class");
            a.dealloc(reused, Layout::from_size_align(400, 1).unwrap());
            a.dealloc(shrunk, Layout::from_size_align(8, 1).unwrap());
            let big = a.realloc(same, Layout::from_size_align(150, 1).unwrap(), 4096);
            assert!((0..33).all(|i| *big.add(i) == 0x11));
            a.dealloc(big, Layout::from_size_align(4096, 1).unwrap());
            a.dealloc(y, layout);
            a.dealloc(other, Layout::from_size_align(100, 8).unwrap());
        }
    }
}
