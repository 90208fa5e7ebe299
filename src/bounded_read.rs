//! Reading a small file whole into memory wiped on drop: key files, the
//! configuration and the secret files it names.

use std::io::Read;

use zeroize::Zeroizing;

/// Reads all of `file` into one buffer that is never reallocated (so no
/// unwiped copy of a secret is left behind) and is wiped on drop. `None`
/// when it holds more than `max` bytes: one byte more is read, to see a
/// file that grew after its size was checked.
pub(crate) fn read_wiped(
    file: &mut impl Read,
    max: usize,
) -> std::io::Result<Option<Zeroizing<Vec<u8>>>> {
    let mut buffer = Zeroizing::new(vec![0u8; max + 1]);
    let mut used = 0;
    while used <= max {
        match file.read(&mut buffer[used..]) {
            Ok(0) => break,
            Ok(read) => used += read,
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => {}
            Err(error) => return Err(error),
        }
    }
    if used > max {
        return Ok(None);
    }
    buffer.truncate(used);
    Ok(Some(buffer))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads in small pieces, and is interrupted once, as a pipe may be.
    struct Trickle<'a> {
        data: &'a [u8],
        interrupted: bool,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if !self.interrupted {
                self.interrupted = true;
                return Err(std::io::ErrorKind::Interrupted.into());
            }
            let n = buf.len().min(self.data.len()).min(3);
            buf[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            Ok(n)
        }
    }

    #[test]
    fn reads_up_to_max_and_refuses_more() {
        let read = |data: &[u8], max| {
            let mut file = Trickle {
                data,
                interrupted: false,
            };
            read_wiped(&mut file, max).unwrap().map(|b| b.to_vec())
        };
        assert_eq!(read(b"", 4), Some(vec![]));
        assert_eq!(read(b"abcd", 4), Some(b"abcd".to_vec()));
        assert_eq!(read(b"abcde", 4), None);
        assert_eq!(read(b"abcdefghij", 4), None);
    }
}
