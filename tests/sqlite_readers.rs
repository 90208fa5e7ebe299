//! The SQLite store's read connections and its kept WAL: loads on
//! connections of their own see every commit made before they start, never
//! a half-written record, and never an older version after a newer one; a
//! multi-key load is one snapshot; idle read connections are bounded; the
//! WAL outlives the store (no checkpoint on close) and another process
//! reads every committed record from it. `cargo test --test sqlite_readers`.
//!
//! The other process is this test binary run again in child mode (the
//! ignored test `child_reads_every_record`).
#![cfg(feature = "sqlite")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Barrier, mpsc};

use mail2fa::store::{CasOutcome, SqliteOptions, SqliteStore, Store, Versioned};

mod support;
use support::TempDir;

fn stored(outcome: CasOutcome) -> u64 {
    match outcome {
        CasOutcome::Stored { version } => version,
        CasOutcome::Conflict => panic!("expected the write to happen"),
    }
}

/// A record whose every 8-byte word is `generation` followed by a tail of
/// the key: a load that mixes two writes shows two different words.
fn record(key: &[u8], generation: u64) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(8 * 600 + key.len());
    for _ in 0..600 {
        bytes.extend_from_slice(&generation.to_le_bytes());
    }
    bytes.extend_from_slice(key);
    bytes
}

/// The generation of a record written by [`record`], after checking that
/// it is whole.
fn generation_of(key: &[u8], loaded: &Versioned) -> u64 {
    let bytes = loaded.bytes.as_slice();
    assert_eq!(bytes.len(), 8 * 600 + key.len(), "a torn record");
    assert_eq!(&bytes[8 * 600..], key, "another key's record");
    let first: [u8; 8] = bytes[..8].try_into().unwrap();
    assert!(
        bytes[..8 * 600].chunks(8).all(|word| word == first),
        "a record mixing two writes"
    );
    u64::from_le_bytes(first)
}

#[test]
fn readers_see_every_commit_of_the_writer_across_threads() {
    let dir = TempDir::new("readers-see");
    let store = SqliteStore::create(dir.path("state.db")).unwrap();
    let readers = 4;
    let barrier = Barrier::new(readers + 1);
    let (versions, received) = mpsc::channel::<u64>();
    std::thread::scope(|scope| {
        let store = &store;
        let barrier = &barrier;
        // Each round: the writer commits, then every reader (its own
        // thread, its own read connection) loads, and must see that commit.
        let handles: Vec<_> = (0..readers)
            .map(|_| {
                scope.spawn(move || {
                    let mut seen = 0;
                    for generation in 0..200u64 {
                        barrier.wait();
                        let loaded = store.load(b"k").unwrap().expect("a committed record");
                        assert_eq!(generation_of(b"k", &loaded), generation);
                        seen += 1;
                        barrier.wait();
                    }
                    seen
                })
            })
            .collect();
        let mut expected = None;
        for generation in 0..200u64 {
            let version = stored(
                store
                    .compare_and_swap(b"k", expected, Some(&record(b"k", generation)))
                    .unwrap(),
            );
            versions.send(version).unwrap();
            expected = Some(version);
            barrier.wait();
            barrier.wait();
        }
        for handle in handles {
            assert_eq!(handle.join().unwrap(), 200);
        }
    });
    drop(versions);
    let all: Vec<u64> = received.iter().collect();
    assert!(all.windows(2).all(|pair| pair[0] < pair[1]));
    assert_eq!(
        store.load(b"k").unwrap().unwrap().version,
        *all.last().unwrap()
    );
}

#[test]
fn loads_racing_a_writer_see_whole_records_and_versions_that_only_grow() {
    let dir = TempDir::new("readers-race");
    let store = SqliteStore::create(dir.path("state.db")).unwrap();
    let keys: [&[u8]; 3] = [b"alpha", b"beta", b"gamma"];
    for key in keys {
        stored(
            store
                .compare_and_swap(key, None, Some(&record(key, 0)))
                .unwrap(),
        );
    }
    let done = AtomicBool::new(false);
    let loads = std::thread::scope(|scope| {
        let (store, done) = (&store, &done);
        let readers: Vec<_> = (0..6)
            .map(|_| {
                scope.spawn(move || {
                    let mut last = [None; 3];
                    let mut loads = 0u64;
                    while !done.load(Ordering::Acquire) {
                        for (i, key) in keys.iter().enumerate() {
                            let loaded = store.load(key).unwrap().unwrap();
                            let generation = generation_of(key, &loaded);
                            loads += 1;
                            let Some((version, before)) =
                                last[i].replace((loaded.version, generation))
                            else {
                                continue;
                            };
                            assert!(
                                loaded.version >= version && generation >= before,
                                "went back: version {version} -> {}, generation {before} -> \
                                 {generation}",
                                loaded.version
                            );
                            assert_eq!(
                                loaded.version > version,
                                generation > before,
                                "a new version with old bytes, or new bytes with an old version"
                            );
                        }
                    }
                    loads
                })
            })
            .collect();
        let writer = scope.spawn(move || {
            for generation in 1..=300u64 {
                for key in keys {
                    let current = store.load(key).unwrap().unwrap().version;
                    stored(
                        store
                            .compare_and_swap(key, Some(current), Some(&record(key, generation)))
                            .unwrap(),
                    );
                }
            }
            done.store(true, Ordering::Release);
        });
        writer.join().unwrap();
        readers.into_iter().map(|r| r.join().unwrap()).sum::<u64>()
    });
    assert!(loads > 0, "no load ran");
    for key in keys {
        assert_eq!(generation_of(key, &store.load(key).unwrap().unwrap()), 300);
    }
}

#[test]
fn a_multi_key_load_is_one_snapshot_in_the_order_of_the_keys() {
    let dir = TempDir::new("readers-many");
    let store = SqliteStore::create(dir.path("state.db")).unwrap();
    let (first, second): (&[u8], &[u8]) = (b"first", b"second");
    stored(
        store
            .compare_and_swap(first, None, Some(&record(first, 0)))
            .unwrap(),
    );
    stored(
        store
            .compare_and_swap(second, None, Some(&record(second, 0)))
            .unwrap(),
    );

    // In the order asked, absent keys as None, a key asked twice twice.
    let loaded = store
        .load_many(&[second, b"absent", first, second])
        .unwrap();
    assert_eq!(loaded.len(), 4);
    assert_eq!(generation_of(second, loaded[0].as_ref().unwrap()), 0);
    assert!(loaded[1].is_none());
    assert_eq!(generation_of(first, loaded[2].as_ref().unwrap()), 0);
    assert_eq!(loaded[3], loaded[0]);
    assert!(store.load_many(&[]).unwrap().is_empty());

    // The writer writes `first`, then `second`, with the same generation:
    // any one commit has first == second or first == second + 1. Loads of
    // both in one read transaction must see one of those states — loads
    // one after the other (`second`, then `first`) see `first` several
    // generations ahead now and then.
    let done = AtomicBool::new(false);
    std::thread::scope(|scope| {
        let (store, done) = (&store, &done);
        let readers: Vec<_> = (0..4)
            .map(|_| {
                scope.spawn(move || {
                    let mut snapshots = 0u64;
                    while !done.load(Ordering::Acquire) {
                        // `second` asked first: without a snapshot, `first`
                        // would be read later, and could be far ahead.
                        let both = store.load_many(&[second, first]).unwrap();
                        let s = generation_of(second, both[0].as_ref().unwrap());
                        let f = generation_of(first, both[1].as_ref().unwrap());
                        assert!(
                            f == s || f == s + 1,
                            "not one commit's state: first {f}, second {s}"
                        );
                        snapshots += 1;
                    }
                    snapshots
                })
            })
            .collect();
        for generation in 1..=300u64 {
            for key in [first, second] {
                let current = store.load(key).unwrap().unwrap().version;
                stored(
                    store
                        .compare_and_swap(key, Some(current), Some(&record(key, generation)))
                        .unwrap(),
                );
            }
        }
        done.store(true, Ordering::Release);
        for reader in readers {
            assert!(reader.join().unwrap() > 0);
        }
    });
}

/// The open file descriptors of this process on `path` itself (not its
/// `-wal` or `-shm`): one per open connection, and the descriptors of
/// closed ones that SQLite keeps (for the next connection) while the
/// process holds locks on the file through another.
fn connections_to(path: &Path) -> usize {
    let path = path.canonicalize().unwrap();
    std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .filter_map(|entry| std::fs::read_link(entry.ok()?.path()).ok())
        .filter(|target| *target == path)
        .count()
}

#[test]
fn idle_read_connections_are_bounded() {
    if !Path::new("/proc/self/fd").is_dir() {
        eprintln!("SKIPPED: needs /proc/self/fd to count connections");
        return;
    }
    let dir = TempDir::new("readers-bound");
    let path = dir.path("state.db");
    drop(SqliteStore::create(&path).unwrap());
    let options = SqliteOptions::default().with_idle_readers(2);
    let store = SqliteStore::open_with(&path, &options).unwrap();
    stored(store.compare_and_swap(b"k", None, Some(b"v")).unwrap());
    assert_eq!(
        connections_to(&path),
        1,
        "the writer; readers come on demand"
    );
    let threads = 16;
    for round in 0..5 {
        let barrier = Barrier::new(threads);
        std::thread::scope(|scope| {
            for _ in 0..threads {
                scope.spawn(|| {
                    barrier.wait();
                    for _ in 0..200 {
                        assert_eq!(store.load(b"k").unwrap().unwrap().bytes.as_slice(), b"v");
                    }
                });
            }
        });
        // (The exact number of idle connections, 2 here, is checked by the
        // pool's own test: the descriptors of the others are kept by SQLite.)
        let open = connections_to(&path);
        assert!(
            (2..=1 + threads).contains(&open),
            "round {round}: {open} descriptors, more than the writer and one per thread"
        );
    }
    // Many more loads, one thread: nothing more is opened.
    let before = connections_to(&path);
    for _ in 0..1_000 {
        store.load(b"k").unwrap();
    }
    assert_eq!(connections_to(&path), before);
    drop(store);
    assert_eq!(connections_to(&path), 0, "all closed with the store");
}

/// Reads every record of `M2FA_DB` and prints `key version length`.
#[test]
#[ignore = "run by the_wal_outlives_the_store_and_another_process_reads_it"]
fn child_reads_every_record() {
    let store = SqliteStore::open(std::env::var("M2FA_DB").unwrap()).unwrap();
    for (key, record) in store.scan(None, usize::MAX).unwrap() {
        let loaded = store.load(&key).unwrap().unwrap();
        assert_eq!(loaded, record);
        println!(
            "read: {} {} {}",
            String::from_utf8(key).unwrap(),
            loaded.version,
            loaded.bytes.len()
        );
    }
}

#[test]
fn the_wal_outlives_the_store_and_another_process_reads_it() {
    let dir = TempDir::new("readers-wal");
    let path = dir.path("state.db");
    let wal = dir.path("state.db-wal");
    drop(SqliteStore::create(&path).unwrap());
    let store = SqliteStore::open(&path).unwrap();
    let mut written = Vec::new();
    for n in 0..50u64 {
        let key = format!("key-{n:02}");
        let version = stored(
            store
                .compare_and_swap(key.as_bytes(), None, Some(&record(key.as_bytes(), n)))
                .unwrap(),
        );
        written.push(format!("read: {key} {version} {}", 8 * 600 + key.len()));
    }
    store.load(b"key-00").unwrap().unwrap();
    drop(store);
    // Closed without a checkpoint: the commits are in the WAL, not yet in
    // the database file.
    let in_wal = std::fs::read(&wal).expect("the WAL was deleted on close");
    let in_database = std::fs::read(&path).unwrap();
    // The record's tail (a 4.8 kB record spans pages): its last word and
    // its key.
    let marker = &record(b"key-49", 49)[8 * 599..];
    assert!(in_wal.windows(marker.len()).any(|w| w == marker));
    assert!(!in_database.windows(marker.len()).any(|w| w == marker));

    let output = Command::new(std::env::current_exe().unwrap())
        .args([
            "--ignored",
            "--exact",
            "child_reads_every_record",
            "--nocapture",
        ])
        .env("M2FA_DB", &path)
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let text = String::from_utf8(output.stdout).unwrap();
    let read: Vec<&str> = text
        .lines()
        .filter_map(|line| line.find("read: ").map(|at| &line[at..]))
        .collect();
    assert_eq!(read, written);
    assert!(wal.exists(), "the child's close kept the WAL too");

    // The scrub still empties it.
    let store = SqliteStore::open(&path).unwrap();
    store.scrub().unwrap();
    assert_eq!(std::fs::metadata(&wal).unwrap().len(), 0);
    drop(store);
    let in_database = std::fs::read(&path).unwrap();
    assert!(in_database.windows(marker.len()).any(|w| w == marker));
}

/// The WAL is kept when a store closes: a database deleted without it
/// leaves it behind, and a new database beside it would receive its pages.
/// Creating one there is refused, with the files to move.
#[test]
fn a_new_database_beside_another_ones_journal_is_refused() {
    let dir = TempDir::new("stale-wal");
    let path = dir.path("state.db");
    let store = SqliteStore::create(&path).unwrap();
    stored(
        store
            .compare_and_swap(b"k", None, Some(b"old secret"))
            .unwrap(),
    );
    drop(store);
    let wal = dir.path("state.db-wal");
    assert!(
        std::fs::metadata(&wal).unwrap().len() > 0,
        "the WAL is kept"
    );
    std::fs::remove_file(&path).unwrap();
    let refused = SqliteStore::create(&path).unwrap_err().to_string();
    assert!(
        refused.contains("holds the journal of another database") && refused.contains("-wal"),
        "{refused}"
    );
    // Moved away with its -shm, the database is created.
    std::fs::remove_file(&wal).unwrap();
    let _ = std::fs::remove_file(dir.path("state.db-shm"));
    let store = SqliteStore::create(&path).unwrap();
    assert_eq!(store.load(b"k").unwrap(), None);
}

/// A database file replaced under a running store (a restore without a
/// restart) is never written to: the write is refused, the new file keeps
/// what it had.
#[test]
fn a_replaced_database_file_refuses_writes() {
    let dir = TempDir::new("replaced-db");
    let path = dir.path("state.db");
    let store = SqliteStore::create(&path).unwrap();
    let version = stored(store.compare_and_swap(b"k", None, Some(b"one")).unwrap());
    let other = dir.path("other.db");
    let replacement = SqliteStore::create(&other).unwrap();
    stored(
        replacement
            .compare_and_swap(b"k", None, Some(b"theirs"))
            .unwrap(),
    );
    replacement.scrub().unwrap();
    drop(replacement);
    std::fs::rename(&other, &path).unwrap();
    let refused = store
        .compare_and_swap(b"k", Some(version), Some(b"two"))
        .unwrap_err()
        .to_string();
    assert!(
        refused.contains("no longer the file this store opened"),
        "{refused}"
    );
    let refused = store
        .compare_and_swap_relaxed(b"k", Some(version), Some(b"two"))
        .unwrap_err()
        .to_string();
    assert!(
        refused.contains("no longer the file this store opened"),
        "{refused}"
    );
}
