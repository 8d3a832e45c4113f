// The host-local store without ranges: the official on-disk format byte for
// byte, the lock, the index and its behaviour when another writer (the Go
// plugin) changes <net>/ behind its back.
import t, { type Test } from 'tap'
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { HostLocalStore, goTrimSpace, isSafePathComponent, reservationKey } from '../../src/ipam/store.js'
import { formatIPText, parseIPText, type IP } from '../../src/netlink/addr.js'

const ip = (s: string): IP => parseIPText(s)!

function tempDataDir (t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'tscni-store-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

async function locked<T> (store: HostLocalStore, fn: () => T): Promise<T> {
  return await store.withLock(fn)
}

const mode = (p: string): number => statSync(p).mode & 0o777

t.test('open creates <dataDir>/<net> (0755) and an empty lock (0750)', async t => {
  const dataDir = tempDataDir(t)
  const store = HostLocalStore.open(dataDir, 'mynet')
  t.teardown(() => store.close())
  t.equal(mode(join(dataDir, 'mynet')), 0o755)
  t.equal(mode(join(dataDir, 'mynet', 'lock')), 0o750)
  t.equal(statSync(join(dataDir, 'mynet', 'lock')).size, 0)
  t.ok(HostLocalStore.exists(dataDir, 'mynet'))
  t.notOk(HostLocalStore.exists(dataDir, 'other'))
  t.throws(() => HostLocalStore.open(dataDir, '..'), /invalid network name/)
  t.throws(() => HostLocalStore.open(dataDir, 'a/b'), /invalid network name/)
})

t.test('reserve: upstream file format, atomic, nothing else in <net>/', async t => {
  const dataDir = tempDataDir(t)
  const store = HostLocalStore.open(dataDir, 'mynet')
  t.teardown(() => store.close())
  await locked(store, () => {
    t.ok(store.reserve('   dummy\n ', 'eth0', ip('10.1.2.2'), 0), 'the id is trimmed')
    t.ok(store.reserve('dummy', 'eth0', ip('2001:db8:1::2'), 1))
    t.notOk(store.reserve('other', 'eth0', ip('10.1.2.2'), 0), 'taken')
  })
  const net = join(dataDir, 'mynet')
  t.equal(readFileSync(join(net, '10.1.2.2'), 'latin1'), 'dummy\r\neth0', '11 bytes, no newline')
  t.equal(mode(join(net, '10.1.2.2')), 0o600)
  t.equal(readFileSync(join(net, '2001:db8:1::2'), 'latin1'), 'dummy\r\neth0')
  t.equal(readFileSync(join(net, 'last_reserved_ip.0'), 'latin1'), '10.1.2.2')
  t.equal(readFileSync(join(net, 'last_reserved_ip.1'), 'latin1'), '2001:db8:1::2')
  t.same(readdirSync(net).sort(), ['10.1.2.2', '2001:db8:1::2', 'last_reserved_ip.0', 'last_reserved_ip.1', 'lock'])
  t.same(readdirSync(join(dataDir, '.tscni')), ['mynet.index'], 'no temp file left behind')
})

t.test('temp files left by a crash are removed when the index is rebuilt, other networks’ are not', async t => {
  const dataDir = tempDataDir(t)
  const store = HostLocalStore.open(dataDir, 'net')
  t.teardown(() => store.close())
  await locked(store, () => { store.reserve('a', 'eth0', ip('10.0.0.2'), 0) })
  for (const f of ['net.999999.1.tmp', 'net.1.tmp', 'net.5.42.tmp', 'net.x.1.2.tmp', 'other.999999.1.tmp']) writeFileSync(join(dataDir, '.tscni', f), 'x')
  writeFileSync(join(dataDir, 'net', '10.0.0.9'), 'go\r\neth0') // a foreign change: the next lock rebuilds
  await locked(store, () => t.notOk(store.lastSync.trusted))
  t.same(readdirSync(join(dataDir, '.tscni')).sort(), ['net.1.tmp', 'net.index', 'net.x.1.2.tmp', 'other.999999.1.tmp'])
})

t.test('lookups and releases, legacy id-only files', async t => {
  const dataDir = tempDataDir(t)
  const store = HostLocalStore.open(dataDir, 'net')
  t.teardown(() => store.close())
  writeFileSync(join(dataDir, 'net', '10.0.0.9'), 'legacy-id') // written by a pre-0.x plugin
  await locked(store, () => {
    store.reserve('a', 'eth0', ip('10.0.0.2'), 0)
    store.reserve('a', 'eth1', ip('10.0.0.3'), 0)
    store.reserve('b', 'eth0', ip('10.0.0.4'), 0)
    t.same(store.getByID('a', 'eth0').map(formatIPText), ['10.0.0.2'])
    t.same(store.getByID('legacy-id', 'eth0').map(formatIPText), ['10.0.0.9'], 'legacy file matched by the id')
    t.ok(store.findByID('a', 'eth1'))
    t.ok(store.findByID('legacy-id', 'whatever'))
    t.notOk(store.findByID('c', 'eth0'))
    t.same(store.releaseByID('a', 'eth0'), ['10.0.0.2'])
    t.same(store.releaseByID('a', 'eth0'), [], 'twice is fine')
    t.same(store.releaseByID('legacy-id', 'eth0'), ['10.0.0.9'], 'legacy DEL')
    t.same(store.releaseByID('nobody', 'eth0'), [], 'unknown id')
    store.release(ip('10.0.0.4'), 'a', 'eth1')
    t.ok(store.findByID('b', 'eth0'), 'release() leaves another attachment’s address alone')
  })
  t.same(readdirSync(join(dataDir, 'net')).sort(), ['10.0.0.3', '10.0.0.4', 'last_reserved_ip.0', 'lock'])
})

t.test('last_reserved_ip is read like Go reads it', async t => {
  const dataDir = tempDataDir(t)
  const store = HostLocalStore.open(dataDir, 'net')
  t.teardown(() => store.close())
  await locked(store, () => t.equal(store.lastReservedIP(0), undefined, 'none yet'))
  writeFileSync(join(dataDir, 'net', 'last_reserved_ip.0'), '10.0.0.5')
  writeFileSync(join(dataDir, 'net', 'last_reserved_ip.1'), '10.0.0.5\n')
  await locked(store, () => {
    t.equal(formatIPText(store.lastReservedIP(0)!), '10.0.0.5')
    t.equal(store.lastReservedIP(1), undefined, 'a trailing newline makes it no address (net.ParseIP without trim)')
  })
})

t.test('restoreLastReserved puts the round-robin positions back', async t => {
  const dataDir = tempDataDir(t)
  const store = HostLocalStore.open(dataDir, 'net')
  t.teardown(() => store.close())
  await locked(store, () => { store.reserve('a', 'eth0', ip('10.0.0.2'), 0) })
  await locked(store, () => {
    const snap = store.lastReservedSnapshot()
    store.reserve('b', 'eth0', ip('10.0.0.3'), 0)
    store.reserve('b', 'eth0', ip('10.0.1.3'), 1)
    store.release(ip('10.0.0.3'), 'b', 'eth0')
    store.release(ip('10.0.1.3'), 'b', 'eth0')
    store.restoreLastReserved(snap)
  })
  t.same(readdirSync(join(dataDir, 'net')).sort(), ['10.0.0.2', 'last_reserved_ip.0', 'lock'])
  t.equal(readFileSync(join(dataDir, 'net', 'last_reserved_ip.0'), 'latin1'), '10.0.0.2')
})

t.test('the index: trusted while <net>/ is as we left it', async t => {
  const dataDir = tempDataDir(t)
  const store = HostLocalStore.open(dataDir, 'net')
  t.teardown(() => store.close())
  await locked(store, () => {
    for (let i = 0; i < 1000; i++) store.reserve(`c${i}`, 'eth0', ip(`10.0.${Math.floor(i / 250)}.${(i % 250) + 2}`), 0)
  })
  await locked(store, () => {
    t.ok(store.lastSync.trusted, 'trusted after our own writes')
    t.equal(store.lastSync.filesRead, 0, 'no reservation file read')
    t.equal(store.reservations().size, 1000)
    t.same(store.getByID('c7', 'eth0').map(formatIPText), ['10.0.0.9'])
  })

  // The Go plugin adds a file (O_EXCL + write) and removes another.
  writeFileSync(join(dataDir, 'net', '10.0.9.9'), 'go-made\r\neth0', { flag: 'wx' })
  unlinkSync(join(dataDir, 'net', '10.0.0.2'))
  await locked(store, () => {
    t.notOk(store.lastSync.trusted, 'a foreign change is noticed')
    t.same(store.getByID('go-made', 'eth0').map(formatIPText), ['10.0.9.9'])
    t.same(store.getByID('c0', 'eth0'), [], 'the removed file is gone from the view')
  })
  await locked(store, () => t.ok(store.lastSync.trusted, 'trusted again once rebuilt'))

  // Replaced: same name, other owner (released by Go, reserved again by Go).
  unlinkSync(join(dataDir, 'net', '10.0.0.5'))
  writeFileSync(join(dataDir, 'net', '10.0.0.5'), 'newcomer\r\neth0', { flag: 'wx' })
  await locked(store, () => {
    t.same(store.getByID('newcomer', 'eth0').map(formatIPText), ['10.0.0.5'], 'the new owner is seen')
    t.same(store.getByID('c3', 'eth0'), [], 'the old owner no longer holds it')
  })

  // A corrupt index is rebuilt from the files.
  writeFileSync(join(dataDir, '.tscni', 'net.index'), '{not json')
  await locked(store, () => {
    t.notOk(store.lastSync.trusted)
    t.equal(store.reservations().size, 1000)
  })
})

t.test('a stale index entry never releases someone else’s address', async t => {
  const dataDir = tempDataDir(t)
  const store = HostLocalStore.open(dataDir, 'net')
  t.teardown(() => store.close())
  await locked(store, () => { store.reserve('a', 'eth0', ip('10.0.0.2'), 0) })
  // Rewritten in place: the directory does not change, so the index stays trusted.
  writeFileSync(join(dataDir, 'net', '10.0.0.2'), 'b\r\neth0')
  await locked(store, () => {
    t.ok(store.lastSync.trusted)
    t.same(store.releaseByID('a', 'eth0'), [], 'content re-read before the unlink')
    t.same(store.getByID('a', 'eth0'), [], 'lookups confirm by reading too')
  })
  t.equal(readFileSync(join(dataDir, 'net', '10.0.0.2'), 'latin1'), 'b\r\neth0')
})

t.test('releaseExcept (GC): keeps valid attachments, lock and last_reserved_ip', async t => {
  const dataDir = tempDataDir(t)
  const store = HostLocalStore.open(dataDir, 'net')
  t.teardown(() => store.close())
  const net = join(dataDir, 'net')
  writeFileSync(join(net, '10.0.0.20'), 'keep-legacy')
  writeFileSync(join(net, '10.0.0.21'), 'gone-legacy')
  writeFileSync(join(net, 'not-an-ip'), 'stale\r\neth0')
  await locked(store, () => {
    store.reserve('keep', 'eth0', ip('10.0.0.2'), 0)
    store.reserve('keep', 'eth1', ip('10.0.0.3'), 0)
    store.reserve('stale', 'eth0', ip('10.0.0.4'), 0)
    const out = store.releaseExcept(new Set([reservationKey('keep', 'eth0'), reservationKey('keep-legacy', 'eth0')]), new Set(['keep', 'keep-legacy']))
    t.same(out.removed.sort(), ['10.0.0.21', '10.0.0.3', '10.0.0.4'])
    t.same(out.errors, [])
  })
  t.same(readdirSync(net).sort(), ['10.0.0.2', '10.0.0.20', 'last_reserved_ip.0', 'lock', 'not-an-ip'])
})

t.test('the lock: waits without blocking the event loop, and excludes flock(1) holders', async t => {
  const dataDir = tempDataDir(t)
  const a = HostLocalStore.open(dataDir, 'net')
  const b = HostLocalStore.open(dataDir, 'net')
  t.teardown(() => { a.close(); b.close() })
  await a.lock()
  let bLocked = false
  const pending = b.lock().then(() => { bLocked = true })
  let ticks = 0
  const timer = setInterval(() => { ticks++ }, 5)
  await new Promise(resolve => setTimeout(resolve, 100))
  t.notOk(bLocked, 'b waits while a holds the lock')
  t.ok(ticks >= 5, `the event loop ran while b waited (${ticks} ticks)`)
  a.unlock()
  await pending
  clearInterval(timer)
  t.ok(bLocked, 'b gets it once a releases it')
  b.unlock()

  // flock(1) takes the same kind of lock go-filemutex takes.
  const holder = spawn('flock', [join(dataDir, 'net', 'lock'), '-c', 'echo held; sleep 0.4'], { stdio: ['ignore', 'pipe', 'inherit'] })
  await new Promise<void>(resolve => holder.stdout.once('data', () => resolve()))
  const start = Date.now()
  await a.lock()
  const waited = Date.now() - start
  a.unlock()
  t.ok(waited >= 250, `waited ${waited} ms for the other process`)
  await new Promise(resolve => holder.once('exit', resolve))
})

t.test('helpers', async t => {
  t.equal(goTrimSpace(' \t\r\n x y \u0085'), 'x y', 'U+0085 is space for Go')
  t.equal(goTrimSpace('\ufeffx'), '\ufeffx', 'U+FEFF is not')
  t.equal(reservationKey('  id ', 'eth0'), 'id\r\neth0')
  for (const bad of ['', '.', '..', 'a/b', '/x', 'a\0b']) t.notOk(isSafePathComponent(bad), JSON.stringify(bad))
  t.ok(isSafePathComponent('my.net-1_x'))
  t.notOk(existsSync('/nonexistent-tscni'), 'sanity')
})

t.test('checkBoot: records the boot; a new boot releases what the index held at our last operation', async t => {
  const dataDir = tempDataDir(t)
  const store = HostLocalStore.open(dataDir, 'net')
  t.teardown(() => store.close())
  await locked(store, () => {
    const first = store.checkBoot('A', true)
    t.same({ previous: first.previous, newBoot: first.newBoot, released: first.released }, { previous: undefined, newBoot: false, released: [] }, 'first use: recorded only')
    store.reserve('a', 'eth0', ip('10.0.0.2'), 0)
    store.reserve('b', 'eth0', ip('10.0.0.3'), 0)
  })
  t.equal(readFileSync(join(dataDir, '.tscni', 'net.boot'), 'utf8'), 'A\n')
  // Written behind our back after our last operation (the Go plugin, maybe in the new boot).
  writeFileSync(join(dataDir, 'net', '10.0.0.9'), 'go\r\neth0')
  // b was released and taken again by someone else with other content: not the earlier boot's.
  unlinkSync(join(dataDir, 'net', '10.0.0.3'))
  writeFileSync(join(dataDir, 'net', '10.0.0.3'), 'other\r\neth0')
  await locked(store, () => {
    t.same(store.preBootReservations('A').names, [], 'same boot: nothing')
    t.same(store.preBootReservations('B').names, ['10.0.0.2'])
    const r = store.checkBoot('B', true)
    t.same({ previous: r.previous, newBoot: r.newBoot, released: r.released, indexed: r.indexed }, { previous: 'A', newBoot: true, released: ['10.0.0.2'], indexed: true })
  })
  t.same(readdirSync(join(dataDir, 'net')).sort(), ['10.0.0.3', '10.0.0.9', 'last_reserved_ip.0', 'lock'])
  t.equal(readFileSync(join(dataDir, '.tscni', 'net.boot'), 'utf8'), 'B\n')

  // Without an index nothing tells what the earlier boot held: nothing is released.
  unlinkSync(join(dataDir, '.tscni', 'net.index'))
  await locked(store, () => {
    const r = store.checkBoot('C', true)
    t.same({ newBoot: r.newBoot, released: r.released, indexed: r.indexed }, { newBoot: true, released: [], indexed: false })
  })
  // reclaim off: recorded, nothing released.
  await locked(store, () => {
    const r = store.checkBoot('D', false)
    t.same({ newBoot: r.newBoot, released: r.released }, { newBoot: true, released: [] })
  })
  t.equal(readFileSync(join(dataDir, '.tscni', 'net.boot'), 'utf8'), 'D\n')
  t.equal(Object.keys(Object.fromEntries(readdirSync(join(dataDir, 'net')).map(n => [n, 1]))).length, 4, 'nothing released')
})

t.test('tryLock gives up after its deadline', async t => {
  const dataDir = tempDataDir(t)
  const a = HostLocalStore.open(dataDir, 'net')
  const b = HostLocalStore.open(dataDir, 'net')
  t.teardown(() => { a.close(); b.close() })
  await a.lock()
  t.equal(await b.tryLock(50), false, 'held by another open file description')
  t.equal(await b.probeLock(50), false, 'probe: not free either')
  a.unlock()
  t.equal(await b.probeLock(50), true, 'probe: free')
  t.equal(await a.tryLock(50), true, 'the probe gave it back at once')
  a.unlock()
  t.equal(await b.tryLock(50), true)
  b.unlock()
})
